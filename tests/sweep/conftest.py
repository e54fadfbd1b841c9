"""Helpers for sweep tests: tiny specs written into tmp folders, tiny synthetic workloads.

Every sweep test runs the real engine. There is no stand-in: an engine that fails to import fails
these tests at collection, loudly.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from accelsim.engine import simulate as _simulate  # noqa: F401 - a broken engine stops the tests here

REPO = Path(__file__).resolve().parents[2]
ARCH_A = REPO / "configs" / "arch_a.yaml"
HAVE_ENGINE = True  # always: the import above fails otherwise (kept for modules that read it)

# Small enough that a point simulates in milliseconds, big enough to have load imbalance.
TINY_SYNTH = {"layers": [8, 24, 24], "tokens": 40, "weight_sparsity": 0.6, "activity_sparsity": 0.7,
              "seed": 1, "vocab_size": 50}


def write_spec(folder: Path, name: str = "tiny", file: str | None = None, **over) -> Path:
    spec = {
        "name": name,
        "base": str(ARCH_A),
        "tokens": 32,
        "workloads": [{"name": "syn", "synth": dict(TINY_SYNTH)}],
        "axes": [{"grid": {"pe.count": [4, 8], "skip_weights": [False, True]}},
                 {"zip": {"workload.weight_sparsity": [0.5, 0.8], "weight_sram.banks": [4, 8]}}],
    }
    spec.update(over)
    if spec["name"] is None:
        del spec["name"]
    path = Path(folder) / (file or f"{name}.yaml")
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def ptb_folder() -> str | None:
    """The PTB folder of this machine (ACCELSIM_PTB, else the shared data folder), None if absent."""
    p = os.environ.get("ACCELSIM_PTB") or str(REPO.parent / "shared" / "data" / "ptb")
    return p if os.path.isfile(os.path.join(p, "ptb.train.txt")) else None


def accelsim(*args, timeout: float = 120, env: dict | None = None, cwd=None):
    """``python -m accelsim ARGS`` in a fresh process: (exit code, stdout, stderr, seconds)."""
    e = dict(os.environ, PYTHONPATH=str(REPO))
    e.update(env or {})
    e = {k: v for k, v in e.items() if v is not None}
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "accelsim", *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, env=e, cwd=cwd or REPO)
    return p.returncode, p.stdout, p.stderr, time.perf_counter() - t0
