"""Replay a validation case through the simulator and compare it with the RTL."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from accelsim.validate.case import Case, case_config, case_trace
from accelsim.validate.compare import compare, layer_step_cycles


@dataclass(frozen=True, eq=False)
class ValidationRun:
    case: Case
    metrics: dict            # keys accelsim.validate.compare.METRIC_KEYS
    rtl_steps: np.ndarray    # (T, L) measured cycles per layer-step
    sim_steps: np.ndarray    # (T, L) simulated cycles per layer-step
    result: dict             # the simulator's result dict
    steps: pd.DataFrame      # the simulator's per-(layer, step, phase) table


def run_validation(case: Case, config, energy_table, config_name: str = "") -> ValidationRun:
    """Simulate ``case`` on ``config`` (with the case's weight-stream model) and compare."""
    import importlib

    engine = importlib.import_module("accelsim.engine.simulate")  # the module (the package exports a function of that name)
    cfg = case_config(config, case)
    trace = case_trace(case)
    result, steps = engine.simulate_steps(cfg, trace, energy_table, config_source=config_name or None)
    sim = layer_step_cycles(steps, case.steps, case.n_layers)
    rtl = case.rtl_step_cycles
    metrics = compare(rtl, sim, case.rtl_cycles_total, int(result["cycles"]),
                      case=case.name, config=config_name)
    return ValidationRun(case, metrics, rtl, sim, result, steps)
