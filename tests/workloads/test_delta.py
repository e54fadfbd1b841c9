"""Delta-network (DeltaGRU) inference: Numba against torch, against a plain GRU, and its traces."""

import math

import numpy as np
import pytest

from accelsim.trace import load_trace, save_trace
from accelsim.workloads.delta_infer import run_delta
from accelsim.workloads.model_file import load_model, round_trip, save_model

from .conftest import tiny_model

torch = pytest.importorskip("torch")


def _gru(seed=0):
    return round_trip(tiny_model(seed=seed, cell="gru"))


def _ids(model, n=300, seed=1):
    return np.random.default_rng(seed).integers(0, model.vocab_size, n).astype(np.int32)


def _mask(ev, shape):
    indptr, idx, _ = ev
    a = np.zeros(shape, bool)
    a[np.repeat(np.arange(len(indptr) - 1), np.diff(indptr)), idx] = True
    return a


@pytest.mark.parametrize("theta_x,theta_h", [(0.1, 0.05), (0.3, 0.2), (0.0, 0.1)])
def test_numba_matches_torch_transmissions(theta_x, theta_h):
    from accelsim.workloads.gru_torch import forward_delta

    torch.set_num_threads(1)
    model = _gru()
    ids = _ids(model)
    xf, hf, nll = forward_delta(model, ids, theta_x, theta_h)
    res = run_delta(model, ids, theta_x, theta_h, chunk=128)  # the state carries across chunks
    assert res.tokens == 300 and res.predictions == 299
    for l, layer in enumerate(model.layers):
        x = _mask(res.x_events[l], (300, layer.input_size))
        h = _mask(res.h_events[l], (300, layer.hidden_size))
        assert 0.02 < h.mean() < 0.98  # the threshold bites: some columns sent, not all
        assert 0.02 < x.mean() < (0.98 if theta_x > 0 else 1.01)
        np.testing.assert_array_equal(x, xf[l])
        np.testing.assert_array_equal(h, hf[l])
        assert not h[0].any()  # the state before step 0 is zero: nothing to send
    assert res.perplexity == pytest.approx(math.exp(nll.mean()), rel=1e-5)


def test_zero_thresholds_equal_the_plain_gru():
    """With theta = 0 every change is sent, so the delta network computes the GRU itself: the
    same perplexity as torch.nn.GRU (the training model), which pins the gate order too."""
    from accelsim.workloads.gru_torch import GRULanguageModel

    from torch.nn import functional as F

    model = _gru(seed=3)
    ids = _ids(model, 200)
    net = GRULanguageModel.from_model(model).eval()
    with torch.no_grad():
        logits, _, _ = net(torch.from_numpy(ids.astype(np.int64)).view(-1, 1), net.init_state(1))
        nll = F.cross_entropy(logits[:-1, 0], torch.from_numpy(ids[1:].astype(np.int64)))
    res = run_delta(model, ids, 0.0, 0.0)
    assert res.perplexity == pytest.approx(math.exp(float(nll)), rel=2e-5)
    res_t = run_delta(model, ids, 0.2, 0.2)
    assert abs(res_t.perplexity - res.perplexity) > 1e-3 * res.perplexity  # thresholds change it


def test_higher_thresholds_send_fewer_columns():
    model = _gru()
    ids = _ids(model)
    lo, hi = run_delta(model, ids, 0.05, 0.05, record_events=False), run_delta(model, ids, 0.3, 0.3, record_events=False)
    assert (hi.x_counts.sum(0) < lo.x_counts.sum(0)).all()
    assert (hi.h_counts.sum(0) < lo.h_counts.sum(0)).all()
    assert lo.x_events is None


def test_pruned_model_walks_nonzeros_like_dense_rows():
    from accelsim.workloads.infer import pack

    model = _gru(seed=5)
    for l in model.layers:
        l.W[np.abs(l.W) < np.quantile(np.abs(l.W), 0.8)] = 0
        l.R[np.abs(l.R) < np.quantile(np.abs(l.R), 0.8)] = 0
    ids = _ids(model)
    a = run_delta(model, ids, 0.1, 0.1, packed=pack(model, csc=True, dense_w0=True))
    b = run_delta(model, ids, 0.1, 0.1, packed=pack(model, csc=False, dense_w0=True))
    assert a.nll_sum == b.nll_sum
    for ea, eb in zip(a.h_events + a.x_events, b.h_events + b.x_events):
        for u, v in zip(ea, eb):
            np.testing.assert_array_equal(u, v)


