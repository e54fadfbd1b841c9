"""`trace synth --pruning N:M` gives weights the nm weight format stores: at most N nonzeros in
every group of M consecutive rows of a column (the last group of 3H rows may be shorter)."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.config import config_from_dict
from accelsim.errors import InputError
from accelsim.trace import load_trace
from accelsim.trace.synth import synthesize
from accelsim.units.weight_sram import column_tables


@pytest.mark.parametrize("n,m", [(2, 4), (1, 4), (3, 8), (1, 2)])
def test_nm_pruning_conforms_to_the_nm_format(n, m):
    # H = 5: 15 gate rows, so with M = 4 or 8 the last group is shorter
    t = synthesize(layers=[6, 5, 7], tokens=4, pruning=f"{n}:{m}", seed=3, vocab_size=5)
    cfg = config_from_dict({"weight_format": "nm", "nm_n": n, "nm_m": m})
    for i, layer in enumerate(t.layers):
        w = layer.weight.to_dense()
        rows = w.shape[0]
        for start in range(0, rows, m):
            per_col = (w[start:start + m] != 0).sum(axis=0)
            assert (per_col <= n).all()
            assert (per_col == min(n, min(m, rows - start))).all()     # N kept (weights are nonzero)
        column_tables(cfg, layer.weight, f"layer {i}")                  # accepted


def test_unstructured_weights_are_refused_by_nm():
    t = synthesize(layers=[6, 5], tokens=4, pruning="unstructured", weight_sparsity=0.3, seed=3,
                   vocab_size=5)
    with pytest.raises(InputError, match=r"^layer 0: weight column \d+ is not 2:4 structured: group \d+"):
        column_tables(config_from_dict({"weight_format": "nm"}), t.layers[0].weight, "layer 0")


def test_synth_cli_nm_trace_runs_with_the_nm_format(cli, tmp_path):
    p = tmp_path / "s.npz"
    code, _, err = cli("trace", "synth", "--layers", "8,12", "--tokens", "5", "--vocab", "10",
                       "--pruning", "1:4", "--out", p)
    assert code == 0, err
    cfg = config_from_dict({"weight_format": "nm", "nm_n": 1, "nm_m": 4})
    w = load_trace(p).layers[0].weight
    column_tables(cfg, w, "layer 0")
    assert w.nnz == (8 + 12) * 3 * 12 // 4
    np.testing.assert_array_equal(np.diff(w.indptr), 9)                # 36 rows: 9 groups
