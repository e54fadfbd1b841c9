"""Trace format v2: per-layer input / recurrent columns and bias fires (delta networks)."""

import json
from dataclasses import replace

import numpy as np
import pytest

from accelsim.errors import InputError
from accelsim.trace import Events, load_trace, save_trace, trace_from_arrays
from accelsim.trace.format import FORMAT_VERSION, trace_bytes
from accelsim.trace.stats import trace_summary
from tests.conftest import tiny_trace

T = 7


def v2_trace(values=True, groups=("x_events", "h_events", "bias_fires"), seed=0):
    """tiny_trace (sizes 6, 8, 5) with the v2 groups on every layer."""
    t = tiny_trace(sizes=(6, 8, 5), T=T, seed=seed)
    rng = np.random.default_rng(100 + seed)
    layers = []
    for l in t.layers:
        x = (rng.random((T, l.input_size)) < 0.4) * rng.uniform(0.1, 1.0, (T, l.input_size))
        h = (rng.random((T, l.hidden_size)) < 0.3) * rng.uniform(0.1, 1.0, (T, l.hidden_size))
        x[2] = 0  # an empty step
        kw = {}
        if "x_events" in groups:
            kw["x_events"] = Events.from_dense(x, np.float16, index_dtype=np.int64, with_values=values)
        if "h_events" in groups:
            kw["h_events"] = Events.from_dense(h, np.float32, index_dtype=np.int64, with_values=values)
        if "bias_fires" in groups:
            kw["bias_fires"] = (np.arange(T) % 3 == 0).astype(np.uint8)
        layers.append(replace(l, **kw))
    return replace(t, layers=tuple(layers))


def _arrays(trace=None, drop=(), **changes):
    a = (trace or v2_trace()).to_arrays()
    a.update(changes)
    return {k: v for k, v in a.items() if v is not None and k not in drop}


def _meta(version):
    m = json.loads(str(v2_trace().to_arrays()["meta"][()]))
    m["version"] = version
    return np.array(json.dumps(m, sort_keys=True))


def _err(arrays) -> str:
    with pytest.raises(InputError) as e:
        trace_from_arrays(arrays, "t.npz")
    msg = str(e.value)
    assert msg.startswith("t.npz: ") and "\n" not in msg
    return msg


def _same(a: dict, b: dict):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and np.array_equal(a[k], b[k]), k


# ---------------------------------------------------------------------------------------------
# round trip, head, v1 compatibility


def test_make_meta_writes_version_2():
    assert FORMAT_VERSION == 2
    assert tiny_trace().meta["version"] == 2


@pytest.mark.parametrize("values", [True, False])
def test_v2_round_trip_same_arrays_and_deterministic_bytes(tmp_path, values):
    t = v2_trace(values=values)
    digest = save_trace(tmp_path / "a.npz", t)
    back = load_trace(tmp_path / "a.npz")
    _same(t.to_arrays(), back.to_arrays())
    assert back.sha256 == digest
    for l, m in zip(t.layers, back.layers):
        for g in ("x_events", "h_events"):
            e, f = getattr(l, g), getattr(m, g)
            assert f.indices.dtype == np.int64
            assert np.array_equal(e.indptr, f.indptr) and np.array_equal(e.indices, f.indices)
            assert (f.values is None) == (not values)
            if values:
                assert f.values.dtype == e.values.dtype and np.array_equal(e.values, f.values)
        assert m.bias_fires.dtype == np.uint8 and np.array_equal(l.bias_fires, m.bias_fires)
    with np.load(tmp_path / "a.npz", allow_pickle=False) as z:
        names = set(z.files)
    assert {"l0.x_events.indptr", "l0.x_events.indices", "l1.h_events.indptr", "l1.bias_fires"} <= names
    assert ("l0.x_events.values" in names) == values and ("l1.h_events.values" in names) == values
    # same content, same bytes; the reloaded trace writes the same bytes too
    assert save_trace(tmp_path / "b.npz", t) == digest
    assert save_trace(tmp_path / "c.npz", back) == digest
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "c.npz").read_bytes()


