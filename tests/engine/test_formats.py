"""csc_relative and nm end to end: the value check, and `accelsim run` refusing a trace nm cannot
store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accelsim.config import load_config
from accelsim.engine import check_values as cv
from accelsim.trace import save_trace
from accelsim.trace.synth import synthesize
from accelsim.units.weight_sram import column_tables
from tests.reference.tracegen import random_trace

REPO = Path(__file__).resolve().parents[2]
ARCH_A = REPO / "configs" / "arch_a.yaml"


def _fails(lines):
    return [l for l in lines if l.startswith("FAIL")]


def _arch_a(**update):
    c = load_config(ARCH_A)
    nested = {k: update.pop(k) for k in ("precision", "weight_sram") if k in update}
    for k, v in nested.items():
        update[k] = getattr(c, k).model_copy(update=v)
    return c.model_copy(update=update)


def _relative(index_bits=2, **kw):
    """arch_a with csc_relative on 2 banks: short runs, so sparse columns need paddings."""
    return _arch_a(weight_format="csc_relative", precision={"index_bits": index_bits},
                   weight_sram={"banks": 2}, **kw)


def _has_paddings(cfg, trace):
    for l in trace.layers:
        t = column_tables(cfg.model_copy(update={"skip_weights": True}), l.weight)
        if t.pe_work.sum() > l.weight.nnz:
            return True
    return False


# --------------------------------------------------------------------------- --check-values


@pytest.mark.parametrize("index_bits", [2, 4])
@pytest.mark.parametrize("layout", ["row_interleaved", "blocked"])
@pytest.mark.parametrize("sa,sw", [(True, True), (False, False), (True, False)])
def test_check_values_passes_for_relative_indices(index_bits, layout, sa, sw):
    cfg = _relative(index_bits, layout=layout, skip_activity=sa, skip_weights=sw, include_decoder=True)
    trace = random_trace(sizes=(5, 7, 6), tokens=6, weight_density=0.25, decoder=True, seed=2)
    if index_bits == 2:
        assert _has_paddings(cfg, trace)
    lines = cv.check_values(cfg, trace)
    assert len(lines) == 5 and not _fails(lines)


@pytest.mark.parametrize("n,m", [(2, 4), (1, 4), (4, 4), (1, 1), (3, 8)])
@pytest.mark.parametrize("layout", ["row_interleaved", "blocked"])
@pytest.mark.parametrize("sa,sw", [(True, True), (False, False)])
def test_check_values_passes_for_nm(n, m, layout, sa, sw):
    cfg = _arch_a(weight_format="nm", nm_n=n, nm_m=m, layout=layout, skip_activity=sa,
                  skip_weights=sw, include_decoder=True)
    trace = random_trace(sizes=(5, 7, 6), tokens=6, weight_density=0.8, decoder=True, seed=2, nm=(n, m))
    lines = cv.check_values(cfg, trace)
    assert len(lines) == 5 and not _fails(lines)


def test_relative_encoding_that_forgets_its_paddings_is_caught(monkeypatch):
    """Runs that overflow index_bits without padding entries decode to the wrong rows."""
    cfg = _relative()
    trace = random_trace(sizes=(5, 7, 6), tokens=6, weight_density=0.25, seed=2)
    assert _has_paddings(cfg, trace) and not _fails(cv.check_values(cfg, trace))
    real = cv.relative_encode

    def no_padding(col, local, values, index_bits):
        slot, value, run = real(col, local, values, 62)          # one entry per nonzero
        return slot, value, run & ((1 << index_bits) - 1)       # runs cut to index_bits

    monkeypatch.setattr(cv, "relative_encode", no_padding)
    assert _fails(cv.check_values(cfg, trace))


@pytest.mark.parametrize("fmt", ["csc_relative", "nm"])
def test_an_encoding_that_loses_a_value_is_caught(monkeypatch, fmt):
    cfg = _relative() if fmt == "csc_relative" else _arch_a(weight_format="nm")
    trace = random_trace(sizes=(5, 7), tokens=4, weight_density=0.5, seed=2,
                         nm=(2, 4) if fmt == "nm" else None)
    real = cv._encode_decode

    def lossy(config, col, rows, values, bank_rows, n_cols):
        c, r, v = real(config, col, rows, values, bank_rows, n_cols)
        keep = np.ones(v.size, bool)
        nz = np.flatnonzero(v != 0)
        keep[nz[-1:]] = False                                  # drop the last nonzero product
        return c[keep], r[keep], v[keep]

    assert not _fails(cv.check_values(cfg, trace))
    monkeypatch.setattr(cv, "_encode_decode", lossy)
    assert _fails(cv.check_values(cfg, trace))


def test_nm_encoding_stores_n_pairs_per_group_zeros_included():
    cfg = _arch_a(weight_format="nm", nm_n=2, nm_m=4)
    bank_rows = np.arange(10)                          # one bank: groups 0-3, 4-7, 8-9
    col = np.array([0, 1])
    rows = np.array([5, 9])
    c, r, v = cv._encode_decode(cfg, col, rows, np.array([1.5, -2.0]), bank_rows, 3)
    assert len(c) == 3 * (2 + 2 + 2)                   # 3 fetched columns, 2 per group
    assert sorted(zip(c[v != 0].tolist(), r[v != 0].tolist())) == [(0, 5), (1, 9)]
    for j in range(3):                                 # positions distinct within a group
        rows_j = r[c == j].tolist()
        assert len(set(rows_j)) == 6 and all(0 <= x < 10 for x in rows_j)


# ------------------------------------------------------------------------------- accelsim run


def _nm_yaml(tmp_path, extra=""):
    cfg = tmp_path / "nm.yaml"
    cfg.write_text(ARCH_A.read_text().replace("weight_format: csc", "weight_format: nm\nnm_n: 2\nnm_m: 4")
                   + extra)
    return cfg


def test_run_refuses_a_trace_that_is_not_nm_structured(cli, tmp_path):
    p = tmp_path / "dense.npz"
    save_trace(p, random_trace(sizes=(6, 8, 5), tokens=4, weight_density=0.9, seed=11))
    out = tmp_path / "never.json"
    code, stdout, err = cli("run", _nm_yaml(tmp_path), "--trace", p, "--out", out)
    assert code == 2 and not out.exists()
    assert err.startswith("accelsim: error: ") and err.count("\n") == 1, err
    assert f"{p}: layer 0: weight column " in err and "is not 2:4 structured: group " in err


def test_run_refuses_a_decoder_that_is_not_nm_structured(cli, tmp_path):
    tr = random_trace(sizes=(6, 8, 5), tokens=4, weight_density=0.9, seed=11, decoder=True, nm=(2, 4))
    dense_decoder = random_trace(sizes=(6, 8, 5), tokens=4, weight_density=0.9, seed=11, decoder=True)
    p = tmp_path / "t.npz"
    from dataclasses import replace
    save_trace(p, replace(tr, decoder_weight=dense_decoder.decoder_weight))
    cfg = _nm_yaml(tmp_path)
    cfg.write_text(cfg.read_text().replace("include_decoder: false", "include_decoder: true"))
    code, _, err = cli("run", cfg, "--trace", p, "--out", tmp_path / "never.json")
    assert code == 2 and err.count("\n") == 1 and ": decoder: weight column " in err, err


def test_run_accepts_a_synthesised_nm_trace_and_checks_its_values(cli, tmp_path):
    p = tmp_path / "s.npz"
    save_trace(p, synthesize(layers=[12, 16, 16], tokens=6, pruning="2:4", vocab_size=20, seed=1))
    code, stdout, err = cli("run", _nm_yaml(tmp_path), "--trace", p, "--check-values")
    assert code == 0, err
    assert stdout.count("ok ") >= 3 and "FAIL" not in stdout
