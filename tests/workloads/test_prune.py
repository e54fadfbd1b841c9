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


@pytest.mark.parametrize("n,m,rows", [(2, 4, 24), (1, 4, 15), (3, 8, 30)])
def test_nm_mask_keeps_the_n_largest_of_every_group_of_m_rows(n, m, rows):
    """The groups are the nm weight format's: consecutive rows gM .. gM+M-1 of a column, the
    last one shorter; the tables of an nm design accept the pruned matrix."""
    from accelsim.config import config_from_dict
    from accelsim.trace.format import CSC
    from accelsim.units.weight_sram import column_tables
    from accelsim.workloads.prune import nm_mask

    w = np.random.default_rng(2).normal(size=(rows, 17)).astype(np.float32)
    mask = nm_mask(w, n, m)
    for start in range(0, rows, m):
        blk, mk = np.abs(w[start:start + m]), mask[start:start + m]
        assert (mk.sum(axis=0) == min(n, blk.shape[0])).all()
        assert (np.where(mk == 1, blk, np.inf).min(axis=0) >= np.where(mk == 0, blk, -np.inf).max(axis=0)).all()
    cfg = config_from_dict({"weight_format": "nm", "nm_n": n, "nm_m": m})
    column_tables(cfg, CSC.from_dense(w * mask))                  # conforms: not refused


def test_nm_method_masks_and_arguments():
    import argparse

    from accelsim.workloads.prune import _method
    masks = make_masks(tiny_model(), 0.5, "2:4", 16)
    for m in masks.values():
        assert (m.reshape(-1, 4, m.shape[1]).sum(axis=1) == 2).all()   # 3H = 72, 60, 48 rows
    assert [_method(x) for x in ("2:4", "unstructured", "column-balanced")] == ["2:4", "unstructured",
                                                                              "column-balanced"]
    for bad in ("4:2", "0:4", "2-4"):
        with pytest.raises(argparse.ArgumentTypeError):
            _method(bad)
