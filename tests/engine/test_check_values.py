"""--check-values takes the fetched columns from the timing model itself."""

from __future__ import annotations

import numpy as np

from accelsim.config import load_config
from accelsim.engine import check_values as cv
from accelsim.engine.prepare import PhaseWork
from accelsim.trace.synth import synthesize
from tests.reference.tracegen import random_trace


def _fails(lines):
    return [l for l in lines if l.startswith("FAIL")]


def test_a_column_the_timing_model_forgets_is_caught(monkeypatch):
    cfg = load_config("configs/arch_a.yaml")
    trace = random_trace(sizes=(5, 7, 6), tokens=5, weight_density=0.9, activity=0.6, seed=4)
    assert not _fails(cv.check_values(cfg, trace))
    real = PhaseWork.columns

    def forgetful(self, t):
        cols = real(self, t)
        return cols[:-1]            # the timing model drops a step's last fetched column

    monkeypatch.setattr(PhaseWork, "columns", forgetful)
    assert _fails(cv.check_values(cfg, trace))


def test_delta_trace_on_edgedrnn_checks_the_fired_columns():
    """A v2 trace's fired input/recurrent columns carry values: both projections are checked,
    the bias column and end markers ride along without disturbing the sums."""
    cfg = load_config("configs/edgedrnn.yaml")
    trace = synthesize(layers=[12, 16, 16], tokens=8, encoding="delta", x_activity=0.4,
                       h_activity=0.3, seed=1)
    lines = cv.check_values(cfg, trace)
    assert not _fails(lines)
    assert sum(l.startswith("ok") for l in lines) == 4      # Wx and Rh of both layers
    assert not any("not checkable" in l for l in lines)
