"""A point function for tests of the sweep machinery: the real engine, plus which process ran the
point and how many Numba cache misses that process has seen."""

from __future__ import annotations

import os


def pid_point(task: dict):
    from accelsim.sweep.worker import simulate_point
    from accelsim.units import pe_array

    result, stats = simulate_point(task)
    misses = sum(pe_array.pe_phases.stats.cache_misses.values()) + sum(pe_array.pe_phase.stats.cache_misses.values())
    return dict(result, worker_pid=os.getpid(), numba_cache_misses=misses), stats
