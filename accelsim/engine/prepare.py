"""Before time starts: check that config and trace fit, build the static column tables and run the
functional units over every batch of the trace (their costs do not depend on when a batch runs).

Produces one :class:`ClusterWork` per PE cluster (each EGRU layer, plus the decoder): per step
the cycles of its phases and the channel time it needs, and the action counts behind them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from accelsim.config.limits import check_memory
from accelsim.config.schema import ArchConfig
from accelsim.errors import InputError
from accelsim.trace.format import CSC, Trace
from accelsim.trace.stats import layer_macs_dense
from accelsim.units import pe_array, update_unit
from accelsim.units.weight_sram import ColumnTables, column_tables, extra_entries


@dataclass
class PhaseWork:
    """All T batches of one phase kind (input columns, recurrent columns or decoder columns)."""

    cycles: np.ndarray        # int64 (T,)
    dram_hold: np.ndarray     # int64 (T,) cycles the DRAM channel is held (0: not requested)
    stats: np.ndarray         # int64 (N_STATS,) totals, slots in accelsim.units.pe_array
    pe_macs: np.ndarray       # int64 (P,)
    bank_words: np.ndarray    # int64 (B,) words read from each weight SRAM bank
    # what the units were fed: step t fetched the table columns ``columns(t)`` (see there)
    step_ptr: np.ndarray | None = None
    step_units: np.ndarray | None = None
    col_offset: int = 0
    dense_cols: int = 0
    # burst arbitration of the DRAM channel (``shared_channel``): the engine re-runs each phase
    # against the shared channel, so it keeps the tables and mechanisms the units were fed
    tables: ColumnTables | None = None
    mech: "_Mechanisms | None" = None

    def columns(self, t: int) -> np.ndarray:
        """The table columns (entries) this phase fetched at step ``t``, in dispatch order:
        exactly the list the timing model costed (pseudo-columns of the bias and end markers
        included, numbered from ``n_in + H``)."""
        if self.dense_cols:
            return np.arange(self.col_offset, self.col_offset + self.dense_cols, dtype=np.int64)
        lo, hi = int(self.step_ptr[t]), int(self.step_ptr[t + 1])
        return self.col_offset + np.asarray(self.step_units[lo:hi], dtype=np.int64)


@dataclass
class ClusterWork:
    name: str                 # "layer0", ..., "decoder"
    hidden_size: int          # H (units updated per step); decoder: 0 (no update unit)
    phases: list[PhaseWork]   # X then R (separate), XR (single stream); one phase for the decoder
    update_cycles: np.ndarray | None   # int64 (T,)
    emitted: np.ndarray       # int64 (T,) events the encoder emits per step (all H when dense)
    trace_events: int         # events of this layer in the trace
    macs_dense: int
    stored_bytes: int
    phase_names: tuple[str, ...] = ("x", "r")   # per phase, as in the per-step output
    # streaming events: the units the encoder sends into the next queue at step t,
    # send_units[send_ptr[t]:send_ptr[t+1]] (None: every unit, activity skipping off): its
    # events, or the next layer's x_events where the trace gives them; decoder: None
    send_ptr: np.ndarray | None = None
    send_units: np.ndarray | None = None


# Pseudo-columns appended to a layer's column table by the delta-design mechanisms:
# bias column, end marker of the input part, end marker of the state part.
_BIAS, _X_MARKER, _H_MARKER = 0, 1, 2


@dataclass(frozen=True)
class _Mechanisms:
    """Per-phase arguments of the delta-design mechanisms (all off: today's kernel behaviour)."""

    scan_visible: np.ndarray  # int64 (cols,) or empty
    floor_cycles: int
    n_real_cols: int
    marker_cycles: int
    on_dispatch: bool
    restart_bubble_cycles: int
    cut_through: bool
    staging_bytes: int = 0        # bounded DRAM path (0: unbounded)
    max_outstanding: int = 0


def _plain_mechanisms(config: ArchConfig, n_cols: int) -> _Mechanisms:
    d = config.dram
    streamed = config.weight_storage == "dram"   # with weights on chip there is no weight stream
    return _Mechanisms(np.zeros(0, np.int64), 0, n_cols, 0, streamed and d.issue == "on_dispatch",
                       d.restart_bubble_cycles, streamed and d.delivery == "cut_through",
                       (d.staging_buffer_bytes or 0) if streamed else 0,
                       (d.max_outstanding or 0) if streamed else 0)


def shared_channel(config: ArchConfig) -> bool:
    """Burst arbitration with more than one cluster that may stream at the same time: the engine
    runs the phases against the shared channel. (Temporal mapping runs one layer-step at a time,
    so its channel has one user and the two arbitrations are the same.)"""
    return (config.weight_storage == "dram" and config.dram.arbitration == "burst"
            and config.mapping == "spatial")


def largest_stored_column(config: ArchConfig, trace: Trace) -> tuple[int, str]:
    """Bytes of the largest column the design stores in DRAM (of any layer, its bias column, or
    the decoder; as it arrives: whole bursts), and which column that is."""
    src = trace.path or "trace"
    mats = [(f"layer {i}", _with_bias_column(l) if config.bias_column else l.weight,
             config.bias_column) for i, l in enumerate(trace.layers)]
    if config.include_decoder and trace.decoder_weight is not None:
        mats.append(("the decoder", trace.decoder_weight, False))
    need, where = 0, ""
    for who, weight, bias in mats:
        t = column_tables(config, weight, f"{src}: {who}", last_is_bias=bias)
        if t.n_cols and int(t.dram_bytes.max()) > need:
            j = int(np.argmax(t.dram_bytes))
            need = int(t.dram_bytes[j])
            where = f"the bias column of {who}" if bias and j == t.n_cols - 1 else f"column {j} of {who}"
    return need, where


def check_staging(config: ArchConfig, trace: Trace) -> None:
    """A staging buffer must hold the largest column the design stores: the refusal names it."""
    cap = config.dram.staging_buffer_bytes
    if cap is None or config.weight_storage != "dram":
        return
    need, where = largest_stored_column(config, trace)
    if need > cap:
        raise InputError(
            f"dram.staging_buffer_bytes ({cap}) cannot hold one column: the largest, {where}, is "
            f"{need} bytes in DRAM ({config.weight_format}, whole {config.dram.burst_bytes}-byte "
            f"bursts); set it to at least {need}, or null for an unbounded buffer")


def check_streaming(config: ArchConfig, trace: Trace | None = None) -> None:
    """Streaming events need a consumer that can start on a producer's first events: refused,
    in one line, where the design has none or where streaming is not modelled (the trace's part
    of the rule only when a trace is given)."""
    if not config.event_queue.streaming:
        return
    why = None
    if config.mapping != "spatial":
        why = ("needs mapping: spatial (in temporal mapping one cluster runs each layer-step "
               "whole, so no layer can start on another's first events)")
    elif config.update_unit.timing != "pipelined":
        why = "needs update_unit.timing: pipelined (grouped timing does not say when each event leaves)"
    elif _delta_design(config):
        why = ("is not modelled with event_scan.enabled, bias_column or phases: single (an input "
               "phase that scans a vector, or mixes the queue's events with a bias or state columns)")
    elif shared_channel(config):
        why = "is not modelled with dram.arbitration: burst; use dram.arbitration: phase"
    elif trace is not None and config.skip_activity:
        for i in range(1, len(trace.layers)):
            if not _reads_the_layer_below(trace, i):
                why = (f"needs each layer to read the events of the layer below: layer {i} of "
                       f"{trace.path or 'the trace'} reads other x_events")
                break
    if why:
        raise InputError(f"event_queue.streaming: true {why}")


def _reads_the_layer_below(trace: Trace, i: int) -> bool:
    """Are layer ``i``'s input columns the events of layer ``i - 1``, step by step? Its
    ``x_events`` (v2) must equal them, except on the trace's last step, where a v2 trace's
    ``events`` are empty by convention (``events[t] = h_events[t + 1]``)."""
    x = trace.layers[i].x_events
    if x is None:
        return True
    below = trace.layers[i - 1].events
    T = trace.steps
    m = T - 1 if below.indptr[T] == below.indptr[T - 1] else T
    n = int(below.indptr[m])
    return bool(np.array_equal(x.indptr[:m + 1], below.indptr[:m + 1])
                and np.array_equal(x.indices[:n], below.indices[:n]))


def _phase(config: ArchConfig, tables: ColumnTables, step_ptr, step_units, col_offset: int,
           dense_cols: int, mech: _Mechanisms | None = None) -> PhaseWork:
    c = config
    if mech is None:
        mech = _plain_mechanisms(config, tables.n_cols)
    dur, hold, stats, pe, banks = pe_array.pe_phases(
        np.ascontiguousarray(step_ptr, dtype=np.int64), np.ascontiguousarray(step_units, dtype=np.int64),
        int(col_offset), int(dense_cols), tables.bank_words, tables.pe_work, tables.weight_read_bits,
        tables.metadata_read_bits, tables.dram_bytes, tables.dram_cycles, tables.conflict_cycles,
        c.dispatcher.events_per_cycle, c.dispatcher.pointer_read_cycles,
        c.weight_sram.read_latency_cycles, c.pe.fifo_depth, c.pe.mac_lanes,
        c.pe.mac_latency_cycles, c.dram.latency_cycles, mech.scan_visible, int(mech.floor_cycles),
        int(mech.n_real_cols), int(mech.marker_cycles), bool(mech.on_dispatch),
        int(mech.restart_bubble_cycles), bool(mech.cut_through), int(mech.staging_bytes),
        int(mech.max_outstanding))
    # keep the inputs as given (views of the trace's arrays, not the kernel's int64 copies)
    keep = shared_channel(config) or config.event_queue.streaming
    return PhaseWork(dur, hold, stats, pe, banks, step_ptr, step_units, int(col_offset), int(dense_cols),
                     tables if keep else None, mech if keep else None)


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
    need = estimate_run_bytes(config, trace, tokens)
    check_memory(need, f"{src}: simulating {tokens:,} tokens on {config.name}",
                 "simulate fewer --tokens, or fewer pe.count / weight_sram.banks")
    return tokens


def _steps_entries(events, T: int) -> int:
    """Entries of the first ``T`` steps of an Events."""
    return int(events.indptr[min(T, events.steps)])


def estimate_run_bytes(config: ArchConfig, trace: Trace, tokens: int) -> int:
    """Bytes a run of ``tokens`` tokens allocates at its peak, estimated from the sizes alone
    (before anything is allocated): per layer the per-column tables (columns x (P + B) 64-bit
    entries and their temporaries, freed before the next layer; csc_relative's padding entries
    count as nonzeros), the per-entry step lists of the delta-design path, the per-step arrays
    every layer keeps (cycles, DRAM holds, update cycles, events out), and the PE-array scratch
    (P x FIFO depth slots); with burst arbitration every cluster's tables stay for the run, with
    the shared channel's copies and scratch; with streaming events, each queued event's push and
    pop cycles. An upper estimate: Python overheads and the SimPy
    processes (a few per cluster) are small beside these."""
    P, B, F = config.pe.count, config.weight_sram.banks, config.pe.fifo_depth
    T = int(tokens)
    dense = not config.skip_activity
    delta = _delta_design(config)
    n_phases = 1 if delta and config.phases == "single" else 2
    shared = shared_channel(config)
    word = 8
    kept = 0
    peak_layer = 0
    for i, l in enumerate(trace.layers):
        n_in, H = l.input_size, l.hidden_size
        cols = n_in + H + 3
        nnz = l.weight.nnz + 3 * H
        nnz += extra_entries(config, 3 * H, cols)
        tables = cols * (4 * P + 6 * B + 8) * word + nnz * 6 * word
        entries = 0
        if delta:
            if dense or (i == 0 and l.x_events is None):
                x = T * n_in
            elif l.x_events is not None:
                x = _steps_entries(l.x_events, T)
            else:
                x = _steps_entries(trace.layers[i - 1].events, T)
            if dense:
                h = T * H
            else:
                h = _steps_entries(l.h_events if l.h_events is not None else l.events, T)
            entries = (x + h + 3 * T) * 7 * word   # steps, columns, ranks, order and copies
        peak_layer = max(peak_layer, tables + entries)
        kept += T * (2 * n_phases + 2) * word
        if shared:   # the engine keeps every cluster's tables, and one int64 copy of them
            kept += (2 * cols * (P + B + 5) + cols * (2 * P + 3) + P * (F + 4) + B) * word
    if config.include_decoder and trace.decoder_weight is not None:
        dec = trace.decoder_weight
        dec_nnz = dec.nnz + extra_entries(config, dec.shape[0], dec.shape[1])
        peak_layer = max(peak_layer, (dec.shape[1] + 1) * (4 * P + 6 * B + 8) * word + dec_nnz * 6 * word)
        kept += T * 2 * word
        if shared:
            kept += (2 * dec.shape[1] * (P + B + 5) + dec.shape[1] * (2 * P + 3) + P * (F + 4) + B) * word
    if config.event_queue.streaming:   # each queued event's push and pop cycles
        fed = trace.layers if config.include_decoder else trace.layers[:-1]
        for l in fed:
            kept += 2 * word * (T * l.hidden_size if dense else _steps_entries(l.events, T))
    scratch = (P * (F + 4) + B) * word
    schedule = T * 2 * word
    return kept + peak_layer + scratch + schedule


def _delta_design(config: ArchConfig) -> bool:
    """Does the config use a mechanism that needs explicit per-step entry lists?"""
    return config.event_scan.enabled or config.bias_column or config.phases == "single"


def _with_bias_column(layer) -> CSC:
    """[W | R | bias]: the bias as one more column, one entry per gate row with a nonzero bias."""
    w = layer.weight
    rows = np.nonzero((np.asarray(layer.bias_x) != 0) | (np.asarray(layer.bias_r) != 0))[0]
    indptr = np.concatenate((w.indptr, [w.indptr[-1] + rows.size])).astype(np.int64)
    values = (np.asarray(layer.bias_x, np.float32) + np.asarray(layer.bias_r, np.float32))[rows]
    return CSC(indptr, np.concatenate((w.indices, rows.astype(w.indices.dtype))),
               np.concatenate((w.values, values.astype(w.values.dtype))),
               (w.shape[0], w.shape[1] + 1))


def _with_markers(t: ColumnTables, n: int = 2) -> ColumnTables:
    """``n`` more rows of zeros in every per-column table: end-marker pseudo-columns."""
    def pad(a):
        return np.concatenate((a, np.zeros((n,) + a.shape[1:], a.dtype)))
    return replace(t, n_cols=t.n_cols + n, bank_words=pad(t.bank_words), pe_work=pad(t.pe_work),
                   nnz=pad(t.nnz), weight_read_bits=pad(t.weight_read_bits), metadata_read_bits=pad(t.metadata_read_bits),
                   dram_bytes=pad(t.dram_bytes), dram_cycles=pad(t.dram_cycles),
                   conflict_cycles=pad(t.conflict_cycles))


def _scan_tables(config: ArchConfig, n_in: int, H: int, kind: str) -> tuple[np.ndarray, int]:
    """Cycle (from the phase start) at which the dispatcher can first see each column of a phase
    of ``kind`` ("x", "r" or "xr"), and the phase's floor. Empty table: no scan."""
    s = config.event_scan
    if not s.enabled:
        return np.zeros(0, np.int64), 0
    r, lat, st = s.elements_per_cycle, s.latency_cycles, s.start_cycles
    b = 1 if config.bias_column else 0
    i_pad = -(-n_in // s.input_pad_multiple) * s.input_pad_multiple
    base = n_in + H                              # first pseudo-column
    vis = np.zeros(base + 3, np.int64)
    vis[:n_in] = st + (np.arange(n_in) + b) // r + lat
    vis[base + _BIAS] = st + lat
    vis[base + _X_MARKER] = st + (b + i_pad - 1) // r + lat
    state0 = st + (-(-(b + i_pad) // r) + s.gap_cycles if kind == "xr" else 0)
    vis[n_in:base] = state0 + np.arange(H) // r + lat
    vis[base + _H_MARKER] = state0 + (H - 1) // r + lat
    last = base + (_X_MARKER if kind == "x" else _H_MARKER)
    return vis, int(vis[last]) + 1


def _step_sets(config: ArchConfig, trace: Trace, i: int):
    """(ptr, cols, dense) of the input and recurrent columns each step reads (cols relative to
    the part: input column j / recurrent column j); ``dense`` means every column every step."""
    layer, T = trace.layers[i], trace.steps
    dense_act = not config.skip_activity
    if dense_act:
        x = (None, None, layer.input_size)
        h = (None, None, layer.hidden_size)
        return x, h
    if layer.x_events is not None:
        x = (layer.x_events.indptr, layer.x_events.indices, 0)
    elif i == 0:
        x = (None, None, layer.input_size)       # the dense embedding: every column, every step
    else:
        below = trace.layers[i - 1].events
        x = (below.indptr, below.indices, 0)
    if layer.h_events is not None:
        h = (layer.h_events.indptr, layer.h_events.indices, 0)
    else:
        ev = layer.events                        # own events of t-1 (none at t = 0)
        h = (np.concatenate(([0], ev.indptr[:-1])).astype(np.int64), ev.indices, 0)
    return x, h


def _expand(part, T: int):
    """(step of each entry, column of each entry) of a (ptr, cols, dense) column set."""
    ptr, cols, dense = part
    if dense:
        return np.repeat(np.arange(T, dtype=np.int64), dense), np.tile(np.arange(dense, dtype=np.int64), T)
    ptr = np.asarray(ptr, np.int64)
    steps = np.repeat(np.arange(T, dtype=np.int64), np.diff(ptr))
    return steps, np.asarray(cols[: ptr[-1]], np.int64)


def _entries(config: ArchConfig, layer, T: int, x_part, h_part, kind: str):
    """CSR over steps of the entries of one phase kind, in order: bias, input columns, input end
    marker, recurrent columns, state end marker (the parts the kind holds)."""
    n_in, H = layer.input_size, layer.hidden_size
    base = n_in + H
    s = config.event_scan
    markers = s.enabled and s.end_marker_cycles > 0
    i_pad = -(-n_in // s.input_pad_multiple) * s.input_pad_multiple
    groups = []                                  # (rank, steps, cols)
    if kind in ("x", "xr"):
        if config.bias_column and layer.bias_fires is not None:
            t_bias = np.nonzero(np.asarray(layer.bias_fires[:T]) != 0)[0].astype(np.int64)
            groups.append((0, t_bias, np.full(t_bias.size, base + _BIAS, np.int64)))
        st, cl = _expand(x_part, T)
        groups.append((1, st, cl))
        if markers:
            fired_last = np.zeros(T, bool)
            fired_last[st[cl == i_pad - 1]] = True
            t_m = np.nonzero(~fired_last)[0].astype(np.int64)
            groups.append((2, t_m, np.full(t_m.size, base + _X_MARKER, np.int64)))
    if kind in ("r", "xr"):
        st, cl = _expand(h_part, T)
        groups.append((3, st, cl + n_in))
        if markers:
            fired_last = np.zeros(T, bool)
            fired_last[st[cl == H - 1]] = True
            t_m = np.nonzero(~fired_last)[0].astype(np.int64)
            groups.append((4, t_m, np.full(t_m.size, base + _H_MARKER, np.int64)))
    steps = np.concatenate([g[1] for g in groups])
    cols = np.concatenate([g[2] for g in groups])
    rank = np.concatenate([np.full(g[1].size, g[0], np.int64) for g in groups])
    order = np.lexsort((rank, steps), axis=0) if steps.size else np.zeros(0, np.int64)
    # lexsort is stable: within a (step, rank) group the columns keep their ascending order
    ptr = np.zeros(T + 1, np.int64)
    np.cumsum(np.bincount(steps, minlength=T), out=ptr[1:])
    return ptr, cols[order]


def _update_cycles(config: ArchConfig, H: int, ev, dense_act: bool) -> np.ndarray:
    """Cycles of each step's update phase whose encoder emits the units of ``ev``."""
    u = config.update_unit
    if u.timing == "grouped":
        return np.full(ev.steps, u.cycles_per_group * (-(-H // u.lanes)) + u.fixed_cycles, np.int64)
    return update_unit.update_phases(ev.indptr.astype(np.int64), ev.indices.astype(np.int64), H,
                                     dense_act, u.lanes, u.latency_cycles,
                                     u.encoder_events_per_cycle)


def _layer_phases(config: ArchConfig, trace: Trace, i: int):
    """The PE-array phases of layer ``i`` over all steps, their names and the stored bytes."""
    layer, T = trace.layers[i], trace.steps
    n_in = layer.input_size
    x_part, h_part = _step_sets(config, trace, i)
    where = f"{trace.path or 'trace'}: layer {i}"
    if not _delta_design(config):
        tables = column_tables(config, layer.weight, where)
        x = _phase(config, tables, *_csr_or_dense(x_part, T, 0))
        r = _phase(config, tables, *_csr_or_dense(h_part, T, n_in))
        return [x, r], ("x", "r"), tables.stored_bytes
    weight = _with_bias_column(layer) if config.bias_column else layer.weight
    tables = column_tables(config, weight, where, last_is_bias=config.bias_column)
    stored = tables.stored_bytes
    if not config.bias_column:   # keep the pseudo-column numbering: an empty bias column
        tables = _with_markers(tables, 1)
    tables = _with_markers(tables, 2)
    kinds = ("xr",) if config.phases == "single" else ("x", "r")
    phases = []
    for kind in kinds:
        vis, floor = _scan_tables(config, n_in, layer.hidden_size, kind)
        mech = replace(_plain_mechanisms(config, n_in + layer.hidden_size + 1),
                       scan_visible=vis, floor_cycles=floor,
                       marker_cycles=config.event_scan.end_marker_cycles)
        ptr, cols = _entries(config, layer, T, x_part, h_part, kind)
        phases.append(_phase(config, tables, ptr, cols, 0, 0, mech))
    return phases, kinds, stored


def _csr_or_dense(part, T: int, col_offset: int):
    """(step_ptr, step_units, col_offset, dense_cols) for the plain kernel path."""
    ptr, cols, dense = part
    if dense:
        return np.zeros(T + 1, np.int64), np.zeros(0, np.int64), col_offset, dense
    return ptr, cols, col_offset, 0


def prepare(config: ArchConfig, trace: Trace) -> list[ClusterWork]:
    """Run the functional units over every batch of ``trace`` (already cut to the tokens)."""
    T = trace.steps
    dense_act = not config.skip_activity
    check_staging(config, trace)
    check_streaming(config, trace)
    work: list[ClusterWork] = []
    for i, layer in enumerate(trace.layers):
        H = layer.hidden_size
        ev = layer.events
        phases, names, stored = _layer_phases(config, trace, i)
        emitted = np.full(T, H, np.int64) if dense_act else ev.counts()
        sent = ev   # streaming events: what the next layer reads goes into its queue (v2 trace)
        if (config.event_queue.streaming and i + 1 < len(trace.layers)
                and trace.layers[i + 1].x_events is not None):
            sent = trace.layers[i + 1].x_events
        u = _update_cycles(config, H, sent, dense_act)
        work.append(ClusterWork(f"layer{i}", H, phases, u, emitted, int(ev.indptr[-1]),
                                layer_macs_dense(trace.layers[i], T), stored, names,
                                None if dense_act else sent.indptr, None if dense_act else sent.indices))
    if config.include_decoder:
        dec = trace.decoder_weight
        tables = column_tables(config, dec, f"{trace.path or 'trace'}: decoder")
        last = trace.layers[-1].events
        H_last = trace.layers[-1].hidden_size
        d = _phase(config, tables, last.indptr, last.indices, 0, H_last if dense_act else 0)
        work.append(ClusterWork("decoder", 0, [d], None, np.zeros(T, np.int64), 0,
                                T * H_last * dec.shape[0], tables.stored_bytes, ("decoder",)))
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
