"""The public entry points: config + trace + energy table -> result dict."""

from __future__ import annotations

import copy
import os

from accelsim.config.energy import EnergyTable
from accelsim.config.load import (config_from_dict, energy_table_path, load_energy_table,
                                  read_yaml)
from accelsim.config.schema import ArchConfig
from accelsim.energy.area import check_area_table
from accelsim.engine.prepare import check_fit, prepare
from accelsim.engine.schedule import run_schedule
from accelsim.errors import InputError
from accelsim.result import build_result
from accelsim.trace.format import Trace, load_trace
from accelsim.units.weight_sram import dense_stored_bytes


BASELINE_KINDS = ("dense", "no-skip")
"""dense: the dense design for the same model on the same PE array and clock (dense weight
format, no skipping, weights on chip when they fit ``weight_sram.capacity_bytes``, streamed from
DRAM otherwise); no-skip: the same hardware and weight format with both skips off."""


def no_skip_baseline(config: ArchConfig) -> ArchConfig:
    """The same hardware with both skips off."""
    return config.model_copy(update={"skip_activity": False, "skip_weights": False})


def dense_weights_fit(config: ArchConfig, trace: Trace) -> bool:
    """Do the model's weights, stored dense, fit the weight SRAM of every cluster (spatial: each
    layer and the decoder in its own ``capacity_bytes``; temporal: all together in one), by the
    rule of the on-chip capacity check?"""
    sizes = []
    for layer in trace.layers:
        cols = layer.input_size + layer.hidden_size + (1 if config.bias_column else 0)
        sizes.append(dense_stored_bytes(config, 3 * layer.hidden_size, cols))
    if config.include_decoder and trace.decoder_weight is not None:
        sizes.append(dense_stored_bytes(config, *trace.decoder_weight.shape))
    cap = config.weight_sram.capacity_bytes
    return all(s <= cap for s in sizes) if config.mapping == "spatial" else sum(sizes) <= cap


def dense_baseline(config: ArchConfig, trace: Trace) -> ArchConfig:
    """The dense design a designer would build for the same model on the same hardware (PE
    array, clock, banks, queues, update unit, mapping, DRAM channel): weight_format dense (no
    metadata), both skips off (every MAC of every column, zeros included), weights in the
    weight SRAM when they fit ``capacity_bytes`` (:func:`dense_weights_fit`), else streamed
    from DRAM; a streamed design's staging buffer (``dram.staging_buffer_bytes``) grows, when it
    must, to hold one dense column (the least a dense design needs to work)."""
    from accelsim.engine.prepare import largest_stored_column

    dense = config.model_copy(update={"weight_format": "dense", "skip_activity": False,
                                      "skip_weights": False, "weight_storage": "sram"})
    if not dense_weights_fit(dense, trace):
        dense = dense.model_copy(update={"weight_storage": "dram"})
        cap = dense.dram.staging_buffer_bytes
        if cap is not None:
            need, _ = largest_stored_column(dense, trace)
            if need > cap:
                dense = dense.model_copy(update={"dram": dense.dram.model_copy(
                    update={"staging_buffer_bytes": need})})
    return dense


def baseline_config(config: ArchConfig, trace: Trace, kind: str = "dense") -> ArchConfig:
    """The config of the ``--baseline`` run of ``kind`` (:data:`BASELINE_KINDS`)."""
    check_baseline_kind(kind)
    return dense_baseline(config, trace) if kind == "dense" else no_skip_baseline(config)


def check_baseline_kind(kind: str) -> None:
    if kind not in BASELINE_KINDS:
        raise InputError(f"baseline kind {kind!r} is unknown; expected one of {', '.join(BASELINE_KINDS)}")


def _simulate_one(config, trace, table, tokens, config_source, progress, record_steps=False):
    work = prepare(config, trace)
    tl = run_schedule(config, work, tokens, progress, record_steps=record_steps)
    result = build_result(config, trace, table, work, tl, tokens, config_source)
    return (result, tl.steps) if record_steps else result


STEP_COLUMNS = ("t", "layer", "phase", "start", "end", "cycles")


def steps_frame(steps: list[tuple[int, int, str, int, int]]):
    """The per-(layer, step, phase) table: ``t, layer, phase, start, end, cycles``, sorted by
    start time (then layer, then step)."""
    import pandas as pd

    df = pd.DataFrame(steps, columns=["t", "layer", "phase", "start", "end"])
    for k in ("t", "layer", "start", "end"):
        df[k] = df[k].astype("int64")
    df["cycles"] = df["end"] - df["start"]
    return df.sort_values(["start", "layer", "t"], kind="stable").reset_index(drop=True)[list(STEP_COLUMNS)]


