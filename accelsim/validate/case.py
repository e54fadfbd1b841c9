"""A validation case: cycles measured on an accelerator's RTL, step by step, with the columns it read.

A case is a folder of three files: ``case.json`` (name, layer sizes, steps, weight-stream model,
RTL total and start-up cycles), ``steps.csv`` (``t, layer, n_x, n_h, bias, cycles``, one row per
layer-step) and ``events.npz`` (per layer, the fired input and recurrent columns of every step as
CSR arrays, and where the bias column fired). :func:`load_case` reads and
checks all of it (every problem is one :class:`InputError` line naming the file and the key or
line); :func:`case_trace` turns it into a v2 :class:`Trace` that replays exactly the fired columns
the hardware read; :func:`case_config` applies the case's weight-stream model to a config.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accelsim.errors import InputError
from accelsim.io import read_input_bytes
from accelsim.trace.format import CSC, ArrayChecker, Events, LayerTrace, Trace, make_meta

CASE_FILES = ("case.json", "steps.csv", "events.npz")
STEP_COLUMNS = ("t", "layer", "n_x", "n_h", "bias", "cycles")
TRACE_SEED = 20240501  # weights and biases of a case trace: timing does not depend on their values


@dataclass(frozen=True, eq=False)
class LayerEvents:
    """The columns one layer read at each step (CSR over steps) and where its bias column fired."""

    x_indptr: np.ndarray   # int64, T + 1
    x_indices: np.ndarray  # int64, input columns in [0, input_size)
    h_indptr: np.ndarray   # int64, T + 1
    h_indices: np.ndarray  # int64, recurrent columns in [0, hidden_size)
    bias: np.ndarray       # uint8, T


@dataclass(frozen=True, eq=False)
class Case:
    path: Path
    name: str
    source: str
    layers: tuple[tuple[int, int], ...]  # (input_size, hidden_size) per layer
    steps: int
    stream: str | float                  # "every_cycle" or the probability of a beat per cycle
    rtl_cycles_total: int
    startup_cycles: int
    meta: dict                           # case.json as read
    table: dict[str, np.ndarray]         # steps.csv columns, int64, shape (T, L), indexed [t, layer]
    events: tuple[LayerEvents, ...]
    sha256: str                          # of the three files' bytes, in CASE_FILES order

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def rtl_step_cycles(self) -> np.ndarray:
        """(T, L) RTL cycles of each layer-step (start-up cycles excluded)."""
        return self.table["cycles"]

    def head(self, steps: int) -> "Case":
        """The first ``steps`` steps; the RTL total becomes start-up + those steps' cycles."""
        if not 0 < steps <= self.steps:
            raise InputError(f"{self.path}: asked for the first {steps} steps, the case has {self.steps}")
        if steps == self.steps:
            return self
        table = {k: v[:steps] for k, v in self.table.items()}
        events = []
        for e in self.events:
            nx, nh = int(e.x_indptr[steps]), int(e.h_indptr[steps])
            events.append(LayerEvents(e.x_indptr[: steps + 1], e.x_indices[:nx],
                                      e.h_indptr[: steps + 1], e.h_indices[:nh], e.bias[:steps]))
        total = self.startup_cycles + int(table["cycles"].sum())
        return Case(self.path, self.name, self.source, self.layers, steps, self.stream, total,
                    self.startup_cycles, self.meta, table, tuple(events), self.sha256)


# ----------------------------------------------------------------------------------------------
# loading and checking


