from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.validate.casegen import copy_case, shared_case, write_case

REPO = Path(__file__).resolve().parents[2]
ARCH_B = str(REPO / "configs" / "arch_b.yaml")


@pytest.fixture(params=["synthetic", "shared"])
def case_dir(request, tmp_path) -> Path:
    """A writable, valid case folder: a small synthetic one, and a copy of the measured one."""
    if request.param == "synthetic":
        return write_case(tmp_path / "case")
    return copy_case(shared_case("edgedrnn-tb"), tmp_path / "case")


@pytest.fixture
def synthetic_case(tmp_path) -> Path:
    return write_case(tmp_path / "case")


def _engine_module():
    # the module itself: ``accelsim.engine`` exports a function of the same name
    return importlib.import_module("accelsim.engine.simulate")


class FakeEngine:
    """Stands in for simulate_steps: every layer-step takes ``scale`` x its RTL cycles, as an
    ``xr`` phase followed by a 16-cycle ``update`` (layers and steps in turn)."""

    def __init__(self, scale: float = 1.0):
        self.scale = scale
        self.configs = []
        self.calls = 0

    def __call__(self, config, trace, energy_table, **kw):
        from accelsim.validate.case import load_case

        self.calls += 1
        self.configs.append(config)
        case = load_case(trace.path).head(trace.steps)
        rows, now = [], case.startup_cycles
        for t in range(case.steps):
            for l in range(case.n_layers):
                c = int(round(case.table["cycles"][t, l] * self.scale))
                rows.append((t, l, "xr", now, now + c - 16))
                rows.append((t, l, "update", now + c - 16, now + c))
                now += c
        df = pd.DataFrame(rows, columns=["t", "layer", "phase", "start", "end"])
        df["cycles"] = df["end"] - df["start"]
        return {"cycles": now}, df.sample(frac=1.0, random_state=0)  # order must not matter


@pytest.fixture
def fake_engine(monkeypatch):
    def make(scale=1.0):
        sim = _engine_module()
        fake = FakeEngine(scale)
        monkeypatch.setattr(sim, "simulate_steps", fake, raising=False)
        return fake

    return make


@pytest.fixture
def no_engine(monkeypatch):
    """Fails the test if a simulation starts (bad input must be caught before)."""
    sim = _engine_module()

    def boom(*a, **k):
        raise AssertionError("the simulation ran")

    monkeypatch.setattr(sim, "simulate_steps", boom, raising=False)
    monkeypatch.setattr(sim, "simulate", boom, raising=False)
