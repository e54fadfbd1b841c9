"""Shared test helpers: run the CLI in-process and capture what a user would see."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from accelsim.cli import main
from accelsim.trace import CSC, Events, LayerTrace, Trace, make_meta

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def cli(capsys):
    """Run ``accelsim ARGS`` in-process; returns (exit code, stdout, stderr)."""

    def run(*argv: str):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as e:  # argparse errors and --help
            code = e.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


def tiny_trace(sizes=(6, 8, 5), T=7, seed=0, density_w=0.4, density_a=0.3, dtype=np.float32) -> Trace:
    """A small random trace built from dense arrays, for brute-force checks."""
    rng = np.random.default_rng(seed)
    layers = []
    for l in range(len(sizes) - 1):
        n_in, H = sizes[l], sizes[l + 1]
        w = rng.standard_normal((3 * H, n_in + H)) * (rng.random((3 * H, n_in + H)) < density_w)
        y = (rng.random((T, H)) + 0.1) * (rng.random((T, H)) < density_a)
        layers.append(LayerTrace(n_in, H, CSC.from_dense(w, dtype), rng.standard_normal(3 * H).astype(dtype),
                                 rng.standard_normal(3 * H).astype(dtype), np.full(H, 0.1, dtype),
                                 Events.from_dense(y, dtype)))
    meta = make_meta([(sizes[l], sizes[l + 1]) for l in range(len(sizes) - 1)], 11, T, {"test": {"seed": seed}})
    emb = rng.standard_normal((11, sizes[0])).astype(dtype)
    return Trace(meta, tuple(layers), emb, rng.integers(0, 11, T).astype(np.int32))


@pytest.fixture
def ptb_path() -> Path:
    p = Path(os.environ.get("ACCELSIM_PTB", REPO.parent / "shared" / "data" / "ptb"))
    if not (p / "ptb.test.txt").exists():
        pytest.skip(f"PTB not found at {p}")
    return p
