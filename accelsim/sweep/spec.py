"""Sweep spec (YAML) -> an ordered list of design points, deterministically.

A spec names a base architecture config, one or more workloads (trace files, or parameters of
synthetic traces made on demand) and axes over any config field by dotted path, combined as
``grid`` (product), ``zip`` (lock-step) or seeded ``random`` samples. Several ``parts`` may share
one spec and one results store. ``docs/sweeps.md`` documents every key.

Every point is validated here, before anything runs: a bad axis is an :class:`InputError` naming
the spec file, the axis and the fix (with the nearest valid name for a typo).
"""

from __future__ import annotations

import copy
import difflib
import glob
import hashlib
import inspect
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.config.load import config_from_dict, read_yaml, resolved_dict
from accelsim.errors import InputError

WORKLOAD_PREFIX = "workload."
TOP_KEYS = ("name", "base", "tokens", "baseline", "workloads", "axes", "parts")
PART_KEYS = ("name", "base", "tokens", "baseline", "workloads", "axes")
BLOCK_KINDS = ("grid", "zip", "random")
RANDOM_KEYS = ("samples", "seed", "fields")
DISTRIBUTIONS = ("choice", "uniform", "loguniform", "randint")

# Parameters of accelsim.trace.synth.synthesize a spec may set, used when that module cannot be
# inspected; the real signature wins when it imports.
_SYNTH_FALLBACK = ("layers", "tokens", "weight_sparsity", "activity_sparsity", "pruning", "seed")
_SYNTH_EXCLUDED = ("calibrate_from", "value_dtype")  # objects, not YAML values


def synth_parameters() -> tuple[str, ...]:
    """Names a ``synth:`` workload / ``workload.*`` axis may set: synthesize()'s keyword arguments."""
    try:
        from accelsim.trace.synth import synthesize
    except ImportError:
        return _SYNTH_FALLBACK
    params = inspect.signature(synthesize).parameters.values()
    return tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                 and p.name not in _SYNTH_EXCLUDED)


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, eq=False)
class Workload:
    """One trace source: a trace file (``path``), synthetic-trace parameters (``synth``), or a
    trained EGRU model run over PTB (``egru``); the last two are generated on demand."""

    name: str
    path: str | None = None              # absolute path of a trace file
    synth: dict | None = None            # synthesize() keyword arguments
    egru: dict | None = None             # {model (absolute), model_sha256, split, start, tokens, ptb}

    @property
    def is_synthetic(self) -> bool:
        return self.synth is not None

    @property
    def is_generated(self) -> bool:
        """Made by this sweep and cached in the results folder (synthetic or EGRU-on-PTB)."""
        return self.synth is not None or self.egru is not None

    @property
    def ident(self) -> str:
        """Hashable identity: the file path, or the content address of the generating parameters."""
        if self.synth is not None:
            return "synth:" + self.synth_key()
        if self.egru is not None:
            return "egru:" + self.egru_key()
        return self.path

    def synth_key(self) -> str:
        """Content address of a synthetic trace: the hash of its parameters."""
        return sha256_text(canonical_json({"synthesize": self.synth}))[:20]

    def egru_key(self) -> str:
        """Content address of a model's PTB trace: model bytes, split, range (not the PTB folder)."""
        e = {k: v for k, v in self.egru.items() if k not in ("model", "ptb")}
        return sha256_text(canonical_json({"egru": e}))[:20]


@dataclass(frozen=True)
class DesignPoint:
    """One simulation: a fully resolved config, a workload and the run options."""

    index: int                           # position in the expansion (stable for a given spec)
    part: str
    workload: Workload
    config: dict                         # fully resolved ArchConfig, JSON-ready
    config_source: str                   # the base config file (energy_table is relative to it)
    params: dict = field(default_factory=dict)   # the axis values that made this point
    tokens: int | None = None
    baseline: bool = False

    def label(self) -> str:
        shown = {k: v for k, v in self.params.items() if k != "base"}
        parts = [self.workload.name] + [f"{k}={_fmt(v)}" for k, v in shown.items()]
        if "base" in self.params:
            parts.insert(0, Path(self.params["base"]).stem)
        return " ".join(parts)


