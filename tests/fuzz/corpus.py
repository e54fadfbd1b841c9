"""Fuzzing of the input loaders, shared by ``tests/fuzz`` (hypothesis, bounded) and
``benchmarks/fuzz_campaign.py`` (a long seeded loop).

The contract every loader must keep: for any input it either loads or raises
:class:`~accelsim.errors.InputError` with a one-line message; any other exception is a failure,
and so is an input that takes more than a few seconds or that makes the loader allocate memory far
beyond the input's size.

Every generator here draws its randomness from ``r``, an object with ``randint(a, b)``,
``random()``, ``choice(seq)`` and ``randbytes(n)``: a :class:`random.Random` in the campaign, a
:class:`HypRandom` (hypothesis draws, so failures shrink) in the tests.

Loader kinds:

- ``trace``: :func:`accelsim.trace.load_trace` on a ``.npz`` file;
- ``arrays``: :func:`accelsim.trace.trace_from_arrays` on a key -> array mapping (no file);
- ``config``: :func:`accelsim.config.load_config`, then the energy table it names
  (:func:`accelsim.config.resolve_energy_table`), as ``accelsim run`` does;
- ``energy``: :func:`accelsim.config.load_energy_table`;
- ``spec``: :func:`accelsim.sweep.spec.load_spec` as the ``sweep`` command calls it, then the
  first design points made (each validates its config).
"""

from __future__ import annotations

import io
import itertools
import json
import resource
import shutil
import signal
import struct
import warnings
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, get_args, get_origin

import numpy as np

from accelsim.errors import InputError

REPO = Path(__file__).resolve().parents[2]
KINDS = ("trace", "arrays", "config", "energy", "spec")
FILE_KINDS = {"trace": ".npz", "config": ".yaml", "energy": ".yaml", "spec": ".yaml"}
SPEC_POINTS = 64          # design points made after a spec loads
HANG_S = 10.0             # an input that takes longer is a failure
ABSURD_BYTES = 1 << 30    # an input that raises the process's peak memory by more is a failure


# ----------------------------------------------------------------------------------------------
# the contract


class Unhandled(Exception):
    """A loader broke the contract: what it did, and the input's kind."""

    def __init__(self, kind: str, what: str, cause: BaseException | None = None):
        super().__init__(f"{kind}: {what}")
        self.kind, self.what, self.cause = kind, what, cause


class Hang(BaseException):
    """Raised by the alarm inside a loader that runs past :data:`HANG_S` (a BaseException, so
    that no ``except Exception`` of a loader can turn it into an InputError)."""


