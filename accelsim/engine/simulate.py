"""The public entry points: config + trace + energy table -> result dict."""

from __future__ import annotations

import copy
import os

from accelsim.config.energy import EnergyTable
from accelsim.config.load import (config_from_dict, energy_table_path, load_energy_table,
                                  read_yaml)
from accelsim.config.schema import ArchConfig
from accelsim.engine.prepare import check_fit, prepare
from accelsim.engine.schedule import run_schedule
from accelsim.errors import InputError
from accelsim.result import build_result
from accelsim.trace.format import Trace, load_trace


def dense_baseline(config: ArchConfig) -> ArchConfig:
    """The same hardware with both skips off."""
    return config.model_copy(update={"skip_activity": False, "skip_weights": False})


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
                   tokens: int | None = None, baseline: bool = False,
                   config_source: str | None = None, progress=None):
    """As :func:`simulate`, and the per-(layer, step, phase) timeline as a pandas DataFrame
    (:func:`steps_frame`). Returns ``(result, steps)``."""
    tokens = check_fit(config, trace, tokens)
    if tokens != trace.steps:
        trace = trace.head(tokens)
    result, steps = _simulate_one(config, trace, energy_table, tokens, config_source, progress,
                                  record_steps=True)
    if baseline:
        _add_baseline(result, config, trace, energy_table, tokens, config_source)
    return result, steps_frame(steps)


def _add_baseline(result, config, trace, energy_table, tokens, config_source):
    base = _simulate_one(dense_baseline(config), trace, energy_table, tokens, config_source, None)
    result["speedup_vs_dense"] = base["cycles"] / result["cycles"]
    result["energy_reduction_vs_dense"] = base["energy_pj"]["total"] / result["energy_pj"]["total"]
    result["baseline"] = {k: base[k] for k in ("cycles", "macs", "latency_cycles", "sram_read_bits",
                                               "dram_read_bytes", "energy_pj", "stalls_cycles",
                                               "lost_work_cycles")}


def simulate(config: ArchConfig, trace: Trace, energy_table: EnergyTable, *, tokens: int | None = None,
             baseline: bool = False, config_source: str | None = None, progress=None) -> dict:
    """Simulate ``trace`` (its first ``tokens`` tokens) on ``config``; JSON-ready result dict.

    ``baseline`` also simulates the dense baseline (both skips off) on the same hardware and adds
    ``speedup_vs_dense`` and ``energy_reduction_vs_dense``. ``progress(tokens_done)`` is called as
    tokens complete (for a progress bar)."""
    tokens = check_fit(config, trace, tokens)
    if tokens != trace.steps:
        trace = trace.head(tokens)
    result = _simulate_one(config, trace, energy_table, tokens, config_source, progress)
    if baseline:
        _add_baseline(result, config, trace, energy_table, tokens, config_source)
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
                   baseline: bool = False, progress=None) -> dict:
    """Load a config (with dotted-path ``overrides``), its energy table and a trace; simulate."""
    source = str(config_path)
    data = read_yaml(config_path)
    if data is not None and not isinstance(data, dict):
        raise InputError(f"{source}: expected a mapping of fields at the top level")
    config = config_from_dict(apply_overrides(data or {}, overrides, source), source)
    table = load_energy_table(energy_table_path(config, config_path))
    trace = load_trace(trace_path)
    return simulate(config, trace, table, tokens=tokens, baseline=baseline,
                    config_source=source, progress=progress)