def test_gru_model_file_round_trip_and_kind(tmp_path):
    m = tiny_model(cell="gru")
    save_model(tmp_path / "g.npz", m)
    back = load_model(tmp_path / "g.npz")
    assert back.cell == "gru" and back.meta["format"] == "accelsim-gru-model"
    assert all(l.threshold is None for l in back.layers)
    np.testing.assert_array_equal(back.layers[1].R, m.layers[1].R.astype(np.float16).astype(np.float32))
    with pytest.raises(Exception, match="GRU model"):
        run_delta(round_trip(tiny_model()), _ids(back), 0.1, 0.1)  # an EGRU is refused


def test_torch_gate_order_round_trip():
    """GRULanguageModel stores torch's [r | z | n]; the exported model is [z | r | g]."""
    from accelsim.workloads.gru_torch import GRULanguageModel, to_torch_order

    m = _gru()
    net = GRULanguageModel.from_model(m)
    H = m.layers[0].hidden_size
    np.testing.assert_array_equal(net.layers[0].weight_ih_l0.detach().numpy()[:H], m.layers[0].W[H:2 * H])
    np.testing.assert_array_equal(to_torch_order(m.layers[0].W, H)[H:2 * H], m.layers[0].W[:H])
    back = net.to_model()
    for a, b in zip(m.layers, back.layers):
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.bias_r, b.bias_r)


def test_delta_trace_carries_the_transmitted_columns(tmp_path):
    from accelsim.workloads.trace_export import make_delta_trace

    model = _gru()
    ids = _ids(model, 120)
    trace, res = make_delta_trace(model, ids, {"dataset": "test"}, 0.1, 0.05, start=10, tokens=100)
    save_trace(tmp_path / "d.npz", trace)
    t = load_trace(tmp_path / "d.npz")
    assert t.meta["version"] == 2 and t.steps == 100
    assert t.meta["perplexity"] == pytest.approx(res.perplexity, rel=1e-6)
    assert t.meta["source"]["theta_x"] == 0.1 and t.meta["source"]["theta_h"] == 0.05
    for l, layer in enumerate(t.layers):
        np.testing.assert_array_equal(np.diff(layer.x_events.indptr), res.x_counts[:, l])
        np.testing.assert_array_equal(np.diff(layer.h_events.indptr), res.h_counts[:, l])
        # events[t] are the recurrent columns read at step t + 1
        np.testing.assert_array_equal(layer.events.indices, layer.h_events.indices[layer.h_events.indptr[1]:])
        assert layer.bias_fires.tolist() == [1] + [0] * 99
        np.testing.assert_array_equal(layer.threshold, np.float32(0.05))
        # deltas as carried: the recorded values, float16
        np.testing.assert_array_equal(layer.x_events.values, res.x_events[l][2].astype(np.float16))
    assert t.meta["x_activity"][0] == pytest.approx(res.x_counts[:, 0].sum() / (100 * 16), abs=1e-6)


def test_summary_measures_and_matches_a_perplexity():
    from accelsim.workloads.delta_summary import match_theta, measure
    from accelsim.workloads.infer import pack

    model = _gru(seed=2)
    ids = _ids(model, 400)
    P = pack(model, dense_w0=True)
    rec = measure(model, P, ids, 0.15)
    res = run_delta(model, ids, 0.15, 0.15, record_events=False)
    want = 0.0
    for l, layer in enumerate(model.layers):
        # every sent column costs one MAC per gate row (dense weights)
        want += (res.x_counts[:, l].sum() + res.h_counts[:, l].sum()) / 400 * 3 * layer.hidden_size
    assert rec["macs_per_token_formula"] == pytest.approx(want, abs=0.1)
    assert rec["test_perplexity"] == round(res.perplexity, 3)


def test_threshold_search_finds_the_matching_perplexity(monkeypatch):
    """The bisection (perplexity rising with theta, as for a trained model) stops within the
    tolerance, and says None when the target is out of reach at either end."""
    from accelsim.workloads import delta_summary

    calls = []

    def fake(model, packed, ids, theta):
        calls.append(theta)
        return {"theta_x": theta, "test_perplexity": 100.0 + 80.0 * theta ** 2}

    monkeypatch.setattr(delta_summary, "measure", fake)
    got = delta_summary.match_theta(None, None, None, 130.0, tol=0.001)
    assert abs(got["test_perplexity"] - 130.0) <= 0.13
    assert got["theta_x"] == pytest.approx((30 / 80) ** 0.5, abs=2e-3)
    assert len(calls) <= 16
    assert delta_summary.match_theta(None, None, None, 95.0, tol=0.01) is None   # below theta = 0
    assert delta_summary.match_theta(None, None, None, 250.0, tol=0.01) is None  # above theta = 1