def _read(path: Path) -> bytes:
    return read_input_bytes(path, "a file",
                            missing=f"no such file (a validation case needs {', '.join(CASE_FILES)})")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _parse_case_json(path: Path, data: bytes) -> dict:
    try:
        meta = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    if not isinstance(meta, dict):
        raise InputError(f"{path}: must hold a JSON object")

    def fail(key: str, what: str):
        raise InputError(f"{path}: {key}: {what}")

    for key in ("name", "layers", "steps", "stream", "rtl_cycles_total"):
        if key not in meta:
            fail(key, "missing key")
    if not isinstance(meta["name"], str) or not meta["name"]:
        fail("name", f"must be a non-empty string (got {meta['name']!r})")
    if "source" in meta and not isinstance(meta["source"], str):
        fail("source", f"must be a string (got {meta['source']!r})")
    layers = meta["layers"]
    if not isinstance(layers, list) or not layers:
        fail("layers", "must be a non-empty list of {input_size, hidden_size}")
    for i, l in enumerate(layers):
        if not isinstance(l, dict):
            fail(f"layers[{i}]", "must be an object {input_size, hidden_size}")
        for k in ("input_size", "hidden_size"):
            if k not in l:
                fail(f"layers[{i}].{k}", "missing key")
            if not _is_int(l[k]) or l[k] <= 0:
                fail(f"layers[{i}].{k}", f"must be a positive integer (got {l[k]!r})")
        if i and l["input_size"] != layers[i - 1]["hidden_size"]:
            fail(f"layers[{i}].input_size", f"must equal layer {i - 1}'s hidden_size "
                                            f"{layers[i - 1]['hidden_size']} (got {l['input_size']})")
    for key, low in (("steps", 1), ("rtl_cycles_total", 1), ("startup_cycles", 0)):
        if key not in meta:      # startup_cycles is optional: then the total minus the rows
            continue
        v = meta[key]
        if not _is_int(v) or v < low:
            what = "a positive" if low else "a non-negative"
            fail(key, f"must be {what} integer (got {v!r})")
    s = meta["stream"]
    if isinstance(s, str):
        if s != "every_cycle":
            fail("stream", f"must be \"every_cycle\" or a probability in (0, 1] (got {s!r})")
    elif isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s) or not 0 < s <= 1:
        fail("stream", f"must be \"every_cycle\" or a probability in (0, 1] (got {s!r})")
    return meta


def _parse_steps_csv(path: Path, data: bytes, T: int, L: int) -> dict[str, np.ndarray]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path}: empty file; expected a header {','.join(STEP_COLUMNS)}") from None
    except csv.Error as e:
        raise InputError(f"{path}: line 1: not valid CSV ({e})") from None
    header = [h.strip() for h in header]
    missing = [c for c in STEP_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)} (header must name "
                         f"{', '.join(STEP_COLUMNS)})")
    pos = {c: header.index(c) for c in STEP_COLUMNS}
    raw: list[list[int]] = []
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not v.strip() for v in row):
                continue
            if len(row) != len(header):
                raise InputError(f"{path}: line {line}: {len(row)} fields, the header has {len(header)}")
            vals = []
            for c in STEP_COLUMNS:
                v = row[pos[c]].strip()
                try:
                    n = int(v)
                except ValueError:
                    raise InputError(f"{path}: line {line}: column {c}: must be an integer (got {v!r})") from None
                vals.append(n)
            raw.append(vals + [line])
    except csv.Error as e:
        raise InputError(f"{path}: line {reader.line_num}: not valid CSV ({e})") from None
    if len(raw) != T * L:
        raise InputError(f"{path}: {len(raw)} rows, expected steps x layers = {T} x {L} = {T * L} "
                         f"(one per layer-step)")
    a = np.array(raw, dtype=np.int64).reshape(-1, len(STEP_COLUMNS) + 1)
    t, layer, lines = a[:, 0], a[:, 1], a[:, -1]

    def bad(mask, what: str):
        i = int(np.argmax(mask))
        raise InputError(f"{path}: line {int(lines[i])}: {what}")

    if ((t < 0) | (t >= T)).any():
        m = (t < 0) | (t >= T)
        bad(m, f"column t: must be a step in [0, {T}) (got {int(t[np.argmax(m)])})")
    if ((layer < 0) | (layer >= L)).any():
        m = (layer < 0) | (layer >= L)
        bad(m, f"column layer: must be a layer in [0, {L}) (got {int(layer[np.argmax(m)])})")
    for j, c in enumerate(STEP_COLUMNS[2:], start=2):
        if (a[:, j] < 0).any():
            bad(a[:, j] < 0, f"column {c}: must not be negative (got {int(a[np.argmax(a[:, j] < 0), j])})")
    cyc = a[:, STEP_COLUMNS.index("cycles")]
    if (cyc == 0).any():
        bad(cyc == 0, "column cycles: must be positive (a layer-step takes at least one cycle)")
    bias = a[:, STEP_COLUMNS.index("bias")]
    if (bias > 1).any():
        bad(bias > 1, f"column bias: must be 0 or 1 (got {int(bias[np.argmax(bias > 1)])})")
    key = t * L + layer
    seen = np.zeros(T * L, dtype=np.int64)
    np.add.at(seen, key, 1)
    if (seen != 1).any():
        k = int(np.argmax(seen != 1))
        dup = np.nonzero(key == k)[0]
        if dup.size > 1:
            raise InputError(f"{path}: line {int(lines[dup[1]])}: (t={k // L}, layer={k % L}) appears "
                             f"{dup.size} times; each layer-step must have exactly one row")
        raise InputError(f"{path}: no row for (t={k // L}, layer={k % L}); each layer-step must have "
                         f"exactly one row")
    out = {}
    order = np.argsort(key, kind="stable")
    for j, c in enumerate(STEP_COLUMNS):
        out[c] = a[order, j].reshape(T, L)
    return out