def simulate_steps(config: ArchConfig, trace: Trace, energy_table: EnergyTable, *,
                   tokens: int | None = None, baseline: bool = False, baseline_kind: str = "dense",
                   config_source: str | None = None, progress=None):
    """As :func:`simulate`, and the per-(layer, step, phase) timeline as a pandas DataFrame
    (:func:`steps_frame`). Returns ``(result, steps)``."""
    _check_inputs(config, energy_table, baseline_kind)
    tokens = check_fit(config, trace, tokens)
    if tokens != trace.steps:
        trace = trace.head(tokens)
    result, steps = _simulate_one(config, trace, energy_table, tokens, config_source, progress,
                                  record_steps=True)
    if baseline:
        _add_baseline(result, config, trace, energy_table, tokens, config_source, baseline_kind)
    return result, steps_frame(steps)


BASELINE_KEYS = ("cycles", "macs", "latency_cycles", "sram_read_bits", "dram_read_bytes",
                 "energy_pj", "stalls_cycles", "lost_work_cycles", "area_mm2")


def _check_inputs(config: ArchConfig, energy_table: EnergyTable, baseline_kind: str) -> None:
    check_baseline_kind(baseline_kind)
    check_area_table(config, energy_table)


def _add_baseline(result, config, trace, energy_table, tokens, config_source, kind):
    base_cfg = baseline_config(config, trace, kind)
    base = _simulate_one(base_cfg, trace, energy_table, tokens, config_source, None)
    result["speedup_vs_dense"] = base["cycles"] / result["cycles"]
    result["energy_reduction_vs_dense"] = base["energy_pj"]["total"] / result["energy_pj"]["total"]
    result["baseline"] = {"kind": kind, "weight_format": base_cfg.weight_format,
                          "weight_storage": base_cfg.weight_storage,
                          **{k: base[k] for k in BASELINE_KEYS}}


def simulate(config: ArchConfig, trace: Trace, energy_table: EnergyTable, *, tokens: int | None = None,
             baseline: bool = False, baseline_kind: str = "dense", config_source: str | None = None,
             progress=None) -> dict:
    """Simulate ``trace`` (its first ``tokens`` tokens) on ``config``; JSON-ready result dict.

    ``baseline`` also simulates a baseline of ``baseline_kind`` (:data:`BASELINE_KINDS`: the
    dense design, or the same hardware with both skips off) and adds ``speedup_vs_dense``,
    ``energy_reduction_vs_dense`` and ``baseline``. ``progress(tokens_done)`` is called as
    tokens complete (for a progress bar)."""
    _check_inputs(config, energy_table, baseline_kind)
    tokens = check_fit(config, trace, tokens)
    if tokens != trace.steps:
        trace = trace.head(tokens)
    result = _simulate_one(config, trace, energy_table, tokens, config_source, progress)
    if baseline:
        _add_baseline(result, config, trace, energy_table, tokens, config_source, baseline_kind)
    return result


def apply_overrides(data: dict, overrides: dict | None, source: str) -> dict:
    """Set dotted-path fields (``pe.count: 32``) in a config mapping, before validation."""
    data = copy.deepcopy(data) if data else {}
    for path, value in (overrides or {}).items():
        node = data
        parts = str(path).split(".")
        for p in parts[:-1]:
            nxt = node.get(p)
            if nxt is None:
                nxt = node[p] = {}
            if not isinstance(nxt, dict):
                raise InputError(f"{source}: override {path}: '{p}' is not a section")
            node = nxt
        node[parts[-1]] = value
    return data


def simulate_files(config_path: str | os.PathLike, trace_path: str | os.PathLike, *,
                   overrides: dict | None = None, tokens: int | None = None,
                   baseline: bool = False, baseline_kind: str = "dense", progress=None) -> dict:
    """Load a config (with dotted-path ``overrides``), its energy table and a trace; simulate."""
    source = str(config_path)
    data = read_yaml(config_path)
    if data is not None and not isinstance(data, dict):
        raise InputError(f"{source}: expected a mapping of fields at the top level")
    config = config_from_dict(apply_overrides(data or {}, overrides, source), source)
    table = load_energy_table(energy_table_path(config, config_path))
    trace = load_trace(trace_path)
    return simulate(config, trace, table, tokens=tokens, baseline=baseline,
                    baseline_kind=baseline_kind, config_source=source, progress=progress)