@contextmanager
def bounded(seconds: float = HANG_S):
    """Raise :class:`Hang` in the block when it runs longer than ``seconds`` (main thread only)."""
    def alarm(signum, frame):
        raise Hang(f"still running after {seconds:g} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def load(kind: str, target, seconds: float = HANG_S) -> str:
    """Run the loader of ``kind`` on ``target`` (a path; a key -> array mapping for ``arrays``).

    Returns ``"loaded"`` or ``"refused"`` (a one-line InputError); raises :class:`Unhandled` for
    anything else: another exception, a message of more than one line or an empty one, a run
    longer than ``seconds``, an InputError raised while handling a MemoryError, or a peak memory
    raised by more than :data:`ABSURD_BYTES`."""
    before = _peak_rss()
    try:
        with bounded(seconds):
            _LOADERS[kind](target)
        outcome = "loaded"
    except InputError as e:
        msg = str(e)
        if not msg.strip() or "\n" in msg or "\r" in msg:
            raise Unhandled(kind, f"InputError message is not one line: {msg[:200]!r}", e) from e
        if isinstance(e.__context__, MemoryError):
            raise Unhandled(kind, f"ran out of memory before refusing: {msg[:200]}", e) from e
        outcome = "refused"
    except Hang as e:
        raise Unhandled(kind, f"Hang: {e}", e) from None
    except Exception as e:  # noqa: BLE001 - the point of the harness
        raise Unhandled(kind, f"{type(e).__name__}: {_safe_str(e)}", e) from e
    grown = _peak_rss() - before
    if grown > ABSURD_BYTES:
        raise Unhandled(kind, f"raised the peak memory by {grown / 2**20:,.0f} MiB")
    return outcome


def _safe_str(e: BaseException) -> str:
    """The start of an exception's message, without printing what it holds: a validation error's
    text shows its input, and the input may be a billion values."""
    if type(e).__name__ == "ValidationError":
        return f"({len(e.errors(include_input=False))} validation errors)"
    try:
        with bounded(2.0):
            return str(e)[:300]
    except Hang:
        return "(message not printed in 2 s)"


def _load_trace(path):
    from accelsim.trace import load_trace
    load_trace(path)


def _load_arrays(arrays):
    from accelsim.trace import trace_from_arrays
    trace_from_arrays(arrays, "<fuzz>")


def _load_config(path):
    from accelsim.config import load_config, resolve_energy_table
    resolve_energy_table(load_config(path), path)


def _load_energy(path):
    from accelsim.config import load_energy_table
    load_energy_table(path)


def _load_spec(path):
    from accelsim.sweep.spec import load_spec
    spec = load_spec(path, check_points=False)   # as `accelsim sweep` loads it
    for point in itertools.islice(spec.iter_points(), SPEC_POINTS):
        point.config  # noqa: B018 - the resolved config, as a worker gets it


_LOADERS = {"trace": _load_trace, "arrays": _load_arrays, "config": _load_config,
            "energy": _load_energy, "spec": _load_spec}


# ----------------------------------------------------------------------------------------------
# randomness


class HypRandom:
    """The ``r`` interface on hypothesis draws (``st.data()``), so that failures shrink."""

    def __init__(self, data):
        from hypothesis import strategies as st
        self._data, self._st = data, st

    def randint(self, a: int, b: int) -> int:
        return self._data.draw(self._st.integers(a, b))

    def random(self) -> float:
        return self._data.draw(self._st.floats(0, 1, exclude_max=True))

    def choice(self, seq):
        return seq[self.randint(0, len(seq) - 1)]

    def randbytes(self, n: int) -> bytes:
        return self._data.draw(self._st.binary(min_size=n, max_size=n))


# ----------------------------------------------------------------------------------------------
# seeds: valid small files, made with the project's own writers


SPEC_A = """\
name: fuzz
base: arch_a.yaml
tokens: 4
baseline: false
workloads:
  - name: t
    trace: v1.npz
  - name: syn
    synth: {layers: [4, 6, 5], tokens: 5, weight_sparsity: 0.5, activity_sparsity: 0.5,
            pruning: unstructured, seed: 0}
axes:
  - grid:
      pe.count: [8, 16]
      weight_format: [csc, bitmap]
  - zip:
      weight_sram.banks: [8, 16]
      weight_sram.bank_width_bits: [128, 64]
  - random:
      samples: 3
      seed: 1
      fields:
        pe.mac_lanes: {randint: [1, 8]}
        clock_mhz: {uniform: [100, 900]}
        dram.latency_cycles: {choice: [10, 100]}
"""

SPEC_B = """\
base: edgedrnn.yaml
workloads:
  - name: syn
    synth: {layers: [4, 6], tokens: 5, seed: 0}
parts:
  - name: one
    axes:
      - grid:
          base: [arch_a.yaml, edgedrnn.yaml]
          workload.seed: [0, 1]
  - name: two
    base: arch_a.yaml
    tokens: 3
    workloads:
      - trace: v*.npz
    axes:
      - random:
          samples: 4
          fields:
            clock_mhz: {loguniform: [10, 1000]}
            weight_storage: [sram, dram]
"""


@dataclass
class Seeds:
    """The seed inputs of each kind, and the folder that holds the files they refer to."""

    folder: Path
    files: dict[str, list[bytes]] = field(default_factory=dict)    # kind -> file contents
    arrays: list[dict[str, np.ndarray]] = field(default_factory=list)

    def write(self, kind: str, data: bytes, name: str = "input") -> Path:
        """Write an input of ``kind`` into the seed folder (a spec's relative paths resolve there)."""
        p = self.folder / f"{name}{FILE_KINDS[kind]}"
        p.write_bytes(data)
        return p


def stored_copy(data: bytes) -> bytes:
    """The same archive with its members stored, not deflated: mutations then hit the .npy bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    return out.getvalue()


def make_seeds(folder: Path, reuse: bool = False) -> Seeds:
    """A version-1 trace and a version-2 trace (``synthesize`` + ``save_trace``), the shipped
    configs ``arch_a`` and ``edgedrnn``, the shipped energy table and two small sweep specs; each
    seed is checked to load. ``reuse``: read them back from ``folder`` when an earlier call made
    them there (a restarted campaign worker)."""
    from accelsim.config import load_config
    from accelsim.trace import save_trace
    from accelsim.trace.format import trace_bytes
    from accelsim.trace.synth import synthesize

    folder = Path(folder)
    if reuse and (folder / "seeds.json").exists():
        return _read_seeds(folder)
    folder.mkdir(parents=True, exist_ok=True)
    v1 = synthesize(layers=[3, 4, 3], tokens=5, vocab_size=6, seed=0, decoder=True, value_dtype=np.float32)
    v1 = replace(v1, meta=dict(v1.meta, version=1))
    v2 = synthesize(layers=[3, 5, 4], tokens=6, encoding="delta", vocab_size=7, seed=1, bias_every=2)
    seeds = Seeds(folder)
    traces = []
    for name, t in (("v1", v1), ("v2", v2)):
        save_trace(folder / f"{name}.npz", t)
        data = trace_bytes(t)
        traces += [data, stored_copy(data)]
        seeds.arrays.append(t.to_arrays())
    seeds.files["trace"] = traces
    for name in ("arch_a.yaml", "edgedrnn.yaml"):
        shutil.copy(REPO / "configs" / name, folder / name)
    seeds.files["config"] = [(REPO / "configs" / n).read_bytes() for n in ("arch_a.yaml", "edgedrnn.yaml")]
    table = REPO / "accelsim" / "energy" / "tables" / "45nm.yaml"
    shutil.copy(table, folder / "45nm.yaml")
    seeds.files["energy"] = [table.read_bytes()]
    seeds.files["spec"] = [SPEC_A.encode(), SPEC_B.encode()]
    for kind, contents in seeds.files.items():
        for i, data in enumerate(contents):
            assert load(kind, seeds.write(kind, data, f"seed-{kind}-{i}"), 60) == "loaded", (kind, i)
    for a in seeds.arrays:
        assert load("arrays", a, 60) == "loaded"
    load_config(folder / "arch_a.yaml")
    (folder / "seeds.json").write_text(json.dumps({k: len(v) for k, v in seeds.files.items()}))
    return seeds


def _read_seeds(folder: Path) -> Seeds:
    from accelsim.trace import load_trace

    seeds = Seeds(folder)
    counts = json.loads((folder / "seeds.json").read_text())
    for kind, n in counts.items():
        seeds.files[kind] = [(folder / f"seed-{kind}-{i}{FILE_KINDS[kind]}").read_bytes() for i in range(n)]
    seeds.arrays = [load_trace(folder / f"{name}.npz").to_arrays() for name in ("v1", "v2")]
    return seeds


# ----------------------------------------------------------------------------------------------
# byte mutations


INTERESTING_INTS = (0, 1, 2, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 0x7FFF, 0x8000, 0xFFFF,
                    0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x100000000, 2 ** 62, 2 ** 63 - 1, 2 ** 63,
                    2 ** 64 - 1)


def _interesting(r, width: int) -> bytes:
    v = r.choice(INTERESTING_INTS) % (1 << (8 * width))
    if r.randint(0, 3) == 0:
        v = (-v) % (1 << (8 * width))
    return v.to_bytes(width, r.choice(("little", "big")))


def mutate_bytes(r, data: bytes, others: list[bytes] = ()) -> bytes:
    """One random byte-level mutation: bit flip, byte set, truncation, insertion, deletion,
    duplication of a range, an interesting integer written over, or a splice with ``others``."""
    b = bytearray(data)
    n = len(b)
    op = r.randint(0, 8)
    if n == 0:
        op = 3
    if op == 0:                                    # flip one bit
        i = r.randint(0, n - 1)
        b[i] ^= 1 << r.randint(0, 7)
    elif op == 1:                                  # set one byte
        b[r.randint(0, n - 1)] = r.choice((0, 0xFF, 0x7F, 0x80, 0x20, 0x0A, 0x3A, r.randint(0, 255)))
    elif op == 2:                                  # truncate
        del b[r.randint(0, n - 1):]
    elif op == 3:                                  # insert bytes
        i = r.randint(0, n)
        b[i:i] = r.randbytes(r.randint(1, 32))
    elif op == 4:                                  # delete a range
        i = r.randint(0, n - 1)
        del b[i:i + r.randint(1, 64)]
    elif op == 5:                                  # duplicate a range elsewhere
        i, j = r.randint(0, n - 1), r.randint(0, n)
        b[j:j] = b[i:i + r.randint(1, 256)]
    elif op == 6:                                  # an interesting integer written over
        width = r.choice((1, 2, 4, 8))
        i = r.randint(0, max(n - width, 0))
        b[i:i + width] = _interesting(r, width)
    elif op == 7 and others:                       # splice: our head, another's tail
        o = r.choice(list(others))
        b = b[:r.randint(0, n)] + o[r.randint(0, max(len(o) - 1, 0)):]
    else:                                          # overwrite a range with random bytes
        i = r.randint(0, n - 1)
        k = r.randint(1, 16)
        b[i:i + k] = r.randbytes(k)
    return bytes(b)


def random_bytes(r, kind: str) -> bytes:
    """Random bytes; for traces sometimes behind a zip signature, for YAML sometimes text-like."""
    n = r.randint(0, 1024)
    if kind == "trace" and r.randint(0, 1):
        return b"PK\x03\x04" + r.randbytes(n)
    if kind != "trace" and r.randint(0, 1):
        alphabet = b" \n\t:-[]{},&*!|>'\"#%@`?~.0123456789abcdexyz_/\\"
        return bytes(alphabet[x % len(alphabet)] for x in r.randbytes(n))
    return r.randbytes(n)


# ----------------------------------------------------------------------------------------------
# traces: archive members, .npy headers, arrays under valid key names, meta


def layer_keys(layers: int) -> list[str]:
    """Every key the format has, for ``layers`` layers (and one layer beyond)."""
    out = ["meta", "input.embedding", "input.tokens", "decoder.weight.indptr", "decoder.weight.indices",
           "decoder.weight.values", "decoder.bias"]
    per = ["weight.indptr", "weight.indices", "weight.values", "bias_x", "bias_r", "threshold",
           "events.indptr", "events.indices", "events.values", "bias_fires"]
    per += [f"{g}.{p}" for g in ("x_events", "h_events") for p in ("indptr", "indices", "values")]
    for l in range(layers + 1):
        out += [f"l{l}.{k}" for k in per]
    return out


ODD_KEYS = ("junk", "l0.weights", "l0.events.data", "l01.bias_x", "l0.x_event.indptr", "L0.bias_x", "",
            "l0.", ".npy", "l-1.bias_x", "l9999999999999999999999.bias_x", "meta.npy", "l0.bias_x/..",
            "l0.bias_x\x00", "dir/l0.bias_x", "l0.bias_x.npy.npy", "l" + "7" * 5000 + ".bias_x")

DTYPES = ("<i8", "<i4", "<i2", "|i1", "<u8", "<u4", "<u2", "|u1", "<f2", "<f4", "<f8", "<c8", "|b1",
          ">f4", ">i8", ">i4", "<U8", "|S8", "<M8[s]", "<m8[D]", "|V4", "|O")
HEADER_DESCRS = ("'<i8'", "'<i4'", "'<f4'", "'<f2'", "'>f4'", "'|u1'", "'|O'", "'<U3'", "'|V0'", "'<f16'",
                 "[('a', '<i4')]", "[('a', '|O')]", "'<i4', (2,)", "'zz'", "'<M8[Y]'", "42", "None")


def npy_header(descr: str, shape: str, fortran: str = "False", version: int = 1) -> bytes:
    """A hand-written .npy header (any text: it need not be valid)."""
    text = "{'descr': %s, 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)
    text = text.encode("latin1", "replace")
    pad = (64 - (10 + len(text) + 1) % 64) % 64
    body = text + b" " * pad + b"\n"
    if version == 1 and len(body) < 65536:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(body)) + body


def _random_shape_text(r) -> str:
    choices = ("()", "(0,)", "(1,)", "(3,)", "(7,)", "(8,)", "(-1,)", "(2, 3)", "(1, 1, 1)",
               "(400000000,)", "(2**40,)", f"({2 ** 62},)", f"({2 ** 63},)", f"({2 ** 64 + 3},)",
               "(100000, 100000)", "(3.5,)", "('a',)", "[3]", "(True,)", "(" + "9" * 30 + ",)", "((((1,),),),)")
    return r.choice(choices)


def random_npy_member(r) -> bytes:
    """A .npy member with a random (often wrong) header and a short random body."""
    if r.randint(0, 2) == 0:
        return npy_header(r.choice(HEADER_DESCRS), _random_shape_text(r), r.choice(("False", "True", "1")),
                          r.choice((1, 2))) + r.randbytes(r.randint(0, 64))
    return npy_bytes(random_array(r))


def npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, allow_pickle=True)
    return buf.getvalue()


def _members(data: bytes) -> list[list]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [[i.filename, zf.read(i), i.compress_type] for i in zf.infolist()]


def build_zip(members: list[list]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")   # duplicate names are the point
        for name, body, how in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = how
            zf.writestr(info, body)
    return out.getvalue()


def mutate_zip(r, data: bytes, arrays_seeds: list[dict]) -> bytes:
    """One structural mutation of a trace archive: members swapped, renamed, dropped, duplicated,
    replaced by another's data, given a random .npy header (shape declared huge, 0-d, negative,
    any dtype), truncated, extended, recompressed, or a new member under a valid key name."""
    try:
        ms = _members(data)
    except Exception:  # noqa: BLE001 - not an archive any more: mutate its bytes
        return mutate_bytes(r, data)
    if not ms:
        ms = [["meta.npy", npy_bytes(np.array("{}")), zipfile.ZIP_STORED]]
    n = len(ms)
    i, j = r.randint(0, n - 1), r.randint(0, n - 1)
    op = r.randint(0, 11)
    keys = layer_keys(3)
    if op == 0:                                      # swap two members' data
        ms[i][1], ms[j][1] = ms[j][1], ms[i][1]
    elif op == 1:                                    # rename to a valid or odd key
        name = r.choice(keys) if r.randint(0, 2) else r.choice(ODD_KEYS)
        ms[i][0] = name + (".npy" if r.randint(0, 7) else "")
    elif op == 2:                                    # drop
        del ms[i]
    elif op == 3:                                    # duplicate (same name twice)
        ms.insert(j, list(ms[i]))
    elif op == 4:                                    # replace a member's header
        body = ms[i][1]
        rest = body[_header_len(body):] if r.randint(0, 1) else body[_header_len(body):][:r.randint(0, 32)]
        ms[i][1] = npy_header(r.choice(HEADER_DESCRS), _random_shape_text(r),
                              r.choice(("False", "True")), r.choice((1, 2))) + rest
    elif op == 5:                                    # truncate a member
        ms[i][1] = ms[i][1][:r.randint(0, len(ms[i][1]))]
    elif op == 6:                                    # extend a member
        ms[i][1] = ms[i][1] + r.randbytes(r.randint(1, 64))
    elif op == 7:                                    # recompress
        ms[i][2] = r.choice((zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA))
    elif op == 8:                                    # a new member under a valid key name
        ms.insert(j, [r.choice(keys) + ".npy", random_npy_member(r), zipfile.ZIP_STORED])
    elif op == 9:                                    # a member's array replaced by a random one
        ms[i][1] = random_npy_member(r)
    elif op == 10:                                   # meta replaced
        k = next((x for x in range(n) if ms[x][0] == "meta.npy"), i)
        seed = r.choice(arrays_seeds)
        ms[k][1] = npy_bytes(np.array(random_meta_text(r, json.loads(str(seed["meta"][()])))))
    else:                                            # reorder
        ms.insert(j, ms.pop(i))
    if r.randint(0, 9) == 0:
        if ms:
            k = r.randint(0, len(ms) - 1)
            ms[k][1] = mutate_bytes(r, ms[k][1])
    try:
        return build_zip(ms)
    except Exception:  # noqa: BLE001 - a name zipfile cannot write: mutate the bytes instead
        return mutate_bytes(r, data)


def _header_len(body: bytes) -> int:
    if body[:6] != b"\x93NUMPY" or len(body) < 12:
        return 0
    if body[6] == 1:
        return 10 + struct.unpack("<H", body[8:10])[0]
    return 12 + struct.unpack("<I", body[8:12])[0]


def _random_values(r, dtype: np.dtype, n: int) -> np.ndarray:
    kind = dtype.kind
    if kind in "iu":
        info = np.iinfo(dtype)
        how = r.randint(0, 4)
        if how == 0:        # sorted, from 0: passes pointer checks
            steps = [r.randint(0, 3) for _ in range(n)]
            v = np.cumsum([0] + steps[:-1]) if n else np.zeros(0)
        elif how == 1:      # extremes
            pool = [info.min, info.max, 0, -1 if info.min < 0 else 1, info.max // 2 + 1, info.min // 2 - 1
                    if info.min < 0 else 0]
            v = [r.choice(pool) for _ in range(n)]
        elif how == 2:      # small, maybe negative
            v = [r.randint(-3, 12) for _ in range(n)]
        elif how == 3:      # big values that wrap differences
            v = [r.choice((0, info.max, info.min, 5)) for _ in range(n)]
        else:
            v = [r.randint(int(info.min), int(info.max)) for _ in range(n)]
        if info.min == 0:
            v = [int(x) % (int(info.max) + 1) for x in v]
        return np.array(v, dtype=np.int64 if info.min < 0 else np.uint64).astype(dtype)
    if kind in "fc":
        pool = (0.0, 1.0, -1.0, 0.5, float("nan"), float("inf"), float("-inf"), 1e38, -1e-45, 65504.0, 7.0)
        with np.errstate(all="ignore"):
            return np.array([r.choice(pool) for _ in range(n)], dtype=np.float64).astype(dtype)
    if kind == "b":
        return np.array([bool(r.randint(0, 1)) for _ in range(n)], dtype=dtype)
    if kind in "US":
        pool = ("", "a", "{}", "7", "\u00e9") if kind == "U" else (b"", b"a", b"{}", b"\xff")
        return np.array([r.choice(pool) for _ in range(n)]).astype(dtype)
    if kind in "mM":
        return np.array([r.randint(-5, 5) for _ in range(n)], dtype=np.int64).astype(dtype)
    if kind == "O":
        out = np.empty(n, dtype=object)
        for i in range(n):
            out[i] = r.choice((None, 1, "x", (1, 2)))
        return out
    return np.zeros(n, dtype=dtype)


def random_array(r, like: np.ndarray | None = None) -> np.ndarray:
    """A random array: any dtype (native and byte-swapped, strings, dates, void, objects), any
    shape (0-d, empty, the expected length or one off, 2-d), values from the edges (NaN, inf,
    negative, integer extremes, sorted pointers)."""
    dtype = np.dtype(like.dtype if like is not None and r.randint(0, 2) == 0 else r.choice(DTYPES))
    base = like.shape[0] if like is not None and like.ndim else r.randint(0, 9)
    how = r.randint(0, 6)
    if how == 0:
        shape = ()
    elif how == 1:
        shape = (0,)
    elif how == 2:
        shape = (max(base + r.randint(-1, 1), 0),)
    elif how == 3:
        shape = (r.randint(1, 4), r.randint(0, 4))
    else:
        shape = (base,)
    n = int(np.prod(shape)) if shape else 1
    return _random_values(r, dtype, n).reshape(shape)


def random_arrays(r, seed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A valid trace's arrays with one to three keys replaced by random arrays, removed, or added
    (valid key names, sometimes of one layer too many), or its meta changed."""
    arrays = dict(seed)
    meta = json.loads(str(seed["meta"][()]))
    keys = layer_keys(len(meta["layers"]))
    for _ in range(r.randint(1, 3)):
        op = r.randint(0, 10)
        key = r.choice(sorted(arrays)) if op < 5 else r.choice(keys) if op < 10 else r.choice(ODD_KEYS)
        if op == 9 or key == "meta" and r.randint(0, 1):
            arrays["meta"] = np.array(random_meta_text(r, meta))
        elif op == 8:
            arrays.pop(key, None)
        else:
            arrays[key] = random_array(r, arrays.get(key))
    return arrays