def _load_npz(path: Path, data: bytes) -> dict[str, np.ndarray]:
    if not data.startswith(b"PK"):
        raise InputError(f"{path}: not a .npz archive (a zip of .npy arrays)")
    arrays: dict[str, np.ndarray] = {}
    key = "(archive)"
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            for key in z.files:
                arrays[key] = z[key]
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise InputError(f"{path}: {key}: holds a Python object array; refused (store numeric "
                             f"arrays only)") from None
        raise InputError(f"{path}: {key}: not a valid .npz member ({str(e).splitlines()[0]})") from None
    except Exception as e:  # BadZipFile, zlib.error, EOFError, ... from a damaged archive
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"{path}: {key}: truncated or corrupt .npz ({msg})") from None
    return arrays


def _parse_events(path: Path, arrays: dict, layers, T: int) -> tuple[LayerEvents, ...]:
    check = ArrayChecker(str(path))
    out = []
    for l, (n_in, H) in enumerate(layers):
        xp, xi, _ = check.compressed(arrays, f"l{l}.x", T, n_in, "step", "input column",
                                     index_kinds=(np.int64,), values_required=False)
        hp, hi, _ = check.compressed(arrays, f"l{l}.h", T, H, "step", "recurrent column",
                                     index_kinds=(np.int64,), values_required=False)
        bias = check.array(arrays, f"l{l}.bias", (np.uint8,), 1, T)
        if (bias > 1).any():
            raise InputError(f"{path}: l{l}.bias: must be 0 or 1 (step {int(np.argmax(bias > 1))} "
                             f"holds {int(bias[np.argmax(bias > 1)])})")
        out.append(LayerEvents(xp, xi, hp, hi, bias))
    return tuple(out)


def _cross_check(steps_path: Path, npz_path: Path, table: dict, events, L: int) -> None:
    for l, e in enumerate(events):
        for col, key, have in (("n_x", f"l{l}.x.indptr", np.diff(e.x_indptr)),
                               ("n_h", f"l{l}.h.indptr", np.diff(e.h_indptr)),
                               ("bias", f"l{l}.bias", e.bias.astype(np.int64))):
            want = table[col][:, l]
            if (want != have).any():
                t = int(np.argmax(want != have))
                raise InputError(f"{steps_path}: t={t} layer={l}: {col} = {int(want[t])} disagrees with "
                                 f"{npz_path.name} {key} ({int(have[t])})")


