import io
import json
import zipfile

import numpy as np
import pytest

from accelsim.errors import InputError
from accelsim.trace import load_trace, save_trace, trace_from_arrays
from accelsim.trace.format import trace_bytes
from tests.conftest import tiny_trace


def _write(path, arrays):
    np.savez(path, **arrays)
    return path


def test_round_trip_keeps_every_array_and_identity(tmp_path):
    t = tiny_trace()
    digest = save_trace(tmp_path / "t.npz", t)
    back = load_trace(tmp_path / "t.npz")
    assert back.sha256 == digest
    a, b = t.to_arrays(), back.to_arrays()
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k
    assert json.loads(str(b["meta"][()]))["format"] == "accelsim-trace"
    # a trace written twice has the same bytes (fixed zip timestamps)
    assert save_trace(tmp_path / "u.npz", t) == digest


def test_keys_are_the_documented_v1_names(tmp_path):
    save_trace(tmp_path / "t.npz", tiny_trace(sizes=(4, 5, 3)))
    with np.load(tmp_path / "t.npz", allow_pickle=False) as z:
        names = set(z.files)
    for l in (0, 1):
        for k in ("weight.indptr", "weight.indices", "weight.values", "bias_x", "bias_r", "threshold",
                  "events.indptr", "events.indices", "events.values"):
            assert f"l{l}.{k}" in names
    assert {"meta", "input.embedding", "input.tokens"} <= names


def test_dense_round_trip_of_the_weight_matrix():
    t = tiny_trace(sizes=(3, 4))
    dense = t.layers[0].weight.to_dense()
    assert dense.shape == (12, 7)
    assert np.count_nonzero(dense) == t.layers[0].weight.nnz


def _arrays(**changes):
    a = tiny_trace().to_arrays()
    a.update(changes)
    return {k: v for k, v in a.items() if v is not None}


def _meta(**changes):
    m = json.loads(str(tiny_trace().to_arrays()["meta"][()]))
    m.update(changes)
    return np.array(json.dumps(m))


def _err(arrays) -> str:
    with pytest.raises(InputError) as e:
        trace_from_arrays(arrays, "t.npz")
    msg = str(e.value)
    assert msg.startswith("t.npz: ") and "\n" not in msg
    return msg


def test_unsupported_version():
    assert "meta.version: unsupported version 3; this accelsim reads versions 1, 2" in _err(
        _arrays(meta=_meta(version=3)))


def test_wrong_format_name():
    assert "meta.format: must be 'accelsim-trace'" in _err(_arrays(meta=_meta(format="other")))


def test_missing_key():
    assert "l1.bias_r: missing key" in _err(_arrays(**{"l1.bias_r": None}))


def test_wrong_dtype():
    a = _arrays()
    msg = _err({**a, "l0.weight.indptr": a["l0.weight.indptr"].astype(np.int32)})
    assert "l0.weight.indptr: dtype must be int64 (got int32)" in msg


def test_wrong_shape():
    a = _arrays()
    assert "l0.threshold: must have 8 entries (got 7)" in _err({**a, "l0.threshold": a["l0.threshold"][:-1]})


def test_mismatched_dims_between_layers():
    m = json.loads(str(_arrays()["meta"][()]))
    m["layers"][1]["input_size"] = 9
    assert "meta.layers[1].input_size: must equal layer 0's hidden_size 8 (got 9)" in _err(
        _arrays(meta=np.array(json.dumps(m))))


def test_out_of_range_indices():
    a = _arrays()
    idx = a["l0.events.indices"].copy()
    idx[-1] = 8  # H = 8
    assert "l0.events.indices: unit ids must be in [0, 8) (found 8)" in _err({**a, "l0.events.indices": idx})


def test_unsorted_indices_within_a_step():
    a = _arrays()
    ptr, idx = a["l0.events.indptr"], a["l0.events.indices"].copy()
    t = int(np.argmax(np.diff(ptr) >= 2))
    s = int(ptr[t])
    idx[s], idx[s + 1] = idx[s + 1], idx[s]
    assert f"sorted and unique within each step (step {t} is not)" in _err({**a, "l0.events.indices": idx})


def test_non_monotone_indptr():
    a = _arrays()
    ptr = a["l1.events.indptr"].copy()
    ptr[3] = ptr[4] + 1
    assert "l1.events.indptr: must be non-decreasing" in _err({**a, "l1.events.indptr": ptr})


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_values(bad):
    a = _arrays()
    v = a["l1.weight.values"].copy()
    v[0] = bad
    assert "l1.weight.values: holds 1 NaN/inf value(s)" in _err({**a, "l1.weight.values": v})


def test_object_arrays_are_refused_never_unpickled(tmp_path):
    a = _arrays()
    a["l0.threshold"] = np.array([{"__reduce__": "boom"}, 1], dtype=object)
    p = tmp_path / "obj.npz"
    np.savez(p, **a)
    with pytest.raises(InputError, match=r"obj.npz: l0.threshold: holds a Python object array; refused"):
        load_trace(p)


def test_truncated_file(tmp_path):
    good = tmp_path / "g.npz"
    save_trace(good, tiny_trace())
    data = good.read_bytes()
    bad = tmp_path / "trunc.npz"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"trunc.npz: .*truncated or corrupt"):
        load_trace(bad)


def test_corrupt_member(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("meta.npy", b"\x93NUMPY garbage that is no header")
    p = tmp_path / "corrupt.npz"
    p.write_bytes(buf.getvalue())
    with pytest.raises(InputError, match=r"corrupt.npz: meta: "):
        load_trace(p)


def test_not_a_zip_at_all(tmp_path):
    p = tmp_path / "text.npz"
    p.write_text("hello")
    with pytest.raises(InputError, match=r"text.npz: not a .npz archive"):
        load_trace(p)


def test_writer_refuses_an_invalid_trace():
    t = tiny_trace()
    bad = t.layers[0].threshold.copy()
    bad[0] = np.nan
    from dataclasses import replace
    t2 = replace(t, layers=(replace(t.layers[0], threshold=bad),) + t.layers[1:])
    with pytest.raises(InputError, match="threshold"):
        trace_bytes(t2)


def test_head_takes_a_prefix():
    t = tiny_trace(T=7)
    h = t.head(3)
    assert h.steps == 3 and h.layers[0].events.steps == 3
    assert np.array_equal(h.layers[1].events.indices, t.layers[1].events.indices[: t.layers[1].events.indptr[3]])
    with pytest.raises(InputError, match="asked for 8 tokens, the trace has 7"):
        t.head(8)


def test_trace_cli_bad_input_exit_2_one_line_no_traceback(cli, tmp_path):
    p = tmp_path / "bad.npz"
    a = _arrays(meta=_meta(version=7))
    np.savez(p, **a)
    for sub in ("info", "validate"):
        code, out, err = cli("trace", sub, p)
        assert code == 2 and out == ""
        assert err == f"accelsim: error: {p}: meta.version: unsupported version 7; this accelsim reads versions 1, 2\n"
