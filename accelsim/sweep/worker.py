"""What a worker process does for one design point: load (cached), simulate, return a row.

Workers are long-lived (a process pool, or Dask workers) and keep the last few traces and energy
tables in memory, so a sweep over one trace loads it once per worker. The engine's Numba kernels
are compiled with ``cache=True``: a fresh worker loads them from the on-disk cache instead of
recompiling, and a warm worker pays nothing at all.

Any exception inside a point becomes a stored error row; it never stops the sweep.
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict

from accelsim.sweep.keys import simulator_sha256
from accelsim.sweep.traces import make_generated

_TRACE_CACHE: "OrderedDict[tuple[str, str], object]" = OrderedDict()
_TRACE_CACHE_SIZE = 4
_ENERGY_CACHE: dict[str, object] = {}


def warm_up() -> None:
    """Import the engine (loading its compiled kernels from Numba's disk cache) once per worker.

    An engine that does not import is an error here, not a quiet fallback."""
    import accelsim.engine  # noqa: F401


def _trace(path: str, sha256: str):
    from accelsim.trace import load_trace

    key = (path, sha256)
    if key in _TRACE_CACHE:
        _TRACE_CACHE.move_to_end(key)
        return _TRACE_CACHE[key]
    trace = load_trace(path)
    if trace.sha256 != sha256:
        raise RuntimeError(f"{path}: trace changed since the sweep started (sha256 {trace.sha256[:12]} "
                           f"!= {sha256[:12]})")
    _TRACE_CACHE[key] = trace
    while len(_TRACE_CACHE) > _TRACE_CACHE_SIZE:
        _TRACE_CACHE.popitem(last=False)
    return trace


def _energy(path: str):
    from accelsim.config import load_energy_table

    if path not in _ENERGY_CACHE:
        _ENERGY_CACHE[path] = load_energy_table(path)
    return _ENERGY_CACHE[path]


def _floats(v) -> list | None:
    """A per-layer list of finite numbers from a trace's meta, else None."""
    if isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                                   for x in v):
        return [float(x) for x in v]
    return None


def _number(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def trace_stats(trace, tokens: int | None) -> dict:
    """The workload as measured from the trace: sparsities (over the simulated tokens), perplexity;
    and what made it, from its meta: ``kind`` (``synthetic``; ``egru``: a trained model's events;
    ``delta``: a GRU run as a delta network), the ``model`` file's name, a delta network's
    ``theta_x`` / ``theta_h`` and ``x_activity`` / ``h_activity`` (the fraction of input /
    recurrent columns sent, per layer, over the traced tokens)."""
    T = trace.steps if tokens is None else min(tokens, trace.steps)
    nnz = dense = events = units = 0
    for layer in trace.layers:
        nnz += layer.weight.nnz
        dense += layer.weight.shape[0] * layer.weight.shape[1]
        events += int(layer.events.indptr[T])
        units += T * layer.hidden_size
    ppl = trace.meta.get("perplexity")
    src = trace.meta.get("source") or {}
    pruning = None
    if isinstance(src.get("synthetic"), dict):
        pruning = src["synthetic"].get("pruning")
    elif isinstance(src.get("model_meta"), dict):  # a trained model's trace: how it was pruned
        pruned = src["model_meta"].get("pruned")
        pruning = pruned.get("method") if isinstance(pruned, dict) else "none (dense)"
    delta = "theta_x" in src or "x_activity" in trace.meta
    kind = ("synthetic" if isinstance(src.get("synthetic"), dict) else "delta" if delta
            else "egru" if isinstance(src.get("model_meta"), dict) else None)
    model = src.get("model") if kind in ("egru", "delta") else None
    return {
        "pruning": pruning,
        "weight_sparsity": 1.0 - nnz / dense if dense else 0.0,
        "activity_sparsity": 1.0 - events / units if units else 0.0,
        "perplexity": float(ppl) if isinstance(ppl, (int, float)) and math.isfinite(ppl) else None,
        "layers": [l.hidden_size for l in trace.layers],
        "kind": kind,
        "model": model if isinstance(model, str) else None,
        "theta_x": _number(src.get("theta_x")) if delta else None,
        "theta_h": _number(src.get("theta_h")) if delta else None,
        "x_activity": _floats(trace.meta.get("x_activity")) if delta else None,
        "h_activity": _floats(trace.meta.get("h_activity")) if delta else None,
    }


def simulate_point(task: dict) -> tuple[dict, dict]:
    """The real point function: the engine on one (config, trace). Returns (result, trace_stats)."""
    from accelsim.config import config_from_dict
    from accelsim.engine import simulate

    if task.get("simulator_sha256") not in (None, simulator_sha256()):
        # a Dask worker with another accelsim: its result would be stored under the wrong key
        raise RuntimeError("this worker runs a different accelsim engine than the sweep's coordinator; "
                           "install the same version on every worker")
    config = config_from_dict(task["config"], task["config_source"])
    trace = _trace(task["trace_path"], task["trace_sha256"])
    table = _energy(task["energy_table_path"])
    result = simulate(config, trace, table, tokens=task["tokens"], baseline=task["baseline"],
                      baseline_kind=task.get("baseline_kind", "dense"), config_source=task["config_source"])
    if isinstance(result.get("trace"), dict):
        # Where this sweep keeps the trace (a synthetic one: relative to the results folder), so the
        # stored result does not depend on which folder or machine ran it; the sha256 is the identity.
        result["trace"]["path"] = task.get("trace_ref", task["trace_path"])
    return result, trace_stats(trace, task["tokens"])


def run_point(task: dict, point_fn=None) -> dict:
    """Run one point; never raises. ``point_fn`` replaces the engine (tests of the machinery)."""
    t0 = time.perf_counter()
    row = {k: task[k] for k in ("key", "config", "trace_path", "trace_sha256", "tokens")}
    row["baseline"] = int(bool(task["baseline"]))
    try:
        result, stats = (point_fn or simulate_point)(task)
        row.update(status="ok", result=json.dumps(result, sort_keys=True), trace_stats=stats, error=None)
    except Exception as e:  # noqa: BLE001 - a failing point is data, not a crash
        msg = " ".join(str(e).split()) or "(no message)"
        row.update(status="error", result=None, trace_stats=None, error=f"{type(e).__name__}: {msg}"[:2000])
    row["wall_s"] = time.perf_counter() - t0
    return row


def prepare_trace(params: dict, path: str) -> tuple[str, str | None, str | None]:
    """Generate one synthetic / EGRU-on-PTB / delta-on-PTB trace in a worker; returns (path,
    sha256, error line)."""
    try:
        return path, make_generated(params, path), None
    except Exception as e:  # noqa: BLE001 - reported by the coordinator as bad input
        return path, None, " ".join(str(e).split())
