"""An exported PTB trace validates, carries the measured perplexity, and holds no token ids."""

import json
import subprocess
import sys

import numpy as np

from accelsim.trace.format import load_trace
from accelsim.workloads.model_file import save_model

from .conftest import tiny_model


def test_trace_egru_cli_writes_valid_trace(ptb_path, tmp_path):
    model_path = tmp_path / "m.npz"
    model = tiny_model(vocab=10_000)
    save_model(model_path, model)
    out = tmp_path / "t.npz"
    r = subprocess.run([sys.executable, "-m", "accelsim", "trace", "egru", "--model", str(model_path),
                        "--ptb", str(ptb_path), "--split", "test", "--start", "100", "--tokens", "300",
                        "--no-decoder", "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    t = load_trace(out)
    assert t.steps == 300 and len(t.layers) == 3
    assert t.meta["source"]["dataset"] == "ptb" and t.meta["source"]["start"] == 100
    assert t.meta["perplexity"] > 1
    assert t.token_ids is None and t.decoder_weight is None and t.embedding.shape == (10_000, 16)
    with np.load(out, allow_pickle=False) as z:
        assert not any("token" in k for k in z.files)
    # weights are the stacked [W | R] with rows z, r, g
    w = t.layers[1].weight.to_dense()
    np.testing.assert_array_equal(w[:, :24], model.layers[1].W.astype(np.float16).astype(np.float32))
    np.testing.assert_array_equal(w[:, 24:], model.layers[1].R.astype(np.float16).astype(np.float32))
    r = subprocess.run([sys.executable, "-m", "accelsim", "trace", "validate", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
