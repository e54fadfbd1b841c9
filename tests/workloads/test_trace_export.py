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


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "accelsim", "trace", *map(str, args)],
                          capture_output=True, text=True)


def test_trace_delta_cli_writes_a_v2_trace_that_runs(ptb_path, tmp_path):
    from accelsim.workloads.delta_infer import run_delta
    from accelsim.workloads.model_file import load_model
    from accelsim.workloads.ptb import load_ptb

    model_path = tmp_path / "g.npz"
    save_model(model_path, tiny_model(vocab=10_000, cell="gru"))
    out = tmp_path / "d.npz"
    r = _cli("delta", "--model", model_path, "--ptb", ptb_path, "--start", 50, "--tokens", 200,
             "--theta-x", 0.2, "--theta-h", 0.1, "--out", out)
    assert r.returncode == 0, r.stderr
    t = load_trace(out)
    assert t.meta["version"] == 2 and t.steps == 200 and t.token_ids is None
    ids = load_ptb(ptb_path).test
    want = run_delta(load_model(model_path), ids, 0.2, 0.1, start=50, tokens=200)
    assert t.meta["perplexity"] == round(want.perplexity, 4)
    for l, layer in enumerate(t.layers):
        np.testing.assert_array_equal(np.diff(layer.x_events.indptr), want.x_counts[:, l])
        np.testing.assert_array_equal(np.diff(layer.h_events.indptr), want.h_counts[:, l])
    r = subprocess.run([sys.executable, "-m", "accelsim", "run", "configs/edgedrnn.yaml", "--trace",
                        str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_trace_delta_and_egru_refuse_the_other_kind(ptb_path, tmp_path):
    g, e = tmp_path / "g.npz", tmp_path / "e.npz"
    save_model(g, tiny_model(vocab=10_000, cell="gru"))
    save_model(e, tiny_model(vocab=10_000))
    r = _cli("delta", "--model", e, "--ptb", ptb_path, "--theta-x", 0.1, "--theta-h", 0.1,
             "--out", tmp_path / "o.npz")
    assert r.returncode == 2 and "trace it with `accelsim trace egru`" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = _cli("egru", "--model", g, "--ptb", ptb_path, "--out", tmp_path / "o.npz")
    assert r.returncode == 2 and "trace it with `accelsim trace delta`" in r.stderr
    r = _cli("delta", "--model", g, "--ptb", ptb_path, "--theta-x", -0.1, "--theta-h", 0.1,
             "--out", tmp_path / "o.npz")
    assert r.returncode == 2 and "--theta-x and --theta-h" in r.stderr
    assert not (tmp_path / "o.npz").exists()