def _json_number_text(r) -> str:
    return r.choice(("0", "1", "-1", "3", "4", "5", "7", "2.0", "1e3", "NaN", "Infinity", "-Infinity", "1e999",
                     str(2 ** 31), str(2 ** 63), str(2 ** 64), str(10 ** 30), "9" * 5000, "-" + "1" * 4301,
                     "true", "null", '"5"'))


def _json_value_text(r, depth: int = 0) -> str:
    how = r.randint(0, 9 if depth < 3 else 4)
    if how <= 2:
        return _json_number_text(r)
    if how == 3:
        return json.dumps(r.choice(("", "accelsim-trace", "x" * 100, "\u00e9", "\ud800")))
    if how == 4:
        return r.choice(("[]", "{}", "[" * 600 + "]" * 600, "[" * 100000, '{"a":' * 50 + "1" + "}" * 50))
    if how <= 6:
        return "[" + ", ".join(_json_value_text(r, depth + 1) for _ in range(r.randint(0, 4))) + "]"
    if how == 7:   # a layer
        return '{"input_size": %s, "hidden_size": %s}' % (_json_number_text(r), _json_number_text(r))
    return "{" + ", ".join('"%s": %s' % (r.choice(("input_size", "hidden_size", "x")), _json_value_text(r, depth + 1))
                           for _ in range(r.randint(0, 3))) + "}"


