"""Loading a case, the trace built from it, its stream model and a head of it."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from accelsim.config import load_config
from accelsim.errors import InputError
from accelsim.validate.case import case_config, case_trace, load_case
from tests.validate.casegen import shared_case, write_case
from tests.validate.conftest import ARCH_B


def test_load_synthetic(tmp_path):
    folder = write_case(tmp_path / "c", steps=7, stream=0.25)
    case = load_case(folder)
    assert case.name == "c" and case.steps == 7 and case.layers == ((8, 16), (16, 16))
    assert case.stream == 0.25 and case.startup_cycles == 2
    assert case.rtl_step_cycles.shape == (7, 2)
    assert case.rtl_cycles_total == 2 + int(case.rtl_step_cycles.sum())
    h = hashlib.sha256()
    for name in ("case.json", "steps.csv", "events.npz"):
        h.update((folder / name).read_bytes())
    assert case.sha256 == h.hexdigest()


def test_rows_in_any_order(tmp_path):
    folder = write_case(tmp_path / "c", steps=5)
    before = load_case(folder)
    lines = (folder / "steps.csv").read_text().splitlines()
    (folder / "steps.csv").write_text("\n".join([lines[0]] + lines[1:][::-1]) + "\n")
    after = load_case(folder)
    for k in before.table:
        assert (before.table[k] == after.table[k]).all()


def test_trace_replays_the_case_columns(tmp_path):
    case = load_case(write_case(tmp_path / "c", steps=9, seed=4))
    tr = case_trace(case)
    assert tr.steps == 9 and tr.vocab_size == 1 and len(tr.layers) == 2
    assert tr.meta["source"]["validation_case"] == "c"
    assert tr.path == str(case.path) and tr.sha256 == case.sha256
    for (n_in, H), e, l in zip(case.layers, case.events, tr.layers):
        assert (l.input_size, l.hidden_size) == (n_in, H)
        assert l.weight.shape == (3 * H, n_in + H) and l.weight.nnz == 3 * H * (n_in + H)
        assert (l.weight.values != 0).all()
        assert l.bias_x.shape == l.bias_r.shape == (3 * H,) and (l.bias_x != 0).all() and (l.bias_r != 0).all()
        assert (l.threshold == 0).all() and l.threshold.shape == (H,)
        assert l.x_events.indices.dtype == np.int64 and l.h_events.indices.dtype == np.int64
        assert l.x_events.values is None and l.h_events.values is None
        assert (l.x_events.indptr == e.x_indptr).all() and (l.x_events.indices == e.x_indices).all()
        assert (l.h_events.indptr == e.h_indptr).all() and (l.h_events.indices == e.h_indices).all()
        assert l.bias_fires.dtype == np.uint8 and (l.bias_fires == e.bias).all()
        # events[t] = h_events[t + 1], the last step empty
        ev = l.events
        assert ev.indices.dtype == np.int32 and ev.values.dtype == np.float32 and (ev.values == 1).all()
        assert ev.steps == 9
        for t in range(9):
            got = ev.indices[ev.indptr[t]:ev.indptr[t + 1]]
            want = (e.h_indices[e.h_indptr[t + 1]:e.h_indptr[t + 2]] if t + 1 < 9 else [])
            assert list(got) == list(want)
    # same case, same weights
    assert (case_trace(case).layers[0].weight.values == tr.layers[0].weight.values).all()


def test_stream_model_sets_stream_efficiency(tmp_path):
    cfg = load_config(ARCH_B)
    every = load_case(write_case(tmp_path / "a"))
    half = load_case(write_case(tmp_path / "b", stream=0.5))
    assert case_config(cfg, every) is cfg
    c = case_config(cfg, half)
    assert c.dram.stream_efficiency == 0.5
    assert c.dram.bandwidth_bytes_per_cycle == cfg.dram.bandwidth_bytes_per_cycle and c.name == cfg.name


def test_head(tmp_path):
    case = load_case(write_case(tmp_path / "c", steps=10))
    h = case.head(4)
    assert h.steps == 4 and h.rtl_step_cycles.shape == (4, 2)
    assert h.rtl_cycles_total == 2 + int(case.rtl_step_cycles[:4].sum())
    for a, b in zip(h.events, case.events):
        assert len(a.x_indptr) == 5 and len(a.x_indices) == a.x_indptr[-1] == b.x_indptr[4]
        assert len(a.h_indices) == b.h_indptr[4] and len(a.bias) == 4
    assert case_trace(h).steps == 4
    with pytest.raises(InputError):
        case.head(11)


@pytest.mark.parametrize("name,stream,total", [("edgedrnn-tb", "every_cycle", 189229),
                                               ("edgedrnn-tb-p50", 0.5, 316293)])
def test_shared_cases_load(name, stream, total):
    case = load_case(shared_case(name))
    assert case.steps == 1000 and case.layers == ((8, 16), (16, 16))
    assert case.stream == stream and case.rtl_cycles_total == total and case.startup_cycles == 2
    # the documented means of fired columns per step
    assert np.diff(case.events[0].x_indptr).mean() == pytest.approx(2.40, abs=0.005)
    assert np.diff(case.events[1].h_indptr).mean() == pytest.approx(5.33, abs=0.005)
    assert case_trace(case).steps == 1000
