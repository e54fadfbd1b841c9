"""Pruning hits the requested sparsity exactly; column-balanced gives equal work per PE group."""

import numpy as np
import pytest

from accelsim.workloads.prune import column_balanced_mask, magnitude_mask, make_masks

from .conftest import tiny_model


@pytest.mark.parametrize("s", [0.0, 0.5, 0.7, 0.8, 0.9])
def test_magnitude_mask_exact_and_keeps_largest(s):
    w = np.random.default_rng(0).normal(size=(75, 41)).astype(np.float32)
    m = magnitude_mask(w, s)
    assert int((m == 0).sum()) == round(s * w.size)
    if 0 < s:
        assert np.abs(w[m == 1]).min() >= np.abs(w[m == 0]).max()


@pytest.mark.parametrize("rows,groups", [(1200, 16), (600, 16), (80, 8)])
def test_column_balanced_equal_nonzeros_per_column_per_group(rows, groups):
    w = np.random.default_rng(1).normal(size=(rows, 33)).astype(np.float32)
    m = column_balanced_mask(w, 0.8, groups)
    assert (m == 0).mean() == pytest.approx(0.8, abs=1e-12)
    for g in range(groups):
        per_col = m[np.arange(rows) % groups == g].sum(axis=0)
        assert len(set(per_col.tolist())) == 1  # every column: same count in this group
        rows_g = int((np.arange(rows) % groups == g).sum())
        assert per_col[0] == round(0.2 * rows_g)
        # the kept entries are the largest within their (group, column)
        blk, mk = np.abs(w[np.arange(rows) % groups == g]), m[np.arange(rows) % groups == g]
        assert (np.where(mk == 1, blk, np.inf).min(axis=0) >= np.where(mk == 0, blk, -np.inf).max(axis=0)).all()


def test_model_masks_cover_every_recurrent_matrix():
    model = tiny_model()
    masks = make_masks(model, 0.7, "unstructured", 16)
    assert sorted(masks) == ["l0.R", "l0.W", "l1.R", "l1.W", "l2.R", "l2.W"]
    for k, m in masks.items():
        assert int((m == 0).sum()) == round(0.7 * m.size)
