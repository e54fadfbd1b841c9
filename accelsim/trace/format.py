"""Trace format v2 (reads v1 too): one ``.npz`` (loads with ``allow_pickle=False``), documented in
``docs/trace-format.md``.

A trace is the workload: per layer, the stacked gate matrix ``[W | R]`` (3H x (n_in + H), CSC,
rows z, r, g) and the events each layer emitted at each step. Version 2 adds, per layer and each
optional, the input columns and recurrent columns the layer reads at each step and the steps where
its bias is fetched as a column (delta networks). The loader validates everything and raises one
:class:`InputError` naming the file, the key and what is wrong. A trace's identity is the SHA-256
of its bytes; :func:`save_trace` writes the same bytes for the same content.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from accelsim.config.limits import check_memory, fmt_bytes
from accelsim.errors import InputError
from accelsim.io import atomic_write_bytes, read_input_bytes

FORMAT_NAME = "accelsim-trace"
FORMAT_VERSION = 2                 # what make_meta writes
READ_VERSIONS = (1, 2)             # what the loader accepts
V2_GROUPS = ("x_events", "h_events")   # per layer, optional: l{l}.<group>.{indptr,indices[,values]}
V2_BIAS = "bias_fires"                 # per layer, optional: l{l}.bias_fires
_GROUP_PARTS = ("indptr", "indices", "values")
_V1_LAYER_KEYS = ("weight.indptr", "weight.indices", "weight.values", "bias_x", "bias_r", "threshold",
                  "events.indptr", "events.indices", "events.values")
_LAYER_KEY = re.compile(r"^l([0-9]+)\.(.*)$", re.DOTALL)
_NO_LAYER = 2 ** 62   # the layer number of a key whose digits are too many to be one
VALUE_DTYPES = (np.float16, np.float32)
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: same content, same bytes


@dataclass(frozen=True, eq=False)
class CSC:
    """A compressed-sparse-column matrix: column j's rows are ``indices[indptr[j]:indptr[j+1]]``."""

    indptr: np.ndarray   # int64, cols + 1
    indices: np.ndarray  # int32 row ids, sorted and unique within a column
    values: np.ndarray   # float16 / float32
    shape: tuple[int, int]

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    def col_nnz(self) -> np.ndarray:
        return np.diff(self.indptr)

    def to_dense(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=np.float32)
        cols = np.repeat(np.arange(self.shape[1]), self.col_nnz())
        out[self.indices, cols] = self.values
        return out

    @classmethod
    def from_dense(cls, a: np.ndarray, dtype=np.float32) -> "CSC":
        a = np.asarray(a)
        cols, rows = np.nonzero(a.T)  # column-major order, rows sorted within a column
        indptr = np.zeros(a.shape[1] + 1, dtype=np.int64)
        np.cumsum(np.bincount(cols, minlength=a.shape[1]), out=indptr[1:])
        return cls(indptr, rows.astype(np.int32), a[rows, cols].astype(dtype), (a.shape[0], a.shape[1]))


@dataclass(frozen=True, eq=False)
class Events:
    """Events of one layer: at step t the units ``indices[indptr[t]:indptr[t+1]]`` fired."""

    indptr: np.ndarray   # int64, T + 1
    indices: np.ndarray  # unit ids (int32; int64 for v2 x/h events), sorted and unique within a step
    values: np.ndarray | None  # float16 / float32: the value each event carries (None: not stored)

    @property
    def steps(self) -> int:
        return len(self.indptr) - 1

    def counts(self) -> np.ndarray:
        return np.diff(self.indptr)

    def head(self, steps: int) -> "Events":
        end = int(self.indptr[steps])
        values = None if self.values is None else self.values[:end]
        return Events(self.indptr[: steps + 1].copy(), self.indices[:end], values)

    @classmethod
    def from_dense(cls, y: np.ndarray, dtype=np.float32, index_dtype=np.int32,
                   with_values: bool = True) -> "Events":
        """From a T x H array whose nonzero entries are events.

        ``index_dtype=np.int64`` gives the indices v2 ``x_events`` / ``h_events`` store;
        ``with_values=False`` stores no values (``values`` is None; a boolean mask will do).
        """
        t, unit = np.nonzero(y)
        indptr = np.zeros(y.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(t, minlength=y.shape[0]), out=indptr[1:])
        values = y[t, unit].astype(dtype) if with_values else None
        return cls(indptr, unit.astype(index_dtype), values)


