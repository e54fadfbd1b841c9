"""The metrics on a hand-made example, and per layer-step cycles from a per-step table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from accelsim.validate.compare import (METRIC_KEYS, compare, error_pct, layer_step_cycles, pearson,
                                       per_layer_means, per_step_frame)

# two layers, two steps: [t, layer]
RTL = np.array([[100, 200], [50, 100]])
SIM = np.array([[100, 230], [50, 90]])


def test_metrics_by_hand():
    m = compare(RTL, SIM, rtl_total=452, sim_total=472, case="c", config="k.yaml")
    assert tuple(m) == METRIC_KEYS
    assert m["case"] == "c" and m["config"] == "k.yaml"
    assert m["layer_steps"] == 4 and m["rtl_cycles"] == 452 and m["sim_cycles"] == 472
    assert m["ratio"] == pytest.approx(472 / 452)
    # identical: (0, 0) and (1, 0)
    assert m["exact_fraction"] == 0.5
    # |sim - rtl| / rtl: 0, 15 %, 0, 10 %
    assert m["mean_abs_error_pct"] == pytest.approx(25 / 4)
    # sorted 0, 0, 10, 15; the 95th percentile sits at 0.95 x 3 = 2.85: 10 + 0.85 x 5
    assert m["p95_abs_error_pct"] == pytest.approx(14.25)
    # deviations from the means 112.5 and 117.5
    cov = (-12.5 * -17.5) + (87.5 * 112.5) + (-62.5 * -67.5) + (-12.5 * -27.5)  # 14625
    var_r = 12.5 ** 2 + 87.5 ** 2 + 62.5 ** 2 + 12.5 ** 2                          # 11875
    var_s = 17.5 ** 2 + 112.5 ** 2 + 67.5 ** 2 + 27.5 ** 2                         # 18275
    assert cov == 14625 and var_r == 11875 and var_s == 18275
    assert m["correlation"] == pytest.approx(cov / math.sqrt(var_r * var_s))
    assert m["correlation"] == pytest.approx(0.992774, abs=1e-6)


def test_perfect_agreement():
    m = compare(RTL, RTL, 452, 452)
    assert m["ratio"] == 1.0 and m["exact_fraction"] == 1.0
    assert m["mean_abs_error_pct"] == 0.0 and m["p95_abs_error_pct"] == 0.0
    assert m["correlation"] == pytest.approx(1.0)


def test_correlation_undefined_when_constant():
    assert pearson([5, 5, 5], [1, 2, 3]) is None
    assert pearson([1, 2, 3], [7, 7, 7]) is None
    assert pearson([1], [2]) is None
    m = compare(np.full(4, 100), np.array([90, 100, 110, 120]), 400, 420)
    assert m["correlation"] is None
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_signed_error_and_layer_means():
    assert error_pct(np.array([100, 200]), np.array([110, 150])).tolist() == pytest.approx([10.0, -25.0])
    assert per_layer_means(RTL, SIM) == [(75.0, 75.0), (150.0, 160.0)]


def test_per_step_frame():
    table = {"n_x": np.array([[1, 2], [3, 4]]), "n_h": np.array([[0, 0], [5, 6]]),
             "bias": np.array([[1, 1], [0, 0]]), "cycles": RTL}
    df = per_step_frame(table, SIM)
    assert list(df.columns) == ["t", "layer", "n_x", "n_h", "bias", "rtl_cycles", "sim_cycles", "error_pct"]
    assert df["t"].tolist() == [0, 0, 1, 1] and df["layer"].tolist() == [0, 1, 0, 1]
    assert df["n_x"].tolist() == [1, 2, 3, 4] and df["sim_cycles"].tolist() == [100, 230, 50, 90]
    assert df["error_pct"].tolist() == pytest.approx([0.0, 15.0, 0.0, -10.0])


def test_layer_step_cycles_spans_all_phases():
    rows = [  # t, layer, phase, start, end
        (0, 0, "x", 2, 10), (0, 0, "r", 10, 30), (0, 0, "update", 30, 46),
        (0, 1, "xr", 46, 80), (0, 1, "update", 80, 96),
        (1, 0, "x", 96, 96), (1, 0, "r", 96, 100), (1, 0, "update", 100, 116),
        (1, 1, "xr", 116, 117), (1, 1, "update", 117, 133),
        (0, 2, "decoder", 0, 1000), (1, 2, "decoder", 0, 1000),   # another cluster: ignored
    ]
    df = pd.DataFrame(rows, columns=["t", "layer", "phase", "start", "end"])
    df["cycles"] = df["end"] - df["start"]
    got = layer_step_cycles(df.iloc[::-1], steps_n=2, layers_n=2)
    assert got.tolist() == [[44, 50], [20, 17]]


def test_layer_step_cycles_missing_row():
    df = pd.DataFrame([(0, 0, "xr", 0, 5)], columns=["t", "layer", "phase", "start", "end"])
    with pytest.raises(ValueError, match="no row for layer 1 at step 0"):
        layer_step_cycles(df, steps_n=1, layers_n=2)