@dataclass(frozen=True)
class SweepSpec:
    name: str
    path: str
    text_sha256: str
    points: tuple[DesignPoint, ...]

    @property
    def parts(self) -> list[str]:
        return list(dict.fromkeys(p.part for p in self.points))


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return ",".join(_fmt(x) for x in v)
    return str(v)


# ----------------------------------------------------------------------------------------------
# parsing helpers


class _Ctx:
    """Where we are in the spec, for one-line errors: ``spec.yaml: parts[1].axes[0].grid: ...``."""

    def __init__(self, spec_path: Path):
        self.spec_path = spec_path
        self.base_dir = spec_path.parent

    def fail(self, where: str, what: str):
        raise InputError(f"{self.spec_path}: {where}: {what}" if where else f"{self.spec_path}: {what}")

    def unknown_key(self, where: str, key: Any, valid: tuple[str, ...]):
        near = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.5)
        hint = f"; did you mean '{near[0]}'?" if near else f"; valid keys: {', '.join(valid)}"
        self.fail(f"{where}.{key}" if where else str(key), f"unknown key{hint}")

    def mapping(self, where: str, value: Any, valid: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping (got {type(value).__name__})")
        for k in value:
            if k not in valid:
                self.unknown_key(where, k, valid)
        return value

    def resolve(self, p: Any, where: str) -> Path:
        if not isinstance(p, str) or not p:
            self.fail(where, f"expected a file path (got {p!r})")
        q = Path(p)
        return q if q.is_absolute() else (self.base_dir / q)


def _positive_int(ctx: _Ctx, where: str, v: Any, allow_none: bool = True) -> int | None:
    if v is None and allow_none:
        return None
    if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
        ctx.fail(where, f"must be a positive integer (got {v!r})")
    return v


def _bool(ctx: _Ctx, where: str, v: Any) -> bool:
    if not isinstance(v, bool):
        ctx.fail(where, f"must be true or false (got {v!r})")
    return v


# ----------------------------------------------------------------------------------------------
# workloads


def _parse_workloads(ctx: _Ctx, where: str, raw: Any) -> list[Workload]:
    if raw is None:
        ctx.fail(where, "missing: list at least one workload ({name, trace: FILE} or {name, synth: {...}})")
    if not isinstance(raw, list):
        ctx.fail(where, f"expected a list of workloads (got {type(raw).__name__})")
    out: list[Workload] = []
    for i, w in enumerate(raw):
        wh = f"{where}[{i}]"
        ctx.mapping(wh, w, ("name", "trace", "synth", "egru"))
        if sum(k in w for k in ("trace", "synth", "egru")) != 1:
            ctx.fail(wh, "give exactly one of 'trace' (a file, glob allowed), 'synth' (parameters) or "
                         "'egru' (a trained model run over PTB)")
        name = w.get("name")
        if name is not None and (not isinstance(name, str) or not name):
            ctx.fail(f"{wh}.name", f"must be a non-empty string (got {name!r})")
        if "trace" in w:
            pattern = ctx.resolve(w["trace"], f"{wh}.trace")
            if glob.has_magic(str(pattern)):
                files = sorted(glob.glob(str(pattern)))
                if not files:
                    ctx.fail(f"{wh}.trace", f"no file matches {pattern}")
            else:
                if not pattern.is_file():
                    ctx.fail(f"{wh}.trace", f"no such file: {pattern}")
                files = [str(pattern)]
            for f in files:
                label = name if (name and len(files) == 1) else (f"{name}:{Path(f).stem}" if name else Path(f).stem)
                out.append(Workload(label, path=str(Path(f).resolve())))
        elif "egru" in w:
            out += _egru_workloads(ctx, f"{wh}.egru", w["egru"], name)
        else:
            synth = w["synth"]
            if not isinstance(synth, dict):
                ctx.fail(f"{wh}.synth", f"expected a mapping of synthesize() parameters (got {type(synth).__name__})")
            valid = synth_parameters()
            for k in synth:
                if k not in valid:
                    ctx.unknown_key(f"{wh}.synth", k, valid)
            out.append(Workload(name or f"synth{i}", synth=dict(synth)))
    names = [w.name for w in out]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        ctx.fail(where, f"two workloads are named '{dup}'; give each a distinct 'name'")
    return out


EGRU_KEYS = ("model", "split", "start", "tokens", "ptb")


def _egru_workloads(ctx: _Ctx, where: str, e: Any, name: str | None) -> list[Workload]:
    """``egru: {model: FILE or glob, split: test, start: 0, tokens: 2000, ptb: FOLDER}``: the model's
    events on PTB, traced on demand (PTB from ``ptb`` or $ACCELSIM_PTB; never stored in a trace)."""
    from accelsim.io import file_sha256

    ctx.mapping(where, e, EGRU_KEYS)
    if "model" not in e:
        ctx.fail(f"{where}.model", "missing: the exported EGRU model (.npz, e.g. workloads/models/egru-ptb-w80.npz)")
    split = e.get("split", "test")
    if split not in ("train", "valid", "test"):
        ctx.fail(f"{where}.split", f"must be train, valid or test (got {split!r})")
    start = e.get("start", 0)
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        ctx.fail(f"{where}.start", f"must be a non-negative integer (got {start!r})")
    tokens = _positive_int(ctx, f"{where}.tokens", e.get("tokens"))
    ptb = str(ctx.resolve(e["ptb"], f"{where}.ptb")) if e.get("ptb") else None
    pattern = ctx.resolve(e["model"], f"{where}.model")
    files = sorted(glob.glob(str(pattern))) if glob.has_magic(str(pattern)) else (
        [str(pattern)] if pattern.is_file() else [])
    if not files:
        ctx.fail(f"{where}.model", f"no model file matches {pattern}")
    out = []
    for f in files:
        label = name if (name and len(files) == 1) else (f"{name}:{Path(f).stem}" if name else Path(f).stem)
        params = {"model": str(Path(f).resolve()), "model_sha256": file_sha256(f), "split": split,
                  "start": start, "tokens": tokens, "ptb": ptb}
        out.append(Workload(label, egru=params))
    return out


# ----------------------------------------------------------------------------------------------
# axes


def _axis_values(ctx: _Ctx, where: str, values: Any) -> list:
    if not isinstance(values, list):
        ctx.fail(where, f"expected a list of values (got {type(values).__name__} {values!r})")
    return values


def _block_points(ctx: _Ctx, where: str, block: Any) -> list[dict]:
    """One axis block -> its list of {axis: value} assignments, in a fixed order."""
    if not isinstance(block, dict) or len(block) != 1:
        ctx.fail(where, f"each axis block is one of {', '.join(BLOCK_KINDS)}: a mapping with exactly one of those keys")
    kind, body = next(iter(block.items()))
    if kind not in BLOCK_KINDS:
        ctx.unknown_key(where, kind, BLOCK_KINDS)
    wh = f"{where}.{kind}"
    if kind in ("grid", "zip"):
        if not isinstance(body, dict) or not body:
            ctx.fail(wh, "expected a non-empty mapping of axis -> list of values")
        names = list(body)
        lists = [_axis_values(ctx, f"{wh}.{n}", body[n]) for n in names]
        if kind == "grid":
            return [dict(zip(names, combo)) for combo in itertools.product(*lists)]
        lengths = {len(v) for v in lists}
        if len(lengths) > 1:
            desc = ", ".join(f"{n}: {len(v)}" for n, v in zip(names, lists))
            ctx.fail(wh, f"zip axes must have the same number of values ({desc})")
        return [dict(zip(names, combo)) for combo in zip(*lists)]
    ctx.mapping(wh, body, RANDOM_KEYS)
    samples = body.get("samples")
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 0:
        ctx.fail(f"{wh}.samples", f"must be a non-negative integer (got {samples!r})")
    seed = body.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        ctx.fail(f"{wh}.seed", f"must be a non-negative integer (got {seed!r})")
    fields = body.get("fields")
    if not isinstance(fields, dict) or not fields:
        ctx.fail(f"{wh}.fields", "expected a non-empty mapping of axis -> list of choices or {uniform|loguniform|randint: [lo, hi]}")
    rng = np.random.default_rng(seed)
    draws: dict[str, list] = {}
    for name, dist in fields.items():  # one stream, fields in spec order: deterministic per seed
        fh = f"{wh}.fields.{name}"
        if isinstance(dist, list):
            dist = {"choice": dist}
        if not isinstance(dist, dict) or len(dist) != 1:
            ctx.fail(fh, "expected a list of choices or one of {choice|uniform|loguniform|randint: ...}")
        how, arg = next(iter(dist.items()))
        if how not in DISTRIBUTIONS:
            ctx.unknown_key(fh, how, DISTRIBUTIONS)
        if how == "choice":
            arg = _axis_values(ctx, f"{fh}.choice", arg)
            if not arg:
                ctx.fail(f"{fh}.choice", "needs at least one value")
            draws[name] = [arg[int(i)] for i in rng.integers(0, len(arg), size=samples)]
            continue
        if (not isinstance(arg, list) or len(arg) != 2
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in arg) or arg[0] > arg[1]):
            ctx.fail(f"{fh}.{how}", f"expected [low, high] numbers with low <= high (got {arg!r})")
        lo, hi = arg
        if how == "randint":
            if not all(isinstance(x, int) for x in arg):
                ctx.fail(f"{fh}.randint", f"bounds must be integers (got {arg!r})")
            draws[name] = [int(x) for x in rng.integers(lo, hi + 1, size=samples)]
        elif how == "uniform":
            draws[name] = [float(x) for x in rng.uniform(lo, hi, size=samples)]
        else:
            if lo <= 0:
                ctx.fail(f"{fh}.loguniform", f"bounds must be > 0 (got {arg!r})")
            draws[name] = [float(math.exp(x)) for x in rng.uniform(math.log(lo), math.log(hi), size=samples)]
    return [{n: draws[n][i] for n in fields} for i in range(samples)]


