"""Before time starts: check that config and trace fit, build the static column tables and run the
functional units over every batch of the trace (their costs do not depend on when a batch runs).

Produces one :class:`ClusterWork` per PE cluster (each EGRU layer, plus the decoder): per step
the cycles of its phases and the channel time it needs, and the action counts behind them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.config.schema import ArchConfig
from accelsim.errors import InputError
from accelsim.trace.format import Trace
from accelsim.trace.stats import layer_macs_dense
from accelsim.units import pe_array, update_unit
from accelsim.units.weight_sram import ColumnTables, column_tables


@dataclass
class PhaseWork:
    """All T batches of one phase kind (input columns, recurrent columns or decoder columns)."""

    cycles: np.ndarray        # int64 (T,)
    dram_hold: np.ndarray     # int64 (T,) cycles the DRAM channel is held (0: not requested)
    stats: np.ndarray         # int64 (N_STATS,) totals, slots in accelsim.units.pe_array
    pe_macs: np.ndarray       # int64 (P,)
    bank_words: np.ndarray    # int64 (B,) words read from each weight SRAM bank


@dataclass
class ClusterWork:
    name: str                 # "layer0", ..., "decoder"
    hidden_size: int          # H (units updated per step); decoder: 0 (no update unit)
    phases: list[PhaseWork]   # X then R for a layer; one phase for the decoder
    update_cycles: np.ndarray | None   # int64 (T,)
    emitted: np.ndarray       # int64 (T,) events the encoder emits per step (all H when dense)
    trace_events: int         # events of this layer in the trace
    macs_dense: int
    stored_bytes: int


def _phase(config: ArchConfig, tables: ColumnTables, step_ptr, step_units, col_offset: int,
           dense_cols: int) -> PhaseWork:
    c = config
    dur, hold, stats, pe, banks = pe_array.pe_phases(
        np.ascontiguousarray(step_ptr, dtype=np.int64), np.ascontiguousarray(step_units, dtype=np.int64),
        int(col_offset), int(dense_cols), tables.bank_words, tables.pe_work, tables.weight_bits,
        tables.metadata_bits, tables.dram_bytes, tables.dram_cycles, tables.conflict_cycles,
        c.dispatcher.events_per_cycle, c.dispatcher.pointer_read_cycles,
        c.weight_sram.read_latency_cycles, c.pe.fifo_depth, c.pe.mac_lanes,
        c.pe.mac_latency_cycles, c.dram.latency_cycles)
    return PhaseWork(dur, hold, stats, pe, banks)


def check_fit(config: ArchConfig, trace: Trace, tokens: int | None) -> int:
    """Config/trace compatibility and the token count to simulate (InputError otherwise)."""
    src = trace.path or "trace"
    if trace.steps == 0:
        raise InputError(f"{src}: the trace has no tokens (zero-length trace); nothing to simulate")
    if tokens is None:
        tokens = trace.steps
    if tokens <= 0:
        raise InputError(f"--tokens must be a positive integer (got {tokens})")
    if tokens > trace.steps:
        raise InputError(f"--tokens {tokens} is beyond the trace: {src} has {trace.steps} tokens")
    if config.include_decoder and trace.decoder_weight is None:
        raise InputError(f"{src}: config asks for include_decoder: true but the trace carries no "
                         f"decoder.weight; set include_decoder: false or use a trace with a decoder")
    for i, l in enumerate(trace.layers):
        if l.weight.shape != (3 * l.hidden_size, l.input_size + l.hidden_size):
            raise InputError(f"{src}: layer {i} weight shape {l.weight.shape} does not match "
                             f"3H x (n_in + H) = {3 * l.hidden_size} x {l.input_size + l.hidden_size}")
    return tokens


def prepare(config: ArchConfig, trace: Trace) -> list[ClusterWork]:
    """Run the functional units over every batch of ``trace`` (already cut to the tokens)."""
    T = trace.steps
    dense_act = not config.skip_activity
    work: list[ClusterWork] = []
    for i, layer in enumerate(trace.layers):
        tables = column_tables(config, layer.weight)
        n_in, H = layer.input_size, layer.hidden_size
        ev = layer.events
        # input columns: layer 0 reads the dense embedding (every column, every step)
        if i == 0:
            x = _phase(config, tables, np.zeros(T + 1, np.int64), np.zeros(0, np.int64), 0, n_in)
        else:
            below = trace.layers[i - 1].events
            x = _phase(config, tables, below.indptr, below.indices, 0, 0 if not dense_act else n_in)
        # recurrent columns at step t: this layer's events of step t-1 (none at t = 0)
        rec_ptr = np.concatenate(([0], ev.indptr[:-1])).astype(np.int64)
        r = _phase(config, tables, rec_ptr, ev.indices, n_in, 0 if not dense_act else H)
        u = update_unit.update_phases(ev.indptr.astype(np.int64), ev.indices.astype(np.int64), H,
                                      dense_act, config.update_unit.lanes,
                                      config.update_unit.latency_cycles,
                                      config.update_unit.encoder_events_per_cycle)
        emitted = np.full(T, H, np.int64) if dense_act else ev.counts()
        work.append(ClusterWork(f"layer{i}", H, [x, r], u, emitted, int(ev.indptr[-1]),
                                layer_macs_dense(trace.layers[i], T), tables.stored_bytes))
    if config.include_decoder:
        dec = trace.decoder_weight
        tables = column_tables(config, dec)
        last = trace.layers[-1].events
        H_last = trace.layers[-1].hidden_size
        d = _phase(config, tables, last.indptr, last.indices, 0, H_last if dense_act else 0)
        work.append(ClusterWork("decoder", 0, [d], None, np.zeros(T, np.int64), 0,
                                T * H_last * dec.shape[0], tables.stored_bytes))
    _check_capacity(config, work)
    return work


def _check_capacity(config: ArchConfig, work: list[ClusterWork]) -> None:
    """On-chip mode needs the compressed weights to fit; we refuse rather than silently stream."""
    if config.weight_storage != "sram":
        return
    cap = config.weight_sram.capacity_bytes
    groups = [[w] for w in work] if config.mapping == "spatial" else [work]
    for g in groups:
        need = sum(w.stored_bytes for w in g)
        if need > cap:
            who = g[0].name if len(g) == 1 else "all layers (temporal mapping shares one cluster)"
            raise InputError(
                f"weight_sram.capacity_bytes ({cap}) is too small for {who}: the "
                f"{config.weight_format} weights need {need} bytes on chip; raise the capacity, "
                f"use a sparser trace or set weight_storage: dram to stream columns from DRAM")