def random_meta_text(r, meta: dict) -> str:
    """The JSON text of ``meta`` with some fields given random values (huge integers, NaN,
    nesting deep enough to exhaust a parser, strings, layers that do not chain), dropped or
    duplicated; sometimes not JSON at all."""
    items = [(k, json.dumps(v)) for k, v in meta.items()]
    for _ in range(r.randint(1, 3)):
        op = r.randint(0, 6)
        k = r.choice(("format", "version", "layers", "vocab_size", "tokens", "source", "perplexity"))
        if op <= 2:
            items = [(a, b) for a, b in items if a != k] + [(k, _json_value_text(r))]
        elif op == 3:
            items = [(a, b) for a, b in items if a != k]
        elif op == 4:
            items.append((k, _json_value_text(r)))   # twice: the last one wins in JSON
        elif op == 5 and k == "layers":
            layers = [dict(l) for l in meta["layers"]]
            l = r.randint(0, len(layers) - 1)
            layers[l][r.choice(("input_size", "hidden_size"))] = r.choice(
                (0, -1, 1, 2, 10 ** 9, 2 ** 62, 2 ** 63, 10 ** 30, True, 2.5, "3", None))
            items = [(a, b) for a, b in items if a != "layers"] + [("layers", json.dumps(layers))]
        else:
            items = [(a, b) for a, b in items if a != k] + [(k, _json_number_text(r))]
    text = "{" + ", ".join(f"{json.dumps(a)}: {b}" for a, b in items) + "}"
    if r.randint(0, 19) == 0:
        text = mutate_bytes(r, text.encode()).decode("utf-8", "replace")
    return text


