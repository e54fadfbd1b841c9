"""Fuzzing the trace loader (``load_trace`` on .npz files, ``trace_from_arrays`` on mappings):
random bytes, mutations of a valid version-1 and version-2 trace, random arrays under valid key
names. Each input loads or is refused with one line (``corpus.load`` checks it)."""

from __future__ import annotations

import zipfile

import numpy as np
from hypothesis import given, strategies as st

from tests.fuzz import corpus as C
from tests.fuzz.conftest import FUZZ


@FUZZ
@given(data=st.binary(max_size=2048), zip_magic=st.booleans())
def test_random_bytes(seeds, data, zip_magic):
    assert C.load("trace", seeds.write("trace", (b"PK\x03\x04" if zip_magic else b"") + data)) in ("loaded", "refused")


@FUZZ
@given(st.data())
def test_byte_mutations_of_valid_traces(seeds, data):
    r = C.HypRandom(data)
    x = r.choice(seeds.files["trace"])   # v1, v2; deflated and stored
    for _ in range(r.randint(1, 4)):
        x = C.mutate_bytes(r, x, seeds.files["trace"])
    C.load("trace", seeds.write("trace", x))


@FUZZ
@given(st.data())
def test_archive_mutations_of_valid_traces(seeds, data):
    """Members swapped, renamed, dropped, duplicated, recompressed, truncated; .npy headers
    rewritten (any dtype, shapes 0-d, empty, negative, huge-declared with a short body)."""
    r = C.HypRandom(data)
    x = r.choice(seeds.files["trace"])
    for _ in range(r.randint(1, 3)):
        x = C.mutate_zip(r, x, seeds.arrays)
    C.load("trace", seeds.write("trace", x))


@FUZZ
@given(st.data())
def test_random_arrays_under_valid_keys(seeds, data):
    """Random dtypes (byte-swapped, strings, dates, void, objects), shapes (0-d, empty, one off,
    2-d), NaN/inf, negative and extreme integers, under the keys of a valid trace, in memory and
    in a file."""
    r = C.HypRandom(data)
    arrays = C.random_arrays(r, r.choice(seeds.arrays))
    C.load("arrays", arrays)
    C.load("trace", seeds.write("trace", C.save_arrays(arrays)))


@FUZZ
@given(st.data())
def test_random_meta(seeds, data):
    """meta with random values: huge integers, NaN, deep nesting, layers that do not chain."""
    r = C.HypRandom(data)
    arrays = dict(r.choice(seeds.arrays))
    import json

    arrays["meta"] = np.array(C.random_meta_text(r, json.loads(str(arrays["meta"][()]))))
    C.load("arrays", arrays)
    C.load("trace", seeds.write("trace", C.save_arrays(arrays)))


@FUZZ
@given(key=st.sampled_from(C.layer_keys(2)), shape=st.sampled_from(["(400000000,)", "(2**40,)", f"({2 ** 63},)",
                                                                    "(100000, 100000)", "(7,)", "()"]),
       descr=st.sampled_from(["'<f4'", "'<i8'", "'<i4'", "'|u1'", "'<f2'", "'|O'"]), body=st.binary(max_size=64))
def test_huge_declared_but_truncated_members(seeds, key, shape, descr, body):
    """A valid trace plus (or with one key replaced by) a member whose header declares far more
    than its body holds: refused from the header, without reading (or allocating) the data."""
    members = [[i.filename, d, how] for i, d, how in _members(seeds.files["trace"][2])]
    members = [m for m in members if m[0] != f"{key}.npy"]
    members.append([f"{key}.npy", C.npy_header(descr, shape) + body, zipfile.ZIP_DEFLATED])
    assert C.load("trace", seeds.write("trace", C.build_zip(members))) == "refused"


def _members(data: bytes):
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i, zf.read(i), i.compress_type) for i in zf.infolist()]