@pytest.mark.parametrize("group", ["x_events", "h_events", "bias_fires"])
def test_each_group_is_optional_on_its_own(tmp_path, group):
    t = v2_trace(groups=(group,))
    save_trace(tmp_path / "t.npz", t)
    back = load_trace(tmp_path / "t.npz")
    for l in back.layers:
        for g in ("x_events", "h_events", "bias_fires"):
            assert (getattr(l, g) is not None) == (g == group)


def test_v2_groups_on_one_layer_only():
    t = v2_trace()
    t = replace(t, layers=(t.layers[0], replace(t.layers[1], x_events=None, h_events=None, bias_fires=None)))
    back = trace_from_arrays(t.to_arrays())
    assert back.layers[0].x_events is not None and back.layers[1].x_events is None


def test_head_cuts_the_v2_groups():
    t = v2_trace()
    h = t.head(4)
    for l, m in zip(t.layers, h.layers):
        for g in ("x_events", "h_events"):
            e, f = getattr(l, g), getattr(m, g)
            end = int(e.indptr[4])
            assert f.steps == 4 and np.array_equal(f.indptr, e.indptr[:5])
            assert np.array_equal(f.indices, e.indices[:end]) and np.array_equal(f.values, e.values[:end])
        assert np.array_equal(m.bias_fires, l.bias_fires[:4])
    trace_from_arrays(h.to_arrays())  # still a valid trace
    h0 = v2_trace(values=False).head(0)
    assert h0.layers[0].x_events.values is None and h0.layers[0].bias_fires.shape == (0,)
    trace_from_arrays(h0.to_arrays())


def test_a_v1_file_still_loads_with_identical_arrays(tmp_path):
    t = tiny_trace()
    v1 = replace(t, meta=dict(t.meta, version=1))
    arrays = v1.to_arrays()
    assert json.loads(str(arrays["meta"][()]))["version"] == 1
    p = tmp_path / "v1.npz"
    np.savez(p, **arrays)  # written as any v1 writer would
    back = load_trace(p)
    _same(arrays, back.to_arrays())
    assert back.meta["version"] == 1
    assert all(l.x_events is None and l.h_events is None and l.bias_fires is None for l in back.layers)
    # and it is saved back as a version-1 file
    save_trace(tmp_path / "again.npz", back)
    assert load_trace(tmp_path / "again.npz").meta["version"] == 1


def test_a_v1_file_with_an_unknown_layer_key_still_loads():
    a = tiny_trace().to_arrays()
    m = json.loads(str(a["meta"][()]))
    m["version"] = 1
    a["meta"] = np.array(json.dumps(m))
    a["l0.notes"] = np.arange(3)
    trace_from_arrays(a, "t.npz")  # as before version 2: ignored


def test_info_json_and_validate_show_the_v2_groups(cli, tmp_path):
    t = v2_trace()
    p = tmp_path / "t.npz"
    save_trace(p, t)
    code, out, err = cli("trace", "info", "--json", p)
    assert code == 0, err
    s = json.loads(out)
    assert s["version"] == 2
    for l, x in zip(t.layers, s["layers"]):
        assert x["x_fired_per_step"] == pytest.approx(int(l.x_events.indptr[-1]) / T)
        assert x["h_fired_per_step"] == pytest.approx(int(l.h_events.indptr[-1]) / T)
        assert x["bias_fires"] == 3  # steps 0, 3, 6
    code, out, err = cli("trace", "info", p)
    assert code == 0, err
    assert "x/step" in out and "h/step" in out and "bias fires" in out
    code, out, err = cli("trace", "validate", p)
    assert code == 0 and "valid accelsim trace v2" in out and "l0.x_events+h_events+bias_fires" in out
    # a v1 trace: the columns are null in --json and absent from the table
    save_trace(tmp_path / "v1.npz", tiny_trace())
    code, out, _ = cli("trace", "info", "--json", tmp_path / "v1.npz")
    assert all(x["x_fired_per_step"] is None and x["bias_fires"] is None for x in json.loads(out)["layers"])
    code, out, _ = cli("trace", "info", tmp_path / "v1.npz")
    assert code == 0 and "x/step" not in out


