"""The engine: where time lives. SimPy processes schedule the Numba units' batches.

Public API: :func:`simulate` (objects in) and :func:`simulate_files` (paths in, with dotted-path
config overrides, for sweeps).
"""

from accelsim.engine.simulate import (BASELINE_KINDS, apply_overrides, baseline_config,
                                      dense_baseline, no_skip_baseline, simulate, simulate_files,
                                      simulate_steps)

__all__ = ["BASELINE_KINDS", "apply_overrides", "baseline_config", "dense_baseline",
           "no_skip_baseline", "simulate", "simulate_files", "simulate_steps"]
