import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def ptb_path() -> Path:
    p = os.environ.get("ACCELSIM_PTB") or str(REPO.parent / "shared" / "data" / "ptb")
    if not (Path(p) / "ptb.train.txt").is_file():
        pytest.skip("PTB not found at ../shared/data/ptb or $ACCELSIM_PTB")
    return Path(p)


def tiny_model(sizes=(16, 24, 20, 16), vocab=50, seed=0, weight_scale=1.0, cell="egru"):
    """A small random EGRU model (torch-free form) whose units fire often enough to test events;
    ``cell="gru"``: the same weights without thresholds (a GRU for the delta-network inference)."""
    from accelsim.workloads.model_file import EGRULayerWeights, EGRUModel

    rng = np.random.default_rng(seed)
    layers = []
    for n_in, H in zip(sizes[:-1], sizes[1:]):
        layers.append(EGRULayerWeights(
            (rng.normal(0, weight_scale / np.sqrt(n_in), (3 * H, n_in))).astype(np.float32),
            (rng.normal(0, weight_scale / np.sqrt(H), (3 * H, H))).astype(np.float32),
            rng.normal(0, 0.3, 3 * H).astype(np.float32), rng.normal(0, 0.3, 3 * H).astype(np.float32),
            rng.uniform(0.02, 0.3, H).astype(np.float32) if cell == "egru" else None))
    emb = rng.normal(0, 1.0, (vocab, sizes[0])).astype(np.float32)
    return EGRUModel(emb, layers, rng.normal(0, 0.1, vocab).astype(np.float32), {"name": "tiny"})
