"""The loader reads the .npy headers first: unknown keys and absurd declared sizes are refused
(or, in a version-1 file, unknown keys ignored) without ever reading their data."""

import io
import json
import time
import zipfile
from dataclasses import replace

import numpy as np
import pytest

from accelsim.config import limits
from accelsim.errors import InputError
from accelsim.trace import load_trace, save_trace, trace_from_arrays
from accelsim.trace import format as fmt
from tests.conftest import REPO, tiny_trace

HUGE = (400_000_000,)   # 1.6 GB of float32


def _npy_member(shape, dtype=np.float32, body: bytes = b"") -> bytes:
    """A .npy member whose header declares ``shape`` (written by hand) and whose body is ``body``."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                               "fortran_order": False, "shape": shape})
    return buf.getvalue() + body


def _with_member(tmp_path, trace, name: str, member: bytes, fname="t.npz"):
    """The trace's file with one more archive member."""
    p = tmp_path / fname
    save_trace(p, trace)
    with zipfile.ZipFile(p, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, member)
    return p


def _v1(trace):
    return replace(trace, meta=dict(trace.meta, version=1))


def _refused(p, *, within_s=2.0) -> str:
    t0 = time.perf_counter()
    with pytest.raises(InputError) as e:
        load_trace(p)
    assert time.perf_counter() - t0 < within_s
    msg = str(e.value)
    assert msg.startswith(f"{p}: ") and "\n" not in msg
    return msg


@pytest.fixture
def never_read(monkeypatch):
    """Fail the test if the loader reads the data of any array other than those listed."""
    allowed = set()
    real = fmt._read_member

    def guarded(zf, member):
        key = member.info.filename[:-4]
        assert key in allowed or not allowed, f"the loader read {key}"
        return real(zf, member)

    monkeypatch.setattr(fmt, "_read_member", guarded)
    return allowed


def test_an_unknown_huge_array_is_refused_without_reading_it(tmp_path, never_read):
    t = tiny_trace()
    never_read.update(t.to_arrays())
    p = _with_member(tmp_path, t, "junk.npy", _npy_member(HUGE, body=b"\0" * 64))
    assert p.stat().st_size < 100_000
    assert _refused(p) == f"{p}: junk: unknown key (see docs/trace-format.md for the keys of a trace)"


@pytest.mark.parametrize("name", ["l0.weights.npy", "l0.events.data.npy", "notes.txt", "l01.bias_x.npy"])
def test_any_key_the_format_does_not_have_is_refused_in_a_version_2_file(tmp_path, name):
    p = _with_member(tmp_path, tiny_trace(), name, _npy_member((3,), body=b"\0" * 12))
    msg = _refused(p)
    assert msg.startswith(f"{p}: {name.removesuffix('.npy')}: unknown key"), msg


def test_a_version_1_file_ignores_unknown_keys_and_never_reads_them(tmp_path, never_read):
    t = _v1(tiny_trace())
    never_read.update(t.to_arrays())
    p = _with_member(tmp_path, t, "junk.npy", _npy_member(HUGE, body=b"\0" * 64))
    back = load_trace(p)                       # as version-1 readers always did: ignored
    assert back.meta["version"] == 1
    for k, v in t.to_arrays().items():
        assert np.array_equal(back.to_arrays()[k], v)


@pytest.mark.parametrize("key, shape, expect", [
    ("l0.events.indices", (10 ** 6,), "declares shape (1000000,) (1,000,000 entries); a trace of these "
                                      "dimensions (meta.layers, tokens, vocab_size) has at most 56; "
                                      "refused without reading it"),
    ("l1.weight.values", (10 ** 6,), "declares shape (1000000,) (1,000,000 entries)"),
    ("input.embedding", (10 ** 5, 6), "must have 11 entries (got 100000)"),  # as when read
    ("l0.bias_x", (10 ** 6,), "must have 24 entries (got 1000000)"),
])
def test_a_known_key_declaring_more_than_the_trace_can_hold_is_refused_before_reading(tmp_path, never_read,
                                                                                      key, shape, expect):
    a = tiny_trace().to_arrays()
    a[key] = np.zeros(shape, a[key].dtype)     # a complete body: compresses to a few KiB
    p = tmp_path / "big.npz"
    np.savez_compressed(p, **a)
    never_read.update(["meta"])
    assert _refused(p).startswith(f"{p}: {key}: {expect}")