def save_arrays(arrays: dict[str, np.ndarray]) -> bytes:
    """The arrays as a stored .npz (object arrays pickled, so that the loader must refuse them)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def trace_input(r, seeds: Seeds) -> bytes:
    """One fuzzed trace file: random bytes, byte or archive mutations of a seed (stacked), or a
    seed's arrays with random arrays under valid key names."""
    how = r.randint(0, 9)
    if how == 0:
        return random_bytes(r, "trace")
    if how <= 3:
        data = r.choice(seeds.files["trace"])
        for _ in range(r.randint(1, 4)):
            data = mutate_bytes(r, data, seeds.files["trace"])
        return data
    if how <= 6:
        data = r.choice(seeds.files["trace"])
        for _ in range(r.randint(1, 3)):
            data = mutate_zip(r, data, seeds.arrays)
        return data
    return save_arrays(random_arrays(r, r.choice(seeds.arrays)))


# ----------------------------------------------------------------------------------------------
# YAML: documents over the fields each file kind has, with every YAML type


def _annotation_leaf(ann) -> tuple[str, ...]:
    """Interesting YAML scalars for a field of type ``ann``."""
    while get_origin(ann) is not None and get_origin(ann) is not Literal and get_args(ann):
        if get_origin(ann) is list:
            return ("[1, 2]", "[]")
        ann = get_args(ann)[0]
    if get_origin(ann) is Literal:
        return tuple(str(a).lower() if isinstance(a, bool) else str(a) for a in get_args(ann))
    if ann is bool:
        return ("true", "false", "yes", "off")
    if ann is int:
        return ("0", "1", "2", "3", "8", "16", "64", "100", "1024", "4096", "4097", "65536", "1048576",
                str(2 ** 36), str(2 ** 40 + 1), "-1")
    if ann is float:
        return ("0.0", "0.001", "0.5", "1.0", "1", "125", "500", "10000", "10000.5", "1e12", "1e13", "-0.5")
    return ("x", "45nm", "45nm.yaml", "arch_a", "missing.yaml", "./", "")


def model_schema(model) -> dict:
    """Field name -> sub-schema (a dict) or leaf scalars (a tuple), from a pydantic model."""
    from pydantic import BaseModel

    out = {}
    for name, f in model.model_fields.items():
        ann = f.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out[name] = model_schema(ann)
        else:
            out[name] = _annotation_leaf(ann)
    return out


def config_schema() -> dict:
    from accelsim.config.schema import ArchConfig
    return model_schema(ArchConfig)


def energy_schema() -> dict:
    from accelsim.config.energy import ArithmeticEnergy, EnergyTable, SRAMPoint

    s = model_schema(EnergyTable)
    arith = model_schema(ArithmeticEnergy)
    s["arithmetic"] = {k: arith for k in ("int8", "int16", "int32", "fp16", "fp32")}
    s["sram_read"] = [model_schema(SRAMPoint)]
    return s


CONFIG_PATHS = ("pe.count", "pe.mac_lanes", "pe.fifo_depth", "weight_sram.banks", "weight_sram.bank_width_bits",
                "clock_mhz", "weight_format", "weight_storage", "mapping", "dram.stream_efficiency",
                "precision.weight_bits", "event_queue.depth", "name", "energy_table", "pe", "pe.", ".x",
                "name.x", "pe.count.x", "a.b.c", "base", "workload.seed", "workload.layers", "workload.tokens",
                "workload.x", "workload.")