@dataclass(frozen=True, eq=False)
class LayerTrace:
    input_size: int
    hidden_size: int
    weight: CSC              # 3H x (input_size + hidden_size): [W | R], rows z, r, g
    bias_x: np.ndarray       # 3H
    bias_r: np.ndarray       # 3H
    threshold: np.ndarray    # H
    events: Events
    # trace v2 (delta networks), optional: the columns the layer reads at each step
    x_events: Events | None = None      # input columns, indices in [0, input_size)
    h_events: Events | None = None      # recurrent columns, indices in [0, hidden_size)
    bias_fires: np.ndarray | None = None  # uint8 (T,): 1 where the bias column is fetched

    @property
    def gate_rows(self) -> int:
        return 3 * self.hidden_size


def next_step_events(h_events: Events, steps: int) -> Events:
    """A delta-network layer's own events (the version-1 view): the recurrent columns it sends
    to the next step, ``events[t] = h_events[t + 1]``; the last step's events are empty."""
    start = int(h_events.indptr[1]) if steps else 0
    indptr = np.append(h_events.indptr[1:], h_events.indptr[-1])[:steps + 1] - start  # T = 0: [0]
    return Events(indptr.astype(np.int64), h_events.indices[start:].astype(np.int32),
                  None if h_events.values is None else h_events.values[start:].copy())