def test_summary_of_a_trace_with_zero_steps():
    s = trace_summary(v2_trace().head(0))
    assert s["layers"][0]["x_fired_per_step"] == 0.0 and s["layers"][0]["bias_fires"] == 0


# ---------------------------------------------------------------------------------------------
# bad input: one class per test, one clean line


def _bad(key, fix):
    a = _arrays()
    return _err({**a, key: fix(a[key].copy())})


def _set(i, v):
    def f(a):
        a[i] = v
        return a
    return f


def test_x_index_out_of_range():
    a = _arrays()
    idx = a["l1.x_events.indices"].copy()
    idx[-1] = 8  # layer 1's input size
    assert "t.npz: l1.x_events.indices: input column ids must be in [0, 8) (found 8)" == _err(
        {**a, "l1.x_events.indices": idx})


def test_h_index_out_of_range():
    assert "l0.h_events.indices: recurrent column ids must be in [0, 8) (found -1)" in _bad(
        "l0.h_events.indices", _set(0, -1))


def test_indptr_wrong_length():
    assert "l0.x_events.indptr: must have 8 entries (got 7)" in _bad("l0.x_events.indptr", lambda a: a[:-1])


def test_indptr_decreasing():
    a = _arrays()
    ptr = a["l0.h_events.indptr"].copy()
    ptr[T - 1] = ptr[T] + 1  # the end (and so the indices' length) unchanged
    assert f"l0.h_events.indptr: must be non-decreasing (decreases after step {T - 1})" in _err(
        {**a, "l0.h_events.indptr": ptr})


def test_indptr_not_starting_at_zero():
    assert "l1.x_events.indptr: must start at 0 (got 1)" in _bad("l1.x_events.indptr", _set(0, 1))


def test_indptr_not_ending_at_the_indices_length():
    a = _arrays()
    n = len(a["l0.x_events.indices"])
    assert f"l0.x_events.indices: must have {n - 1} entries (got {n})" in _err(
        {**a, "l0.x_events.indptr": np.minimum(a["l0.x_events.indptr"], n - 1)})


def test_indices_not_sorted_within_a_step():
    a = _arrays()
    ptr, idx = a["l0.x_events.indptr"], a["l0.x_events.indices"].copy()
    t = int(np.argmax(np.diff(ptr) >= 2))
    s = int(ptr[t])
    idx[s], idx[s + 1] = idx[s + 1], idx[s]
    assert f"l0.x_events.indices: input column ids must be sorted and unique within each step (step {t} is not)" \
        in _err({**a, "l0.x_events.indices": idx})


def test_duplicate_index_within_a_step():
    a = _arrays()
    ptr, idx = a["l1.h_events.indptr"], a["l1.h_events.indices"].copy()
    t = int(np.argmax(np.diff(ptr) >= 2))
    idx[int(ptr[t]) + 1] = idx[int(ptr[t])]
    assert f"(step {t} is not)" in _err({**a, "l1.h_events.indices": idx})


@pytest.mark.parametrize("key, dtype, want", [
    ("l0.x_events.indices", np.int32, "int64"),
    ("l0.h_events.indptr", np.int32, "int64"),
    ("l1.x_events.values", np.float64, "float16 or float32"),
    ("l0.bias_fires", np.int64, "uint8"),
    ("l1.bias_fires", np.bool_, "uint8"),
])
def test_wrong_dtype(key, dtype, want):
    got = np.dtype(dtype).name
    assert f"{key}: dtype must be {want} (got {got})" in _bad(key, lambda a: a.astype(dtype))


def test_bias_fires_wrong_length():
    assert "l0.bias_fires: must have 7 entries (got 8)" in _bad("l0.bias_fires", lambda a: np.append(a, np.ones(1, np.uint8)))


def test_bias_fires_value_2():
    assert "l1.bias_fires: must hold only 0 or 1 (found 2 at step 4)" in _bad("l1.bias_fires", _set(4, 2))