def spec_schema() -> dict:
    synth = {FEW: True, **{k: ("0", "1", "5", "0.5", "0.95", "[4, 6]", "[4, 6, 5]", "unstructured", "delta", "egru", "-1",
                 "100000000", "[100000, 100000]")
             for k in ("layers", "tokens", "weight_sparsity", "activity_sparsity", "pruning", "seed",
                       "vocab_size", "encoding", "x_activity", "h_activity", "bias_every", "decoder")}}
    values = ("[8, 16]", "[1]", "[]", "[csc, bitmap]", "[sram, dram]", "[arch_a.yaml, edgedrnn.yaml]",
              "[0.5, 1.0]", "[[4, 6], [4, 8]]", "[true]", "[.inf]", "[" + ", ".join(map(str, range(2000))) + "]")
    dists = ("{randint: [1, 8]}", "{uniform: [100, 900]}", "{loguniform: [1, 64]}", "{choice: [1, 2]}", "[1, 2]",
             "{randint: [0, 100000000000000000000000]}", "{uniform: [-1.0e+308, 1.0e+308]}",
             "{randint: [5, 1]}", "{loguniform: [1.0e-300, 1.0e+300]}", "{uniform: [0, 1.0e+400]}", "{uniform: [.nan, 1]}", "{choice: []}", "{randint: [1.5, 2]}",
             "{randint: [-9223372036854775808, 9223372036854775807]}", "{uniform: [1, 2], choice: [1]}")
    workload = {"name": ("t", "syn", "", "a b"), "trace": ("v1.npz", "v2.npz", "v*.npz", "*", "missing.npz",
                                                             "arch_a.yaml", "/", ""),
                ONE: True, "synth": synth, "egru": {"model": ("v1.npz", "*.npz", "missing.npz"), "split": ("test", "x"),
                                         "start": ("0", "-1"), "tokens": ("5", "0"), "ptb": (".", "missing")}}
    axes = [{ONE: True, "grid": {FEW: True, **{p: values for p in CONFIG_PATHS}},
             "zip": {FEW: True, **{p: values for p in CONFIG_PATHS}},
             "random": {"samples": ("0", "1", "3", "10", "10000000", "10000001", "-1"),
                        "seed": ("0", "1", "-1", str(2 ** 64)),
                        "fields": {FEW: True, **{p: dists for p in CONFIG_PATHS}}}}]
    part = {"name": ("one", "two", "part0", ""), "base": ("arch_a.yaml", "edgedrnn.yaml", "missing.yaml",
                                                          "v1.npz", "45nm.yaml"),
            "tokens": ("1", "3", "0", "-1"), "baseline": ("true", "false"), "workloads": [workload], "axes": axes}
    return {"name": ("fuzz", "a", "../x", "x/y", ".", "a" * 101, ""), "base": part["base"], "tokens": part["tokens"],
            "baseline": part["baseline"], "workloads": [workload], "axes": axes, "parts": [part]}


SCHEMAS = {"config": config_schema, "energy": energy_schema, "spec": spec_schema}

# Scalars of every YAML type, including the ones that trip constructors.
SCALARS = (
    "~", "null", "Null", "", "true", "false", "yes", "No", "on", "OFF",
    "0", "-0", "1", "-1", "7", "+12", "1_000", "0x1F", "0o17", "017", "0b101", "190:20:30", "-1:00",
    str(2 ** 31), str(2 ** 63), str(2 ** 64), str(10 ** 30), "-" + str(10 ** 30), "0x" + "f" * 40,
    "0.5", "-1.5", "1e3", "1.0e+3", "6.8523015e+5", "1e400", "-1e400", "1e-400", "1.0e+400", "-1.0e+308", ".inf", "-.Inf", ".NaN",
    "190:20:30.15", "1.0e+", "0.", ".5", "1" + "0" * 400 + ".0",
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2001-13-45", "2001-02-30",
    "2001-12-14 25:00:00", "0000-01-01", "9999-12-31t23:59:60Z", "2001-12-14T21:59:43.1234567890123+99:99",
    "x", "csc", "dense", "sram", "dram", "spatial", "temporal", "45nm", "arch_a.yaml", "v1.npz", "*",
    "'quoted'", '"\\x00"', '"\\ud800"', '"\\U0010ffff"', '"tab\\tnew\\nline"', "'it''s'",
    "\u00e9t\u00e9", "|\n  block\n  text", ">\n  folded",
    "!!binary aGVsbG8=", "!!binary '@@@'", "!!binary /w==", "!!set {a, b}", "!!omap [a: 1, a: 2]", "!!pairs [a: 1]",
    "!!str 5", "!!int abc", "!!int 0x", "!!int ''", "!!float abc", "!!float ''", "!!bool maybe", "!!null x",
    "!!timestamp 2001-99-99", "!!timestamp x", "!!map []", "!!seq {}", "!foo bar", "!!python/name:os.system",
    "!!python/object/apply:os.system ['true']", "!<tag:yaml.org,2002:int> 0x",
    "{[a, b]: 1}", "{{a: 1}: 2}", "[1, [2, [3, [4]]]]", "{a: 1, a: 2}", "[" * 40 + "]" * 40,
    "&x 5", "*undefined", "@reserved", "`reserved", "%TAG",
)
# Scalars that take the YAML reader milliseconds to a second (long texts, nesting near the
# parser's recursion limit): drawn rarely, so that a campaign stays fast.
HEAVY_SCALARS = (
    "9" * 4300, "9" * 4301, "-" + "1" * 5000, "0x" + "f" * 4000, "0b" + "1" * 15000, "017" + "7" * 6000,
    "1" + ":0" * 2000, "1" + ":59" * 3000, '"' + "y" * 3000 + '"', "[" * 2000 + "]" * 2000,
    "{a: " * 300 + "1" + "}" * 300, "[" * 450 + "]" * 450,
)


@dataclass
class _Doc:
    anchors: list = field(default_factory=list)
    n: int = 0


def _scalar(r) -> str:
    return r.choice(HEAVY_SCALARS) if r.randint(0, 999) == 0 else r.choice(SCALARS)


def _laughs(r, doc: _Doc) -> str:
    """A chain of anchors each referring to the previous one ten times (a billion laughs)."""
    base = f"l{doc.n}"
    doc.n += 1
    k = r.randint(3, 9)
    text = f"&{base}0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"
    for i in range(1, k):
        text = f"&{base}{i} [" + ", ".join([text if j == 0 else f"*{base}{i - 1}" for j in range(10)]) + "]"
    return text