@dataclass(frozen=True, eq=False)
class Trace:
    meta: dict
    layers: tuple[LayerTrace, ...]
    embedding: np.ndarray | None = None        # V x E (layer 0's dense input), when carried
    token_ids: np.ndarray | None = None        # key input.tokens; synthetic traces only, never PTB
    decoder_weight: CSC | None = None          # V x E: column j is read when last-layer unit j fires
    decoder_bias: np.ndarray | None = None     # V
    path: str | None = field(default=None, compare=False)
    sha256: str | None = field(default=None, compare=False)

    @property
    def steps(self) -> int:
        return int(self.meta["tokens"])

    @property
    def vocab_size(self) -> int:
        return int(self.meta["vocab_size"])

    def head(self, steps: int) -> "Trace":
        """The first ``steps`` tokens of this trace (weights unchanged)."""
        if not 0 <= steps <= self.steps:
            raise InputError(f"{self.path or 'trace'}: asked for {steps} tokens, the trace has {self.steps}")
        meta = dict(self.meta, tokens=steps)
        layers = tuple(replace(l, events=l.events.head(steps),
                               x_events=None if l.x_events is None else l.x_events.head(steps),
                               h_events=None if l.h_events is None else l.h_events.head(steps),
                               bias_fires=None if l.bias_fires is None else l.bias_fires[:steps])
                       for l in self.layers)
        ids = None if self.token_ids is None else self.token_ids[:steps]
        return replace(self, meta=meta, layers=layers, token_ids=ids)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The key -> array mapping, exactly as stored in the file (v2 keys only where present)."""
        out: dict[str, np.ndarray] = {"meta": np.array(json.dumps(self.meta, sort_keys=True))}
        for i, l in enumerate(self.layers):
            p = f"l{i}."
            out[p + "weight.indptr"] = l.weight.indptr
            out[p + "weight.indices"] = l.weight.indices
            out[p + "weight.values"] = l.weight.values
            out[p + "bias_x"] = l.bias_x
            out[p + "bias_r"] = l.bias_r
            out[p + "threshold"] = l.threshold
            out[p + "events.indptr"] = l.events.indptr
            out[p + "events.indices"] = l.events.indices
            out[p + "events.values"] = l.events.values
            for group in V2_GROUPS:
                ev = getattr(l, group)
                if ev is not None:
                    out[f"{p}{group}.indptr"] = ev.indptr
                    out[f"{p}{group}.indices"] = ev.indices
                    if ev.values is not None:
                        out[f"{p}{group}.values"] = ev.values
            if l.bias_fires is not None:
                out[p + V2_BIAS] = l.bias_fires
        if self.embedding is not None:
            out["input.embedding"] = self.embedding
        if self.token_ids is not None:
            out["input.tokens"] = self.token_ids
        if self.decoder_weight is not None:
            out["decoder.weight.indptr"] = self.decoder_weight.indptr
            out["decoder.weight.indices"] = self.decoder_weight.indices
            out["decoder.weight.values"] = self.decoder_weight.values
        if self.decoder_bias is not None:
            out["decoder.bias"] = self.decoder_bias
        return out


def make_meta(layer_sizes: list[tuple[int, int]], vocab_size: int, tokens: int, source: dict,
              perplexity: float | None = None, **extra) -> dict:
    meta = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "layers": [{"input_size": int(i), "hidden_size": int(h)} for i, h in layer_sizes],
        "vocab_size": int(vocab_size),
        "tokens": int(tokens),
        "source": source,
    }
    if perplexity is not None:
        meta["perplexity"] = float(perplexity)
    meta.update(extra)
    return meta


# ----------------------------------------------------------------------------------------------
# writing


def trace_bytes(trace: Trace) -> bytes:
    """The file's bytes: a deflated zip of .npy members with fixed timestamps (deterministic)."""
    validate_trace(trace, "<trace being written>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for key, arr in trace.to_arrays().items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def save_trace(path: str | os.PathLike, trace: Trace) -> str:
    """Validate, then write atomically. Returns the SHA-256 of the written bytes."""
    data = trace_bytes(trace)
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------------------------
# reading and validation


class ArrayChecker:
    """Checks arrays read from an archive; every problem is one InputError naming the source and
    the key (also used for validation cases)."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, what: str) -> None:
        if len(key) > 80:  # a name from the archive, shown as far as it helps
            key = key[:77] + "..."
        raise InputError(f"{self.source}: {key}: {what}")

    def kind_and_shape(self, key: str, dtype: np.dtype, shape: tuple, kinds: tuple, ndim: int,
                       length: int | None = None) -> None:
        """The dtype and shape checks, on an array or on the header of one not read yet."""
        if dtype.type not in kinds:
            names = " or ".join(np.dtype(k).name for k in kinds)
            self.fail(key, f"dtype must be {names} (got {dtype.name})")
        if len(shape) != ndim:
            self.fail(key, f"must have {ndim} dimension(s) (got shape {shape})")
        if length is not None and shape[0] != length:
            self.fail(key, f"must have {length} entries (got {shape[0]})")

    def array(self, arrays: dict, key: str, kinds: tuple, ndim: int, length: int | None = None) -> np.ndarray:
        if key not in arrays:
            self.fail(key, "missing key")
        a = arrays[key]
        self.kind_and_shape(key, a.dtype, a.shape, kinds, ndim, length)
        if a.dtype.kind == "f" and a.size and not np.isfinite(a).all():
            self.fail(key, f"holds {int((~np.isfinite(a)).sum())} NaN/inf value(s); all values must be finite")
        return a

    def compressed(self, arrays: dict, base: str, outer: int, inner: int, what_outer: str, what_inner: str,
                   index_kinds: tuple = (np.int32,), values_required: bool = True):
        """Validate an (indptr, indices, values) triple; ``outer`` pointers, indices in [0, inner).

        ``index_kinds``: the dtypes the indices may have (int32 in v1 keys, int64 in v2 x/h events).
        ``values_required=False``: ``{base}.values`` may be absent (then None is returned for it).
        """
        indptr = self.array(arrays, f"{base}.indptr", (np.int64,), 1, outer + 1)
        if indptr[0] != 0:
            self.fail(f"{base}.indptr", f"must start at 0 (got {indptr[0]})")
        # compared, not subtracted: a difference of two int64 pointers can overflow and wrap
        down = indptr[1:] < indptr[:-1]
        if down.any():
            bad = int(np.argmax(down))
            self.fail(f"{base}.indptr", f"must be non-decreasing (decreases after {what_outer} {bad})")
        d = indptr[1:] - indptr[:-1]   # non-decreasing from 0: no overflow
        nnz = int(indptr[-1])
        indices = self.array(arrays, f"{base}.indices", index_kinds, 1, nnz)
        values = None
        if values_required or f"{base}.values" in arrays:
            values = self.array(arrays, f"{base}.values", VALUE_DTYPES, 1, nnz)
        if nnz:
            lo, hi = int(indices.min()), int(indices.max())
            if lo < 0 or hi >= inner:
                self.fail(f"{base}.indices", f"{what_inner} ids must be in [0, {inner}) (found {lo if lo < 0 else hi})")
            # strictly increasing inside each group: a non-increase may only sit at a group start
            step_ok = np.diff(indices.astype(np.int64)) > 0
            starts = np.zeros(nnz, dtype=bool)
            starts[indptr[:-1][d > 0]] = True
            bad = ~step_ok & ~starts[1:]
            if bad.any():
                pos = int(np.argmax(bad)) + 1
                grp = int(np.searchsorted(indptr, pos, side="right") - 1)
                self.fail(f"{base}.indices", f"{what_inner} ids must be sorted and unique within each "
                                             f"{what_outer} ({what_outer} {grp} is not)")
        return indptr, indices, values


def _layer_keys(arrays: dict) -> list[tuple[str, int, str]]:
    """(key, layer, rest) for every ``l{l}.<rest>`` key, in the archive's order."""
    out = []
    for k in arrays:
        m = _LAYER_KEY.match(k)
        if m:
            out.append((k, _layer_no(m), m.group(2)))
    return out


def _layer_no(m: re.Match) -> int:
    """The layer number of an ``l{l}.`` key (a huge number for more digits than any trace has)."""
    digits = m.group(1)
    return int(digits) if len(digits) <= 18 else _NO_LAYER


def _is_v2_key(rest: str) -> bool:
    return rest.split(".")[0] in V2_GROUPS + (V2_BIAS,)


def _check_layer_keys(arrays: dict, meta: dict, c: ArrayChecker) -> None:
    """v2 keys only in a version-2 file; in one, no layer key accelsim does not know."""
    known = set(_V1_LAYER_KEYS) | {f"{g}.{part}" for g in V2_GROUPS for part in _GROUP_PARTS} | {V2_BIAS}
    n_layers = len(meta["layers"])
    for key, layer, rest in _layer_keys(arrays):
        if layer >= n_layers:
            continue  # reported as a key of a layer beyond meta.layers
        if _is_v2_key(rest) and meta["version"] < 2:
            c.fail(key, f"needs meta.version 2 (this file says version {meta['version']})")
        if meta["version"] >= 2 and rest not in known:
            if _is_v2_key(rest):
                c.fail(key, f"unknown key; a version-2 layer key is l{layer}.x_events.{{indptr,indices,values}}, "
                            f"l{layer}.h_events.{{indptr,indices,values}} or l{layer}.bias_fires")
            c.fail(key, "unknown key (see docs/trace-format.md for the keys of a layer)")


def _key_spec(key: str, meta: dict) -> tuple[tuple, int, int | None, int] | None:
    """(dtypes, ndim, exact length or None, most entries) of a key of a trace with this meta;
    None for a key the format does not have. The bounds come from the dimensions in meta: an
    nnz-sized array holds at most rows x columns entries, an event array steps x units."""
    T, V = meta["tokens"], meta["vocab_size"]
    layers = meta["layers"]
    m = _LAYER_KEY.match(key)
    if m:
        l, rest = _layer_no(m), m.group(2)
        if key != f"l{l}.{rest}" or l >= len(layers):
            return None
        n_in, H = layers[l]["input_size"], layers[l]["hidden_size"]
        base, _, part = rest.rpartition(".")
        sizes = {"weight": (n_in + H, 3 * H), "events": (T, H), "x_events": (T, n_in), "h_events": (T, H)}
        if base in sizes and part in _GROUP_PARTS:
            outer, inner = sizes[base]
            wide = base in V2_GROUPS
            if part == "indptr":
                return (np.int64,), 1, outer + 1, outer + 1
            if part == "indices":
                return ((np.int64,) if wide else (np.int32,)), 1, None, outer * inner
            return VALUE_DTYPES, 1, None, outer * inner
        fixed = {"bias_x": (VALUE_DTYPES, 3 * H), "bias_r": (VALUE_DTYPES, 3 * H),
                 "threshold": (VALUE_DTYPES, H), V2_BIAS: ((np.uint8,), T)}
        if rest in fixed:
            kinds, n = fixed[rest]
            return kinds, 1, n, n
        return None
    E, H_last = layers[0]["input_size"], layers[-1]["hidden_size"]
    if key == "input.embedding":
        return VALUE_DTYPES, 2, V, V * E
    if key == "input.tokens":
        return (np.int32, np.int64), 1, T, T
    if key == "decoder.weight.indptr":
        return (np.int64,), 1, H_last + 1, H_last + 1
    if key == "decoder.weight.indices":
        return (np.int32,), 1, None, V * H_last
    if key == "decoder.weight.values":
        return VALUE_DTYPES, 1, None, V * H_last
    if key == "decoder.bias":
        return VALUE_DTYPES, 1, V, V
    return None


def _ignored_keys(keys, meta: dict, c: ArrayChecker) -> set[str]:
    """Refuse the keys a trace cannot have; return those to ignore.

    A key of a layer beyond ``meta.layers`` is refused. Any other key the format does not have is
    refused in a version-2 file; a version-1 file keeps its old meaning (unknown keys ignored),
    and the loader never reads them."""
    n_layers = len(meta["layers"])
    ignored = set()
    for key in keys:
        if key == "meta":
            continue
        m = _LAYER_KEY.match(key)
        if m and _layer_no(m) >= n_layers:
            c.fail(key, f"belongs to a layer beyond meta.layers ({n_layers} layers)")
        if _key_spec(key, meta) is not None:
            continue
        if meta["version"] < 2:
            ignored.add(key)
        else:
            c.fail(key, "unknown key (see docs/trace-format.md for the keys of a trace)")
    return ignored


def _optional_events(arrays: dict, c: ArrayChecker, base: str, steps: int, size: int, what: str) -> Events | None:
    """A v2 ``x_events`` / ``h_events`` group: absent, or indptr and indices (values optional)."""
    present = [part for part in _GROUP_PARTS if f"{base}.{part}" in arrays]
    if not present:
        return None
    if "indptr" not in present or "indices" not in present:
        missing = "indptr" if "indptr" not in present else "indices"
        c.fail(f"{base}.{missing}", f"missing key; {base}.{present[0]} is given and a {base.split('.')[-1]} "
                                    f"group needs both indptr and indices")
    ptr, idx, val = c.compressed(arrays, base, steps, size, "step", what,
                                 index_kinds=(np.int64,), values_required=False)
    return Events(ptr, idx, val)


def _optional_bias_fires(arrays: dict, c: ArrayChecker, key: str, steps: int) -> np.ndarray | None:
    if key not in arrays:
        return None
    a = c.array(arrays, key, (np.uint8,), 1, steps)
    if a.size and a.max() > 1:
        t = int(np.argmax(a > 1))
        c.fail(key, f"must hold only 0 or 1 (found {int(a[t])} at step {t})")
    return a


def _parse_meta(arrays: dict, c: ArrayChecker) -> dict:
    if "meta" not in arrays:
        c.fail("meta", "missing key; is this an accelsim trace?")
    m = arrays["meta"]
    if m.ndim != 0 or m.dtype.kind not in "US":
        c.fail("meta", f"must be a 0-d string array holding JSON (got dtype {m.dtype.name}, shape {m.shape})")
    try:
        meta = json.loads(str(m[()]))
    except json.JSONDecodeError as e:
        c.fail("meta", f"not valid JSON ({e.msg} at position {e.pos})")
    except RecursionError:
        c.fail("meta", "not valid JSON (nested too deeply)")
    except ValueError:  # an integer of more digits than Python converts
        c.fail("meta", "not valid JSON (a number with too many digits)")
    if not isinstance(meta, dict):
        c.fail("meta", "JSON must be an object")
    if meta.get("format") != FORMAT_NAME:
        c.fail("meta.format", f"must be '{FORMAT_NAME}' (got {meta.get('format')!r})")
    v = meta.get("version")
    if v not in READ_VERSIONS:
        c.fail("meta.version", f"unsupported version {v!r}; this accelsim reads versions "
                               f"{', '.join(map(str, READ_VERSIONS))}")
    for k in ("vocab_size", "tokens"):
        v = meta.get(k)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0 or (k == "vocab_size" and v == 0):
            c.fail(f"meta.{k}", f"must be a {'positive' if k == 'vocab_size' else 'non-negative'} integer (got {v!r})")
    layers = meta.get("layers")
    if not isinstance(layers, list) or not layers:
        c.fail("meta.layers", "must be a non-empty list of {input_size, hidden_size}")
    for i, l in enumerate(layers):
        if not isinstance(l, dict):
            c.fail(f"meta.layers[{i}]", "must be an object {input_size, hidden_size}")
        for k in ("input_size", "hidden_size"):
            v = l.get(k)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                c.fail(f"meta.layers[{i}].{k}", f"must be a positive integer (got {v!r})")
        if i and l["input_size"] != layers[i - 1]["hidden_size"]:
            c.fail(f"meta.layers[{i}].input_size", f"must equal layer {i - 1}'s hidden_size "
                                                    f"{layers[i - 1]['hidden_size']} (got {l['input_size']})")
    if "source" not in meta:
        c.fail("meta.source", "missing (dataset/split, or synthetic with its parameters and seed)")
    return meta


def trace_from_arrays(arrays: dict, source: str = "<trace>") -> Trace:
    """Build and validate a Trace from the key -> array mapping (version 1 or 2)."""
    c = ArrayChecker(source)
    meta = _parse_meta(arrays, c)
    _check_layer_keys(arrays, meta, c)
    _ignored_keys(arrays, meta, c)
    T = meta["tokens"]
    layers = []
    for i, lm in enumerate(meta["layers"]):
        n_in, H = lm["input_size"], lm["hidden_size"]
        p = f"l{i}."
        wi, wx, wv = c.compressed(arrays, p + "weight", n_in + H, 3 * H, "column", "row")
        fl = VALUE_DTYPES
        bx = c.array(arrays, p + "bias_x", fl, 1, 3 * H)
        br = c.array(arrays, p + "bias_r", fl, 1, 3 * H)
        th = c.array(arrays, p + "threshold", fl, 1, H)
        ei, ex, ev = c.compressed(arrays, p + "events", T, H, "step", "unit")
        xe = _optional_events(arrays, c, p + "x_events", T, n_in, "input column")
        he = _optional_events(arrays, c, p + "h_events", T, H, "recurrent column")
        bf = _optional_bias_fires(arrays, c, p + V2_BIAS, T)
        layers.append(LayerTrace(n_in, H, CSC(wi, wx, wv, (3 * H, n_in + H)), bx, br, th, Events(ei, ex, ev),
                                 xe, he, bf))
    V, E = meta["vocab_size"], meta["layers"][0]["input_size"]
    emb = tok = dec = dbias = None
    if "input.embedding" in arrays:
        emb = c.array(arrays, "input.embedding", fl, 2, V)
        if emb.shape[1] != E:
            c.fail("input.embedding", f"must be vocab_size x input_size = {V} x {E} (got {emb.shape})")
    if "input.tokens" in arrays:
        tok = c.array(arrays, "input.tokens", (np.int32, np.int64), 1, T)
        if tok.size and (tok.min() < 0 or tok.max() >= V):
            c.fail("input.tokens", f"token ids must be in [0, {V})")
    if "decoder.weight.indptr" in arrays or "decoder.weight.values" in arrays:
        H_last = meta["layers"][-1]["hidden_size"]
        di, dx, dv = c.compressed(arrays, "decoder.weight", H_last, V, "column", "row")
        dec = CSC(di, dx, dv, (V, H_last))
    if "decoder.bias" in arrays:
        dbias = c.array(arrays, "decoder.bias", fl, 1, V)
    return Trace(meta, tuple(layers), emb, tok, dec, dbias)


MAX_META_BYTES = 64 * 2 ** 20   # the JSON of meta; a real one is a few KiB


@dataclass(frozen=True)
class _Member:
    """One ``.npy`` member of the archive, known from its header only (nothing read yet)."""

    info: zipfile.ZipInfo
    dtype: np.dtype
    shape: tuple

    @property
    def entries(self) -> int:
        n = 1
        for d in self.shape:
            n *= int(d)
        return n

    @property
    def nbytes(self) -> int:
        return self.entries * self.dtype.itemsize


def _npy_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, c: ArrayChecker, key: str) -> _Member:
    """Read only the ``.npy`` header of a member: its dtype and shape."""
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:  # pragma: no cover - read_magic accepts only the versions above
            c.fail(key, f"not a valid .npz trace (unsupported .npy version {version})")
        header = f.tell()
    if dtype.hasobject:
        c.fail(key, "holds a Python object array; refused (traces must not need unpickling; store "
                    "numeric arrays and a JSON string)")
    member = _Member(info, dtype, tuple(int(d) for d in shape))
    if header + member.nbytes > info.file_size:
        c.fail(key, f"truncated: its header declares shape {member.shape} ({member.nbytes:,} bytes of "
                    f"{dtype.name}), the archive member holds {max(info.file_size - header, 0):,} bytes")
    return member