@pytest.mark.parametrize("group, present, missing", [
    ("x_events", "indptr", "indices"),
    ("h_events", "indices", "indptr"),
    ("x_events", "values", "indptr"),
])
def test_a_group_needs_both_indptr_and_indices(group, present, missing):
    a = _arrays(drop=[f"l0.{group}.{p}" for p in ("indptr", "indices", "values") if p != present])
    assert f"l0.{group}.{missing}: missing key; l0.{group}.{present} is given and a {group} group needs " \
           f"both indptr and indices" in _err(a)


def test_values_wrong_length():
    assert "l0.h_events.values: must have" in _bad("l0.h_events.values", lambda a: a[:-1])


def test_values_not_finite():
    assert "l0.x_events.values: holds 1 NaN/inf value(s)" in _bad("l0.x_events.values", _set(0, np.inf))


@pytest.mark.parametrize("key", ["l0.x_events.indptr", "l1.bias_fires", "l1.h_events.values"])
def test_v2_key_in_a_version_1_file(key):
    a = _arrays(meta=_meta(1))
    only = {k: v for k, v in a.items() if not any(g in k for g in ("x_events", "h_events", "bias_fires"))}
    only[key] = a[key]
    assert f"t.npz: {key}: needs meta.version 2 (this file says version 1)" == _err(only)


@pytest.mark.parametrize("key", ["l0.x_events.data", "l1.bias_fires.indptr", "l0.z_events.indptr",
                                 "l1.x_event.indices"])
def test_unknown_layer_key_in_a_version_2_file(key):
    assert f"{key}: unknown key" in _err({**_arrays(), key: np.zeros(3, np.int64)})


def test_v2_key_of_a_layer_beyond_meta_layers():
    assert "l2.x_events.indptr: belongs to a layer beyond meta.layers (2 layers)" in _err(
        {**_arrays(), "l2.x_events.indptr": np.zeros(T + 1, np.int64)})


def test_writer_refuses_int32_x_indices():
    t = v2_trace()
    x = t.layers[0].x_events
    bad = replace(t, layers=(replace(t.layers[0], x_events=Events(x.indptr, x.indices.astype(np.int32), None)),)
                  + t.layers[1:])
    with pytest.raises(InputError, match=r"l0.x_events.indices: dtype must be int64 \(got int32\)"):
        trace_bytes(bad)


# through the CLI: exit 2, one line on stderr, nothing on stdout, for each `trace validate` / `info`


def _broken(name):
    a = _arrays()
    if name == "x out of range":
        a["l0.x_events.indices"] = a["l0.x_events.indices"] + 6
        return a, "l0.x_events.indices: input column ids must be in [0, 6)"
    if name == "bias 2":
        a["l0.bias_fires"] = np.full(T, 2, np.uint8)
        return a, "l0.bias_fires: must hold only 0 or 1 (found 2 at step 0)"
    if name == "indptr only":
        del a["l1.h_events.indices"], a["l1.h_events.values"]
        return a, "l1.h_events.indices: missing key"
    if name == "v2 key in v1":
        a["meta"] = _meta(1)
        return a, "l0.x_events.indptr: needs meta.version 2 (this file says version 1)"
    if name == "indptr not at 0":
        a["l1.x_events.indptr"] = a["l1.x_events.indptr"] + 1
        return a, "l1.x_events.indptr: must start at 0 (got 1)"
    raise AssertionError(name)


@pytest.mark.parametrize("name", ["x out of range", "bias 2", "indptr only", "v2 key in v1", "indptr not at 0"])
def test_cli_validate_bad_v2_input_exit_2_one_line(cli, tmp_path, name):
    arrays, want = _broken(name)
    p = tmp_path / "bad.npz"
    np.savez(p, **arrays)
    for sub in ("validate", "info"):
        code, out, err = cli("trace", sub, p)
        assert code == 2 and out == ""
        assert err.startswith(f"accelsim: error: {p}: {want}") and err.count("\n") == 1 and err.endswith("\n")