def test_a_truncated_member_is_refused_from_its_header(tmp_path):
    t = tiny_trace()
    a = {k: v for k, v in t.to_arrays().items() if k != "input.embedding"}
    p = tmp_path / "t.npz"
    np.savez(p, **a)
    with zipfile.ZipFile(p, "a") as zf:
        zf.writestr("input.embedding.npy", _npy_member((11, 6), body=b"\0" * 40))
    assert "input.embedding: truncated: its header declares shape (11, 6) (264 bytes of float32), " \
           "the archive member holds 40 bytes" in _refused(p)


def test_a_huge_declared_known_key_with_a_truncated_body_is_refused(tmp_path):
    t = tiny_trace()
    a = {k: v for k, v in t.to_arrays().items() if k != "input.tokens"}
    p = tmp_path / "t.npz"
    np.savez(p, **a)
    with zipfile.ZipFile(p, "a") as zf:
        zf.writestr("input.tokens.npy", _npy_member(HUGE, np.int32, body=b"\0" * 64))
    assert "input.tokens: truncated: its header declares shape (400000000,)" in _refused(p)


def test_more_than_the_memory_available_is_refused_with_the_figures(tmp_path, monkeypatch):
    p = tmp_path / "t.npz"
    save_trace(p, tiny_trace())
    monkeypatch.setattr(limits, "available_memory", lambda: 1000)
    msg = _refused(p)
    assert "loading this trace" in msg and "of memory, more than the 1000 bytes available" in msg


def test_a_key_twice_and_an_oversized_meta_are_refused(tmp_path):
    p = tmp_path / "twice.npz"
    save_trace(p, tiny_trace())
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(p, "a") as zf:
        zf.writestr("input.tokens.npy", _npy_member((7,), np.int32, body=b"\0" * 28))
    assert _refused(p).endswith("input.tokens: appears twice in the archive")
    q = tmp_path / "meta.npz"
    with zipfile.ZipFile(q, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta.npy", _npy_member((), np.dtype("<U20000000"), body=bytes(80_000_000)))
    assert q.stat().st_size < 1_000_000
    assert _refused(q).endswith("meta: declares 80,000,000 bytes; the JSON of a trace's meta is at most "
                                "67,108,864; refused without reading it")
    with zipfile.ZipFile(q, "w") as zf:
        zf.writestr("meta.npy", _npy_member((), np.dtype("<U100000000"), body=b""))
    assert "meta: truncated: its header declares shape () (400,000,000 bytes" in _refused(q)


def test_trace_from_arrays_refuses_unknown_keys_of_a_version_2_trace():
    a = tiny_trace().to_arrays()
    with pytest.raises(InputError, match=r"t.npz: extra: unknown key"):
        trace_from_arrays({**a, "extra": np.zeros(3)}, "t.npz")
    v1 = _v1(tiny_trace()).to_arrays()
    trace_from_arrays({**v1, "extra": np.zeros(3)}, "t.npz")   # version 1: ignored


def test_every_valid_trace_still_loads(tmp_path):
    """The shipped trace, and v1 / v2 files with and without their optional keys."""
    from tests.trace.test_format_v2 import v2_trace

    shipped = load_trace(REPO / "workloads" / "ptb.npz")
    assert shipped.steps == 5000 and len(shipped.layers) == 3
    t = tiny_trace()
    cases = {"v2": t, "v1": _v1(t), "bare": replace(t, embedding=None, token_ids=None),
             "delta": v2_trace(), "delta-no-values": v2_trace(values=False)}
    for name, trace in cases.items():
        p = tmp_path / f"{name}.npz"
        save_trace(p, trace)
        back = load_trace(p)
        a, b = trace.to_arrays(), back.to_arrays()
        assert a.keys() == b.keys(), name
        assert all(np.array_equal(a[k], b[k]) for k in a if k != "meta"), name
        assert json.loads(str(b["meta"][()])) == json.loads(str(a["meta"][()]))