def _read_member(zf: zipfile.ZipFile, member: _Member) -> np.ndarray:
    with zf.open(member.info) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def _check_declared(members: dict[str, _Member], meta: dict, c: ArrayChecker, source: str) -> None:
    """Before any array is read: every key's declared size within what the trace's dimensions
    allow, and all of them within the memory available."""
    for key, m in members.items():
        if key == "meta":
            continue
        kinds, ndim, length, most = _key_spec(key, meta)
        if m.entries > most:
            c.kind_and_shape(key, m.dtype, m.shape, kinds, ndim, length)
            c.fail(key, f"declares shape {m.shape} ({m.entries:,} entries); a trace of these dimensions "
                        f"(meta.layers, tokens, vocab_size) has at most {most:,}; refused without reading it")
    total = sum(m.nbytes for m in members.values())
    # the arrays, and as much again for the validation's temporaries
    check_memory(2 * total, f"{source}: loading this trace ({fmt_bytes(total)} of arrays)")


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def load_trace(path: str | os.PathLike) -> Trace:
    """Read, validate and identify (SHA-256 of the bytes) a v1 or v2 trace. Never unpickles.

    The ``.npy`` headers are read first: a key the format does not have is refused (ignored in a
    version-1 file) and a declared size beyond the trace's dimensions or the memory available is
    refused, all before any array is read."""
    path = Path(path)
    data = read_input_bytes(path, "a .npz trace")
    digest = hashlib.sha256(data).hexdigest()
    if not data.startswith(b"PK"):
        raise InputError(f"{path}: not a .npz archive (a trace is a zip of .npy arrays; see docs/trace-format.md)")
    c = ArrayChecker(str(path))
    key = "(archive)"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos: dict[str, zipfile.ZipInfo] = {}
            for info in zf.infolist():
                key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                if key in infos:
                    c.fail(key, "appears twice in the archive")
                infos[key] = info
            key = "meta"
            if "meta" not in infos:
                c.fail("meta", "missing key; is this an accelsim trace?")
            m = _npy_header(zf, infos["meta"], c, "meta")
            if m.shape != () or m.dtype.kind not in "US":
                c.fail("meta", f"must be a 0-d string array holding JSON (got dtype {m.dtype.name}, shape {m.shape})")
            if m.nbytes > MAX_META_BYTES:
                c.fail("meta", f"declares {m.nbytes:,} bytes; the JSON of a trace's meta is at most "
                               f"{MAX_META_BYTES:,}; refused without reading it")
            arrays: dict[str, np.ndarray] = {"meta": _read_member(zf, m)}
            meta = _parse_meta(arrays, c)
            _check_layer_keys(infos, meta, c)
            ignored = _ignored_keys(infos, meta, c)
            members = {"meta": m}
            for key, info in infos.items():
                if key not in ignored and key != "meta":
                    members[key] = _npy_header(zf, info, c, key)
            _check_declared(members, meta, c, str(path))
            for key, m in members.items():
                if key != "meta":
                    arrays[key] = _read_member(zf, m)
    except InputError:
        raise
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise InputError(f"{path}: {key}: holds a Python object array; refused (traces must not "
                             f"need unpickling; store numeric arrays and a JSON string)") from None
        raise InputError(f"{path}: {key}: not a valid .npz trace ({_first_line(e)})") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, zipfile.LargeZipFile) as e:
        raise InputError(f"{path}: {key}: truncated or corrupt .npz ({_first_line(e)})") from None
    except Exception as e:  # zlib.error and friends from a damaged member
        raise InputError(f"{path}: {key}: truncated or corrupt .npz ({type(e).__name__}: {_first_line(e)})") from None
    trace = trace_from_arrays(arrays, str(path))
    return replace(trace, path=str(path), sha256=digest)


def validate_trace(trace: Trace, source: str = "<trace>") -> None:
    """Check an in-memory Trace exactly as a file would be checked."""
    trace_from_arrays(trace.to_arrays(), source)