def _set_dotted(ctx: _Ctx, data: dict, path: str, value: Any, where: str) -> None:
    parts = path.split(".")
    if not all(parts):
        ctx.fail(where, f"'{path}' is not a dotted field path like pe.count")
    node = data
    for i, p in enumerate(parts[:-1]):
        nxt = node.get(p)
        if nxt is None:
            nxt = node[p] = {}
        elif not isinstance(nxt, dict):
            ctx.fail(where, f"'{'.'.join(parts[:i + 1])}' is a value, not a group of fields, so '{path}' does not exist")
        node = nxt
    node[parts[-1]] = copy.deepcopy(value)


# ----------------------------------------------------------------------------------------------
# expansion


def _expand_part(ctx: _Ctx, where: str, part: dict, defaults: dict, part_name: str, start: int) -> list[DesignPoint]:
    base = part.get("base", defaults.get("base"))
    if base is None:
        ctx.fail(f"{where}base" if where else "base", "missing: name the base architecture config (e.g. ../arch_a.yaml)")
    tokens = _positive_int(ctx, f"{where}tokens", part.get("tokens", defaults.get("tokens")))
    baseline = _bool(ctx, f"{where}baseline", part.get("baseline", defaults.get("baseline", False)))
    workloads = _parse_workloads(ctx, f"{where}workloads", part.get("workloads", defaults.get("workloads")))
    axes = part.get("axes", defaults.get("axes")) or []
    if not isinstance(axes, list):
        ctx.fail(f"{where}axes", f"expected a list of axis blocks (got {type(axes).__name__})")
    blocks = [_block_points(ctx, f"{where}axes[{i}]", b) for i, b in enumerate(axes)]
    seen: dict[str, int] = {}
    for i, b in enumerate(axes):
        for name in next(iter(b.values())) if next(iter(b)) != "random" else b["random"]["fields"]:
            if name in seen:
                ctx.fail(f"{where}axes[{i}]", f"axis '{name}' is already set by axes[{seen[name]}]")
            seen[name] = i
    synth_names = synth_parameters()
    base_cache: dict[str, tuple[dict, str]] = {}

    def base_dict(p: Any, wh: str) -> tuple[dict, str]:
        path = ctx.resolve(p, wh)
        key = str(path)
        if key not in base_cache:
            data = read_yaml(path)
            if not isinstance(data, dict):
                raise InputError(f"{path}: expected a mapping of fields at the top level")
            config_from_dict(data, str(path))  # the base itself must be valid
            base_cache[key] = (data, str(path.resolve()))
        return base_cache[key]

    base_dict(base, f"{where}base")
    points: list[DesignPoint] = []
    validated: dict[str, dict] = {}
    for wl in workloads:
        for combo in itertools.product(*blocks) if blocks else [()]:
            params: dict = {}
            for assignment in combo:
                params.update(assignment)
            data, source = base_dict(params.get("base", base), f"{where}axes: base")
            data = copy.deepcopy(data)
            synth = dict(wl.synth) if wl.synth is not None else None
            for name, value in params.items():
                if name == "base":
                    continue
                if name.startswith(WORKLOAD_PREFIX):
                    key = name[len(WORKLOAD_PREFIX):]
                    if key not in synth_names:
                        ctx.unknown_key(f"{where}axes: workload", key, synth_names)
                    if synth is None:
                        ctx.fail(f"{where}axes: {name}", f"workload '{wl.name}' is a trace file; workload.* axes "
                                                         f"set synthetic-trace parameters (list the pruned models' "
                                                         f"traces under workloads instead)")
                    synth[key] = value
                else:
                    _set_dotted(ctx, data, name, value, f"{where}axes: {name}")
            ck = canonical_json(data)
            if ck not in validated:
                validated[ck] = resolved_dict(config_from_dict(data, f"{ctx.spec_path}: {where}axes"))
            w = wl if synth is None else Workload(wl.name, synth=synth)
            points.append(DesignPoint(start + len(points), part_name, w, validated[ck], source, params, tokens, baseline))
    return points


