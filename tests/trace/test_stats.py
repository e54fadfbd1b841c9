import numpy as np
import pytest

from accelsim.trace.stats import (activity_sparsity, layer_macs_exact, layer_macs_formula, trace_summary,
                                  weight_sparsity)
from tests.conftest import tiny_trace


def _brute_force_macs(trace):
    """Triple loop over steps, events and rows: the definition, nothing clever."""
    total = 0
    for l, layer in enumerate(trace.layers):
        W = layer.weight.to_dense()
        n_in = layer.input_size
        for t in range(trace.steps):
            if l == 0:
                inputs = range(n_in)  # dense embedding
            else:
                ev = trace.layers[l - 1].events
                inputs = ev.indices[ev.indptr[t]:ev.indptr[t + 1]]
            for j in inputs:
                total += sum(1 for i in range(W.shape[0]) if W[i, j] != 0)
            if t > 0:
                ev = layer.events
                for j in ev.indices[ev.indptr[t - 1]:ev.indptr[t]]:
                    total += sum(1 for i in range(W.shape[0]) if W[i, n_in + j] != 0)
    return total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_macs_equal_brute_force(seed):
    t = tiny_trace(sizes=(5, 7, 6, 4), T=9, seed=seed)
    assert sum(layer_macs_exact(t, l) for l in range(3)) == _brute_force_macs(t)
    assert trace_summary(t)["macs_sparse"] == _brute_force_macs(t)


def test_formula_by_hand_on_a_known_trace():
    t = tiny_trace(sizes=(4, 6), T=5, seed=3)
    layer = t.layers[0]
    W = layer.weight.to_dense()
    sW = 1 - np.count_nonzero(W[:, :4]) / (18 * 4)
    sR = 1 - np.count_nonzero(W[:, 4:]) / (18 * 6)
    a = int(layer.events.indptr[-1]) / (5 * 6)
    assert weight_sparsity(layer)["W"] == pytest.approx(sW)
    assert weight_sparsity(layer)["R"] == pytest.approx(sR)
    assert activity_sparsity(layer) == pytest.approx(1 - a)
    assert layer_macs_formula(t, 0) == pytest.approx(5 * ((1 - sW) * 1.0 * 4 * 18 + (1 - sR) * a * 6 * 18))


def test_dense_macs_and_summary_keys():
    t = tiny_trace(sizes=(5, 7, 6), T=4)
    s = trace_summary(t)
    assert s["macs_dense"] == 4 * (21 * 12 + 18 * 13)
    assert s["tokens"] == 4
    assert {"input_size", "hidden_size", "activity_sparsity", "weight_sparsity"} <= set(s["layers"][0])


def _brute_force_macs_v2(trace):
    """As _brute_force_macs, but a layer reads its x_events / h_events columns where it carries them."""
    total = 0
    for l, layer in enumerate(trace.layers):
        W = layer.weight.to_dense()
        n_in = layer.input_size
        for t in range(trace.steps):
            if layer.x_events is not None:
                ev = layer.x_events
                inputs = ev.indices[ev.indptr[t]:ev.indptr[t + 1]]
            elif l == 0:
                inputs = range(n_in)
            else:
                ev = trace.layers[l - 1].events
                inputs = ev.indices[ev.indptr[t]:ev.indptr[t + 1]]
            if layer.h_events is not None:
                ev = layer.h_events
                rec = ev.indices[ev.indptr[t]:ev.indptr[t + 1]]
            else:
                ev = layer.events
                rec = ev.indices[ev.indptr[t - 1]:ev.indptr[t]] if t > 0 else []
            for j in inputs:
                total += sum(1 for i in range(W.shape[0]) if W[i, j] != 0)
            for j in rec:
                total += sum(1 for i in range(W.shape[0]) if W[i, n_in + j] != 0)
    return total


@pytest.mark.parametrize("groups", [("x_events", "h_events"), ("x_events",), ("h_events",)])
def test_exact_macs_of_a_v2_trace_equal_brute_force(groups):
    from tests.trace.test_format_v2 import v2_trace

    t = v2_trace(groups=groups)
    assert trace_summary(t)["macs_sparse"] == _brute_force_macs_v2(t)
    # the v2 columns change the count: the same trace without them counts otherwise
    from dataclasses import replace
    plain = replace(t, layers=tuple(replace(l, x_events=None, h_events=None) for l in t.layers))
    assert trace_summary(plain)["macs_sparse"] == _brute_force_macs(plain) != trace_summary(t)["macs_sparse"]


def test_formula_uses_the_v2_column_activity():
    from tests.trace.test_format_v2 import v2_trace

    t = v2_trace()
    layer = t.layers[0]
    W = layer.weight.to_dense()
    sW = 1 - np.count_nonzero(W[:, :6]) / (24 * 6)
    sR = 1 - np.count_nonzero(W[:, 6:]) / (24 * 8)
    a_x = int(layer.x_events.indptr[-1]) / (7 * 6)
    a_h = int(layer.h_events.indptr[-1]) / (7 * 8)
    assert layer_macs_formula(t, 0) == pytest.approx(7 * ((1 - sW) * a_x * 6 * 24 + (1 - sR) * a_h * 8 * 24))
