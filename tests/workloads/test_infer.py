"""The Numba inference equals the torch forward (events and values) on a small random model."""

import math

import numpy as np
import pytest

from accelsim.workloads.infer import run_inference
from accelsim.workloads.model_file import load_model, round_trip, save_model

from .conftest import tiny_model

torch = pytest.importorskip("torch")


def torch_reference(model, ids):
    from accelsim.workloads.egru_torch import EGRULanguageModel, forward_events

    torch.set_num_threads(1)
    net = EGRULanguageModel.from_model(model)
    return forward_events(net, ids, chunk=64)


def test_numba_matches_torch_events_and_values():
    model = round_trip(tiny_model())
    ids = np.random.default_rng(1).integers(0, model.vocab_size, 300).astype(np.int32)
    ys, nll = torch_reference(model, ids)
    res = run_inference(model, ids, chunk=128)  # several chunks: state must carry across them
    assert res.tokens == 300 and res.predictions == 299
    for l, (indptr, idx, val) in enumerate(res.events):
        y = ys[l]
        assert 0.05 < (y != 0).mean() < 0.95  # the test is meaningful: units fire, not all
        for t in range(300):
            want = np.flatnonzero(y[t])
            got = idx[indptr[t]:indptr[t + 1]]
            np.testing.assert_array_equal(got, want)
            np.testing.assert_allclose(val[indptr[t]:indptr[t + 1]], y[t, want], rtol=1e-5, atol=1e-6)
    assert res.perplexity == pytest.approx(math.exp(nll.mean()), rel=1e-5)


def test_window_and_warm_start_match_full_run():
    model = round_trip(tiny_model(seed=3))
    ids = np.random.default_rng(2).integers(0, model.vocab_size, 200).astype(np.int32)
    full = run_inference(model, ids)
    win = run_inference(model, ids, start=120, tokens=50, warm_tokens=120)
    np.testing.assert_array_equal(win.event_counts, full.event_counts[120:170])
    ip_f, idx_f, _ = full.events[1]
    ip_w, idx_w, _ = win.events[1]
    np.testing.assert_array_equal(idx_w, idx_f[ip_f[120]:ip_f[170]])


def test_model_file_round_trip(tmp_path):
    model = tiny_model()
    p = tmp_path / "m.npz"
    save_model(p, model)
    back = load_model(p)
    assert back.sizes == [16, 24, 20, 16]
    np.testing.assert_array_equal(back.layers[1].R, model.layers[1].R.astype(np.float16).astype(np.float32))
    np.testing.assert_array_equal(back.layers[2].threshold, model.layers[2].threshold)


def test_pruned_model_sparse_walk_equals_dense_rows_and_torch():
    from accelsim.workloads.infer import pack
    from accelsim.workloads.prune import make_masks

    model = tiny_model(seed=5, weight_scale=1.5)
    masks = make_masks(model, 0.8, "unstructured", 16)
    for i, l in enumerate(model.layers):
        l.W *= masks[f"l{i}.W"]
        l.R *= masks[f"l{i}.R"]
    model = round_trip(model)
    ids = np.random.default_rng(4).integers(0, model.vocab_size, 250).astype(np.int32)
    sparse = run_inference(model, ids, packed=pack(model, csc=True))
    dense = run_inference(model, ids, packed=pack(model, csc=False))
    assert pack(model).use_csc.tolist() == [1, 1, 1]
    ys, nll = torch_reference(model, ids)
    for l in range(3):
        for a, b in zip(sparse.events[l], dense.events[l]):
            np.testing.assert_array_equal(a, b)  # bit-identical: same products, same order
        indptr, idx, val = sparse.events[l]
        steps = np.repeat(np.arange(250), np.diff(indptr))
        got = np.zeros_like(ys[l])
        got[steps, idx] = val
        assert (ys[l] != 0).sum() > 100
        np.testing.assert_array_equal(got != 0, ys[l] != 0)
        np.testing.assert_allclose(got, ys[l], rtol=1e-5, atol=1e-6)
    assert sparse.perplexity == pytest.approx(math.exp(nll.mean()), rel=1e-5)