def load_case(folder: str | Path) -> Case:
    """Read and check a validation case folder; one :class:`InputError` line on any problem."""
    folder = Path(folder)
    if not folder.exists():
        raise InputError(f"{folder}: no such folder (a validation case is a folder holding "
                         f"{', '.join(CASE_FILES)})")
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder (a validation case is a folder holding "
                         f"{', '.join(CASE_FILES)})")
    raw = {name: _read(folder / name) for name in CASE_FILES}
    jpath, spath, npath = (folder / n for n in CASE_FILES)
    meta = _parse_case_json(jpath, raw["case.json"])
    layers = tuple((int(l["input_size"]), int(l["hidden_size"])) for l in meta["layers"])
    T, L = int(meta["steps"]), len(layers)
    table = _parse_steps_csv(spath, raw["steps.csv"], T, L)
    events = _parse_events(npath, _load_npz(npath, raw["events.npz"]), layers, T)
    _cross_check(spath, npath, table, events, L)
    if "startup_cycles" not in meta:
        meta = dict(meta, startup_cycles=int(meta["rtl_cycles_total"]) - int(table["cycles"].sum()))
        if meta["startup_cycles"] < 0:
            raise InputError(f"{jpath}: rtl_cycles_total: {meta['rtl_cycles_total']} is less than "
                             f"the sum of the cycles of {spath.name} ({int(table['cycles'].sum())})")
    total = int(meta["startup_cycles"]) + int(table["cycles"].sum())
    if total != meta["rtl_cycles_total"]:
        raise InputError(f"{jpath}: rtl_cycles_total: {meta['rtl_cycles_total']} disagrees with "
                         f"startup_cycles + the cycles of {spath.name} ({total})")
    h = hashlib.sha256()
    for name in CASE_FILES:
        h.update(raw[name])
    stream = meta["stream"] if isinstance(meta["stream"], str) else float(meta["stream"])
    return Case(folder, meta["name"], meta.get("source", ""), layers, T, stream,
                int(meta["rtl_cycles_total"]), int(meta["startup_cycles"]), meta, table, events,
                h.hexdigest())


# ----------------------------------------------------------------------------------------------
# the trace and the config of a case


def case_trace(case: Case, seed: int = TRACE_SEED):
    """A v2 trace that makes every layer read exactly the case's fired columns at every step.

    Weights are dense (every column holds 3H nonzero values, as in the hardware) with random
    nonzero values; timing does not depend on them. ``events`` (the v1 field every layer needs)
    carries the recurrent columns of the next step: ``events[t] = h_events[t + 1]``.
    """

    rng = np.random.default_rng(seed)
    T = case.steps

    def nonzero(shape):
        return (rng.uniform(0.05, 1.0, shape) * rng.choice((-1.0, 1.0), shape)).astype(np.float32)

    layers = []
    for (n_in, H), e in zip(case.layers, case.events):
        weight = CSC.from_dense(nonzero((3 * H, n_in + H)), np.float32)
        x_ev = Events(e.x_indptr.astype(np.int64), e.x_indices.astype(np.int64), None)
        h_ev = Events(e.h_indptr.astype(np.int64), e.h_indices.astype(np.int64), None)
        # events[t] = h_events[t + 1]; the last step emits nothing
        start = int(e.h_indptr[1]) if T else 0
        ev_ptr = np.concatenate((e.h_indptr[1:] - start, [int(e.h_indptr[-1]) - start])).astype(np.int64)
        ev_idx = e.h_indices[start:].astype(np.int32)
        events = Events(ev_ptr, ev_idx, np.ones(ev_idx.size, dtype=np.float32))
        layers.append(LayerTrace(n_in, H, weight, nonzero(3 * H), nonzero(3 * H),
                                 np.zeros(H, dtype=np.float32), events,
                                 x_events=x_ev, h_events=h_ev, bias_fires=e.bias.astype(np.uint8)))
    source = {"validation_case": case.name, "case_source": case.source,
              "stream": case.stream, "case_sha256": case.sha256, "weights_seed": seed}
    meta = make_meta(list(case.layers), vocab_size=1, tokens=T, source=source)
    return Trace(meta, tuple(layers), path=str(case.path), sha256=case.sha256)


def case_config(config, case: Case):
    """``config`` with the case's weight-stream model: unchanged for a beat every cycle, else
    ``dram.stream_efficiency`` = the probability of a beat per cycle."""
    if case.stream == "every_cycle":
        return config
    return config.model_copy(update={"dram": config.dram.model_copy(
        update={"stream_efficiency": float(case.stream)})})