def _value(r, schema, doc: _Doc, depth: int, indent: int) -> str:
    """The YAML text after ``key:`` (starting with a space or a newline) for a value of ``schema``."""
    how = r.randint(0, 19)
    if how == 0 and doc.anchors:                               # an alias to an earlier anchor
        return " *" + r.choice(doc.anchors)
    if how == 1:                                               # a random scalar of any type
        return " " + _scalar(r)
    if how == 2 and depth < 4:                                 # a random structure
        return _random_structure(r, doc, depth, indent)
    if how == 3 and r.randint(0, 2) == 0:
        return " " + _laughs(r, doc)
    anchor = ""
    if how == 4:
        name = f"a{doc.n}"
        doc.n += 1
        anchor = f" &{name}"
        doc.anchors.append(name)
    if isinstance(schema, dict):
        return anchor + _mapping(r, schema, doc, depth + 1, indent + 2, flow=r.randint(0, 4) == 0)
    if isinstance(schema, list):
        items = [_value(r, schema[0], doc, depth + 1, indent + 2) for _ in range(r.randint(0, 3))]
        if not items:
            return anchor + " []"
        return anchor + "".join(f"\n{' ' * indent}-{item}" for item in items)
    if how == 5 and anchor:                                    # a recursive alias
        return f"{anchor} [*{doc.anchors[-1]}]"
    return anchor + " " + (r.choice(schema) if r.randint(0, 3) else _scalar(r))


def _random_structure(r, doc: _Doc, depth: int, indent: int) -> str:
    if r.randint(0, 1):
        items = [_random_structure(r, doc, depth + 1, indent).strip() if depth < 3 and r.randint(0, 2) == 0
                 else _scalar(r) for _ in range(r.randint(0, 4))]
        items = [i for i in items if "\n" not in i]
        return " [" + ", ".join(items) + "]"
    keys = [r.choice(("a", "b", "count", "~", "1", "1.5", "true", "2001-12-14", "<<", "[k]"))
            for _ in range(r.randint(0, 3))]
    parts = []
    for k in keys:
        v = "*" + r.choice(doc.anchors) if k == "<<" and doc.anchors else _scalar(r)
        if "\n" not in v:
            parts.append(f"{k}: {v}")
    return " {" + ", ".join(parts) + "}"


_ODD_KEYS = ("<<", "~", "1", "0x10", "true", "2001-12-14", "2001-13-45", "9" * 5000, "'pe'", '"clock_mhz"',
             "pe ", "? [a]", "[a, b]", "{a: 1}", "&k name", "*k", "!!int 5", "-", "? ", "x\ty", "\u00e9")


ONE = "__one__"   # in a schema: the mapping takes exactly one of its keys (mostly)
FEW = "__few__"   # in a schema: the mapping takes one to three of its many keys (mostly)


def _mapping(r, schema: dict, doc: _Doc, depth: int, indent: int, flow: bool = False) -> str:
    names = [n for n in schema if n not in (ONE, FEW)]
    if ONE in schema and r.randint(0, 7):
        chosen = [r.choice([n for n in names if n != "name"])]
        if "name" in names and r.randint(0, 1):
            chosen.insert(0, "name")
    elif FEW in schema and r.randint(0, 7):
        chosen = list(dict.fromkeys(r.choice(names) for _ in range(r.randint(1, 3))))
    else:
        chosen = [n for n in names if r.randint(0, 2)]
    r_order = chosen[:]
    if len(r_order) > 1 and r.randint(0, 3) == 0:
        i, j = r.randint(0, len(r_order) - 1), r.randint(0, len(r_order) - 1)
        r_order[i], r_order[j] = r_order[j], r_order[i]
    entries = []
    for n in r_order:
        entries.append((n, schema[n]))
    if entries and r.randint(0, 5) == 0:                       # a key given twice
        entries.insert(r.randint(0, len(entries)), r.choice(entries))
    if r.randint(0, 5) == 0:                                   # a key the model does not have
        entries.insert(r.randint(0, len(entries)), (r.choice(_ODD_KEYS + tuple(n + "s" for n in names[:3])), ("1",)))
    if r.randint(0, 7) == 0 and doc.anchors:                   # a merge key
        entries.insert(0, ("<<", None))
    if flow:
        parts = []
        for k, s in entries:
            v = (" *" + r.choice(doc.anchors)) if s is None else _value(r, s, doc, depth + 1, indent)
            if "\n" in v:
                v = " " + _scalar(r)
            parts.append(f"{k}:{v}")
        return " {" + ", ".join(parts) + "}"
    lines = []
    for k, s in entries:
        v = (" *" + r.choice(doc.anchors)) if s is None else _value(r, s, doc, depth + 1, indent)
        lines.append(f"\n{' ' * indent}{k}:{v}")
    return "".join(lines) if lines else " {}"


def yaml_document(r, kind: str) -> str:
    """A random YAML document over the fields of ``kind`` (config, energy or spec): nested
    mappings, lists and scalars of every YAML type, duplicate and unknown keys, anchors, aliases
    (recursive ones and billion laughs), merge keys, huge integers, ``.inf`` and the like."""
    doc = _Doc()
    how = r.randint(0, 19)
    if how == 0:
        return _scalar(r) + "\n"
    if how == 1:
        return _random_structure(r, doc, 0, 0).strip() + "\n"
    if how == 2:
        return "---\na: 1\n---\nb: 2\n"
    text = _mapping(r, SCHEMAS[kind](), doc, 0, 0).lstrip("\n")
    return text + "\n"


