"""Helpers for sweep tests: tiny specs written into tmp folders, tiny synthetic workloads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ARCH_A = REPO / "configs" / "arch_a.yaml"
try:
    from accelsim.engine import simulate as _simulate  # noqa: F401
    HAVE_ENGINE = True
except ImportError:  # the machinery tests then run on tests/sweep/fakes.py
    HAVE_ENGINE = False

# Small enough that a point simulates in milliseconds, big enough to have load imbalance.
TINY_SYNTH = {"layers": [8, 24, 24], "tokens": 40, "weight_sparsity": 0.6, "activity_sparsity": 0.7,
              "seed": 1, "vocab_size": 50}


def write_spec(folder: Path, name: str = "tiny", **over) -> Path:
    spec = {
        "name": name,
        "base": str(ARCH_A),
        "tokens": 32,
        "workloads": [{"name": "syn", "synth": dict(TINY_SYNTH)}],
        "axes": [{"grid": {"pe.count": [4, 8], "skip_weights": [False, True]}},
                 {"zip": {"workload.weight_sparsity": [0.5, 0.8], "weight_sram.banks": [4, 8]}}],
    }
    spec.update(over)
    path = Path(folder) / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture
def point_fn():
    """The real engine when it exists; otherwise the stand-in (machinery tests only)."""
    if HAVE_ENGINE:
        return None
    from tests.sweep.fakes import fake_point
    return fake_point
