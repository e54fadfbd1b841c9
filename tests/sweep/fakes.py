"""Stand-in point functions for tests of the sweep machinery.

``fake_point`` replaces the engine when it is absent: deterministic in its inputs (so executors
can be compared), failing on purpose for ``include_decoder: true`` as the real engine does for
traces without a decoder. ``pid_point`` runs the real engine and also reports which process ran
the point and how many Numba cache misses that process has seen."""

from __future__ import annotations

import os
import time

from accelsim.sweep.worker import _trace, trace_stats


def fake_point(task: dict):
    delay = float(os.environ.get("ACCELSIM_FAKE_POINT_SLEEP_S", "0"))
    if delay:
        time.sleep(delay)  # to make a kill -9 land mid-sweep
    cfg = task["config"]
    if cfg["include_decoder"]:
        raise RuntimeError("fake engine: include_decoder asked but the trace has no decoder")
    trace = _trace(task["trace_path"], task["trace_sha256"])
    stats = trace_stats(trace, task["tokens"])
    T = task["tokens"] or trace.steps
    events = sum(int(l.events.indptr[T]) for l in trace.layers)
    nnz = sum(l.weight.nnz for l in trace.layers)
    dense = sum(l.weight.shape[0] * l.weight.shape[1] for l in trace.layers)
    a = 1 - stats["activity_sparsity"] if cfg["skip_activity"] else 1.0
    w = nnz / dense if cfg["skip_weights"] else 1.0
    macs = int(dense * T * a * w)
    lanes = cfg["pe"]["count"] * cfg["pe"]["mac_lanes"]
    cycles = macs // lanes + 40 * T + events
    comps = {"mac": 0.2 * macs, "sram_weights": 0.5 * macs, "update": 30.0 * T, "leakage": 0.01 * cycles}
    lat = cycles / T
    res = {"cycles": cycles, "tokens": T, "macs": macs, "macs_dense": dense * T,
           "latency_cycles": {"mean": lat, "p50": lat * 0.9, "p99": lat * 1.7},
           "latency_us": {"mean": lat / cfg["clock_mhz"], "p50": 0.9 * lat / cfg["clock_mhz"],
                          "p99": 1.7 * lat / cfg["clock_mhz"]},
           "energy_pj": dict(comps, total=sum(comps.values())),
           "energy_pj_per_token": sum(comps.values()) / T,
           "stalls_cycles": {"bank_conflict": cycles // 10, "queue_full": 0, "load_imbalance": cycles // 20},
           "pe_work": {"mean": macs / cfg["pe"]["count"], "max": 1.3 * macs / cfg["pe"]["count"]},
           "ideal_reduction": 1 / max((1 - stats["weight_sparsity"]) * (1 - stats["activity_sparsity"]), 1e-9)}
    if task["baseline"]:
        d_cycles = dense * T // lanes + 40 * T
        d_energy = 0.7 * dense * T + 30.0 * T
        res["speedup_vs_dense"] = d_cycles / cycles
        res["energy_reduction_vs_dense"] = d_energy / res["energy_pj"]["total"]
    return res, stats


def pid_point(task: dict):
    """The real engine, plus which process ran the point and whether Numba compiled anything there."""
    from accelsim.sweep.worker import simulate_point
    from accelsim.units import pe_array

    result, stats = simulate_point(task)
    misses = sum(pe_array.pe_phases.stats.cache_misses.values()) + sum(pe_array.pe_phase.stats.cache_misses.values())
    return dict(result, worker_pid=os.getpid(), numba_cache_misses=misses), stats
