"""simulate_files: paths in, dotted-path overrides applied before validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from accelsim.engine import apply_overrides, simulate_files
from accelsim.errors import InputError
from accelsim.trace import save_trace
from tests.reference.tracegen import random_trace

REPO = Path(__file__).resolve().parents[2]


def test_overrides_change_the_run(tmp_path):
    p = tmp_path / "t.npz"
    save_trace(p, random_trace(sizes=(6, 8, 5), tokens=6, seed=4))
    base = simulate_files(REPO / "configs/arch_a.yaml", p)
    more = simulate_files(REPO / "configs/arch_a.yaml", p, overrides={"pe.mac_lanes": 1, "pe.count": 2})
    assert more["config"]["pe"]["count"] == 2 and more["cycles"] > base["cycles"]
    assert more["macs"] == base["macs"]
    assert base["config_source"].endswith("arch_a.yaml")
    assert simulate_files(REPO / "configs/arch_a.yaml", p, tokens=3)["tokens"] == 3


def test_bad_override_is_an_input_error(tmp_path):
    p = tmp_path / "t.npz"
    save_trace(p, random_trace(seed=4))
    with pytest.raises(InputError, match="pe.count"):
        simulate_files(REPO / "configs/arch_a.yaml", p, overrides={"pe.count": 0})
    with pytest.raises(InputError, match="not a section"):
        apply_overrides({"layout": "blocked"}, {"layout.x": 1}, "c.yaml")