def load_spec(path: str | Path) -> SweepSpec:
    """Parse and expand a sweep spec; every point is validated. Raises InputError on bad input."""
    spec_path = Path(path)
    raw = read_yaml(spec_path)
    ctx = _Ctx(spec_path)
    if not isinstance(raw, dict):
        ctx.fail("", f"expected a mapping with keys {', '.join(TOP_KEYS)} (got {type(raw).__name__})")
    ctx.mapping("", raw, TOP_KEYS)
    name = raw.get("name", spec_path.stem)
    if not isinstance(name, str) or not name:
        ctx.fail("name", f"must be a non-empty string (got {name!r})")
    points: list[DesignPoint] = []
    if "parts" in raw:
        parts = raw["parts"]
        if not isinstance(parts, list) or not parts:
            ctx.fail("parts", "expected a non-empty list of sub-sweeps")
        names = []
        for i, part in enumerate(parts):
            ctx.mapping(f"parts[{i}]", part, PART_KEYS)
            pname = part.get("name", f"part{i}")
            if not isinstance(pname, str) or not pname or pname in names:
                ctx.fail(f"parts[{i}].name", f"must be a distinct non-empty string (got {pname!r})")
            names.append(pname)
            points += _expand_part(ctx, f"parts[{i}].", part, raw, pname, len(points))
    else:
        points = _expand_part(ctx, "", raw, {}, name, 0)
    if not points:
        ctx.fail("", "the sweep expands to no design points (an axis with no values, or random samples: 0)")
    text = spec_path.read_bytes()
    return SweepSpec(name, str(spec_path), hashlib.sha256(text).hexdigest(), tuple(points))