def mutate_yaml_text(r, text: str, kind: str) -> str:
    """One line-level mutation of a YAML file: a line deleted, duplicated (a key twice), swapped,
    re-indented, a value replaced by a scalar of another type, an anchor and an alias added."""
    lines = text.split("\n")
    n = len(lines)
    i, j = r.randint(0, n - 1), r.randint(0, n - 1)
    op = r.randint(0, 7)
    if op == 0:
        del lines[i]
    elif op == 1:
        lines.insert(j, lines[i])
    elif op == 2:
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 3:
        k = r.randint(-4, 4)
        lines[i] = (" " * k + lines[i]) if k > 0 else lines[i][-k:]
    elif op == 4 or op == 5:
        kv = [x for x in range(n) if ":" in lines[x] and not lines[x].lstrip().startswith("#")]
        if kv:
            x = r.choice(kv)
            head = lines[x].split(":", 1)[0]
            value = _scalar(r) if op == 4 else _laughs(r, _Doc())
            lines[x] = f"{head}: {value}"
    elif op == 6:
        kv = [x for x in range(n) if ": " in lines[x] and not lines[x].rstrip().endswith(":")]
        if len(kv) >= 2:
            a, b = sorted((r.choice(kv), r.choice(kv)))
            head, _, val = lines[a].partition(": ")
            lines[a] = f"{head}: &fz {val}"
            headb = lines[b].partition(": ")[0]
            lines[b] = f"{headb}: *fz" if a != b else f"{headb}: &fz [*fz]"
    else:
        lines.insert(j, " " * r.randint(0, 4) + r.choice(_ODD_KEYS) + ":" + " " + _scalar(r))
    return "\n".join(lines)


_POOLS: dict[str, tuple[str, ...]] = {}


def _leaf_pool(kind: str) -> tuple[str, ...]:
    """Every single-line scalar or flow value the schema of ``kind`` suggests, and :data:`SCALARS`."""
    if kind not in _POOLS:
        out: set[str] = set()

        def walk(x):
            if isinstance(x, dict):
                for k, v in x.items():
                    if k not in (ONE, FEW):
                        walk(v)
            elif isinstance(x, list):
                walk(x[0])
            else:
                out.update(t for t in x if "\n" not in t)
        walk(SCHEMAS[kind]())
        out.update(t for t in SCALARS if "\n" not in t)
        _POOLS[kind] = tuple(sorted(out))
    return _POOLS[kind]


def _slots(node, out: list) -> list:
    """Every (container, key) of a parsed YAML document, depth first."""
    if isinstance(node, dict):
        for k in list(node):
            out.append((node, k))
            _slots(node[k], out)
    elif isinstance(node, list):
        for i in range(len(node)):
            out.append((node, i))
            _slots(node[i], out)
    return out


def mutate_yaml_tree(r, text: str, kind: str) -> str:
    """One to three mutations of a valid YAML file's parsed tree, written back as YAML: a value
    replaced by a scalar or flow value of any type (the schema's own values, values of other
    fields, every YAML type), a random structure, a billion laughs, another value of the file; a
    key removed, added or duplicated in a list. The file's structure stays mostly valid, so the
    values reach the checks deep in the loader."""
    import copy

    import yaml

    doc = yaml.safe_load(text)
    raws: list[str] = []

    def raw(token: str) -> str:
        raws.append(token)
        return f"RAWTOKEN{len(raws) - 1}X"

    pool = _leaf_pool(kind)
    names = [n for n in _leaf_names(kind)]
    for _ in range(r.randint(1, 3)):
        slots = _slots(doc, [])
        if not slots:
            break
        container, key = r.choice(slots)
        op = r.randint(0, 11)
        if op == 0 and isinstance(container, dict):
            del container[key]
        elif op == 1 and isinstance(container, list):
            container.insert(key, copy.deepcopy(container[key]))
        elif op <= 6:
            hints = _leaf_hints(kind).get(key) if isinstance(key, str) else None
            container[key] = raw(r.choice(hints) if hints and r.randint(0, 1) else r.choice(pool))
        elif op == 7:
            container[key] = raw(_random_structure(r, _Doc(), 0, 0).strip())
        elif op == 8 and r.randint(0, 3) == 0:
            container[key] = raw(_laughs(r, _Doc()))
        elif op == 9 and isinstance(container, dict):
            container[r.choice(names)] = raw(r.choice(pool))
        else:
            other_container, other_key = r.choice(slots)
            container[key] = copy.deepcopy(other_container[other_key])
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    out = yaml.dump(doc, Dumper=dumper, sort_keys=False, default_flow_style=r.choice((False, None)),
                    width=1 << 30, allow_unicode=True)
    for i, token in reversed(list(enumerate(raws))):
        out = out.replace(f"RAWTOKEN{i}X", token)
    return out


_HINTS: dict[str, dict[str, tuple[str, ...]]] = {}


def _leaf_hints(kind: str) -> dict[str, tuple[str, ...]]:
    """Field name -> the single-line values the schema of ``kind`` suggests for it (anywhere)."""
    if kind not in _HINTS:
        out: dict[str, set[str]] = {}

        def walk(x):
            if isinstance(x, dict):
                for k, v in x.items():
                    if k in (ONE, FEW):
                        continue
                    out.setdefault(k, set())
                    if isinstance(v, tuple):
                        out[k].update(t for t in v if "\n" not in t)
                    walk(v)
            elif isinstance(x, list):
                walk(x[0])
        walk(SCHEMAS[kind]())
        _HINTS[kind] = {k: tuple(sorted(v)) for k, v in out.items()}
    return _HINTS[kind]


def _leaf_names(kind: str) -> list[str]:
    return sorted(_leaf_hints(kind))


def yaml_input(r, seeds: Seeds, kind: str) -> bytes:
    """One fuzzed YAML file of ``kind``: random bytes, byte or line mutations of a seed, mutations
    of a seed's parsed tree, or a random document over the kind's fields."""
    how = r.randint(0, 11)
    if how == 0:
        return random_bytes(r, kind)
    if how <= 2:
        data = r.choice(seeds.files[kind])
        for _ in range(r.randint(1, 4)):
            data = mutate_bytes(r, data, seeds.files[kind])
        return data
    if how <= 4:
        text = r.choice(seeds.files[kind]).decode()
        for _ in range(r.randint(1, 4)):
            text = mutate_yaml_text(r, text, kind)
        return text.encode("utf-8", "surrogatepass")
    if how <= 8:
        return mutate_yaml_tree(r, r.choice(seeds.files[kind]).decode(), kind).encode("utf-8", "surrogatepass")
    return yaml_document(r, kind).encode("utf-8", "surrogatepass")


def make_input(r, seeds: Seeds, kind: str):
    """One fuzzed input of ``kind``: bytes for the file kinds, a key -> array mapping for ``arrays``."""
    if kind == "trace":
        return trace_input(r, seeds)
    if kind == "arrays":
        return random_arrays(r, r.choice(seeds.arrays))
    return yaml_input(r, seeds, kind)
