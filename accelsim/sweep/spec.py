"""Sweep spec (YAML) -> design points, made one at a time in a fixed order.

A spec names a base architecture config, one or more workloads (trace files, parameters of
synthetic traces made on demand, trained EGRU models run over PTB, or trained GRUs run over PTB as
delta networks) and axes over any config
field by dotted path, combined as ``grid`` (product), ``zip`` (lock-step) or seeded ``random``
samples. Several ``parts`` may share one spec and one results store. ``docs/sweeps.md`` documents
every key.

The spec's keys and types are a pydantic model (:class:`SpecModel`), validated like the configs:
a wrong key or type is one :class:`InputError` line naming the spec file, the key and the fix
(with the nearest valid name for a typo). The design points are never all held in memory:
:meth:`SweepSpec.iter_points` makes each one when asked, with its config resolved by the engine's
own dotted-override helper and validated by the config schema, so a spec of a million points is
listed in constant memory.
"""

from __future__ import annotations

import difflib
import functools
import glob
import hashlib
import inspect
import math
import os
import re
import types
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Iterator, Literal, Optional, Union, get_args, get_origin

import numpy as np
from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError,
                      field_validator, model_validator)
from pydantic_core import PydanticCustomError

from accelsim.config.load import config_from_dict, read_yaml, resolved_dict
from accelsim.config.schema import ArchConfig
from accelsim.errors import InputError
from accelsim.sweep.keys import canonical_json, sha256_text

__all__ = ["DesignPoint", "SpecModel", "SweepSpec", "Workload", "canonical_json", "load_spec", "sha256_text",
           "synth_parameters"]

WORKLOAD_PREFIX = "workload."
BLOCK_KINDS = ("grid", "zip", "random")
DISTRIBUTIONS = ("choice", "uniform", "loguniform", "randint")
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")
NAME_MAX = 100
MAX_RANDOM_SAMPLES = 10_000_000      # one random block's draws are held (8 bytes per value per field)
PROBE_POINTS = 10_000                # points a big spec is checked on before it is listed or run
PTB_FILES = ("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt")
PTB_ENV = "ACCELSIM_PTB"
# The fields of a ``delta`` workload a ``workload.*`` axis may set (its transmission thresholds).
DELTA_AXES = ("theta_x", "theta_h")

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


# ----------------------------------------------------------------------------------------------
# the spec's schema


def _error(kind: str, message: str, at: str | None = None, **ctx) -> PydanticCustomError:
    """A validation error with our own one-line message; ``at`` continues the location."""
    if at is not None:
        ctx["at"] = at
    return PydanticCustomError(kind, message, ctx or None)


def _plain_name(v: str) -> str:
    if len(v) > NAME_MAX:
        raise _error("plain_name", f"must be at most {NAME_MAX} characters (got {len(v)})")
    if not NAME_PATTERN.fullmatch(v) or ".." in v or v == ".":
        raise _error("plain_name", "must be a plain name: letters, digits, '-', '_' and '.', without "
                                   f"'..' or '/' (it names the results folder runs/<name>; got {v!r})")
    return v


def _theta(v: float) -> float:
    """A delta threshold: a finite number >= 0, as a float (-0.0 as 0.0: one value, one trace)."""
    if not math.isfinite(v) or v < 0:
        raise _error("theta", f"must be a finite number >= 0 (got {v!r})")
    return float(v) + 0.0


def _theta_value(v) -> float | None:
    """An axis value as a delta threshold, or None when it is not one."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        x = float(v)
    except OverflowError:
        return None
    return x + 0.0 if math.isfinite(x) and x >= 0 else None


def _axis_name(v: str) -> str:
    if not all(v.split(".")):
        raise _error("axis_name", f"'{v}' is not a dotted field path like pe.count")
    return v


NonEmptyStr = Annotated[str, Field(min_length=1)]
# the baseline a point with ``baseline: true`` is compared with (accelsim.engine.BASELINE_KINDS)
BaselineKind = Literal["dense", "no-skip"]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Theta = Annotated[float, AfterValidator(_theta)]
PlainName = Annotated[str, AfterValidator(_plain_name)]
AxisName = Annotated[str, AfterValidator(_axis_name)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class EgruSpec(_Model):
    """``egru:``: a trained EGRU model (or a glob of them) run over a PTB split, traced on demand."""

    model: NonEmptyStr = Field(description="the exported EGRU model (.npz, e.g. workloads/models/egru-ptb-w80.npz)")
    split: Literal["train", "valid", "test"] = "test"
    start: NonNegativeInt = 0
    tokens: Optional[PositiveInt] = None
    ptb: Optional[NonEmptyStr] = None


class DeltaSpec(_Model):
    """``delta:``: a trained GRU (or a glob of them) run over a PTB split as a delta network
    (an input or state value is sent when it moved by ``theta_x`` / ``theta_h`` since it was last
    sent), traced on demand."""

    model: NonEmptyStr = Field(description="the exported GRU model (.npz, e.g. workloads/models/deltagru-ptb-w80.npz)")
    split: Literal["train", "valid", "test"] = "test"
    start: NonNegativeInt = 0
    tokens: Optional[PositiveInt] = None
    ptb: Optional[NonEmptyStr] = None
    # both are needed; either may instead come from an axis workload.theta_x / workload.theta_h
    theta_x: Optional[Theta] = None
    theta_h: Optional[Theta] = None


class WorkloadSpec(_Model):
    """One entry of ``workloads:``: exactly one of ``trace``, ``synth``, ``egru``, ``delta``."""

    name: Optional[NonEmptyStr] = None
    trace: Optional[NonEmptyStr] = None
    synth: Optional[dict[str, Any]] = None
    egru: Optional[EgruSpec] = None
    delta: Optional[DeltaSpec] = None

    @field_validator("synth")
    @classmethod
    def _synth_keys(cls, v):
        if v is not None:
            valid = synth_parameters()
            for k in v:
                if k not in valid:
                    raise _error("unknown_key", "unknown key", key=str(k), valid=",".join(valid))
        return v

    @model_validator(mode="after")
    def _one_source(self):
        if sum(x is not None for x in (self.trace, self.synth, self.egru, self.delta)) != 1:
            raise _error("workload_source", "give exactly one of 'trace' (a file, glob allowed), 'synth' "
                                            "(parameters), 'egru' (a trained model run over PTB) or 'delta' "
                                            "(a trained GRU run over PTB as a delta network)")
        return self


def _list_is_choice(v):
    if isinstance(v, list):
        return {"choice": v}
    if not isinstance(v, dict):
        raise _error("distribution", "expected a list of choices or one of {choice|uniform|loguniform|randint: ...}")
    return v


class Distribution(_Model):
    """A ``random`` field: a list of choices, or one of ``{uniform|loguniform|randint: [lo, hi]}``."""

    choice: Optional[list[Any]] = None
    uniform: Optional[list[Any]] = None
    loguniform: Optional[list[Any]] = None
    randint: Optional[list[Any]] = None

    @model_validator(mode="before")
    @classmethod
    def _one(cls, v):
        if isinstance(v, dict) and len(v) != 1:
            raise _error("distribution", "expected a list of choices or one of {choice|uniform|loguniform|randint: ...}")
        return v

    @property
    def kind(self) -> str:
        return next(k for k in DISTRIBUTIONS if getattr(self, k) is not None)

    @model_validator(mode="after")
    def _arguments(self):
        if all(getattr(self, k) is None for k in DISTRIBUTIONS):
            raise _error("distribution", "expected a list of choices or one of {choice|uniform|loguniform|randint: ...}")
        how = self.kind
        arg = getattr(self, how)
        if how == "choice":
            if not arg:
                raise _error("distribution", "needs at least one value", at="choice")
            return self
        if (len(arg) != 2 or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                                     for x in arg) or arg[0] > arg[1]):
            raise _error("distribution", f"expected [low, high] numbers with low <= high (got {arg!r})", at=how)
        if how == "randint" and not all(isinstance(x, int) and -2**63 <= x < 2**63 for x in arg):
            raise _error("distribution", f"bounds must be 64-bit integers (got {arg!r})", at=how)
        if how == "uniform" and not math.isfinite(arg[1] - arg[0]):
            raise _error("distribution", f"the range high - low must be a finite number (got {arg!r})", at=how)
        if how == "loguniform" and arg[0] <= 0:
            raise _error("distribution", f"bounds must be > 0 (got {arg!r})", at=how)
        return self


class RandomBody(_Model):
    samples: Annotated[int, Field(ge=0, le=MAX_RANDOM_SAMPLES)]
    seed: NonNegativeInt = 0
    fields: dict[AxisName, Annotated[Distribution, BeforeValidator(_list_is_choice)]] = Field(min_length=1)


class AxisBlock(_Model):
    """One entry of ``axes:``: exactly one of ``grid``, ``zip``, ``random``."""

    grid: Optional[dict[AxisName, list[Any]]] = None
    zip: Optional[dict[AxisName, list[Any]]] = None
    random: Optional[RandomBody] = None

    @model_validator(mode="before")
    @classmethod
    def _one(cls, v):
        if isinstance(v, dict) and len(v) != 1:
            raise _error("axis_block", f"each axis block is one of {', '.join(BLOCK_KINDS)}: a mapping with "
                                       f"exactly one of those keys")
        return v

    @field_validator("zip")
    @classmethod
    def _lockstep(cls, v):
        if v and len({len(x) for x in v.values()}) > 1:
            desc = ", ".join(f"{n}: {len(x)}" for n, x in v.items())
            raise _error("zip_lengths", f"zip axes must have the same number of values ({desc})")
        return v

    @model_validator(mode="after")
    def _body(self):
        kind = self.kind
        if kind is None or (kind != "random" and not getattr(self, kind)):
            raise _error("axis_block", "expected a non-empty mapping of axis -> list of values",
                         at=kind or next(iter(self.model_fields_set), None))
        return self

    @property
    def kind(self) -> str | None:
        return next((k for k in BLOCK_KINDS if getattr(self, k) is not None), None)

    @property
    def names(self) -> list[str]:
        return list(self.random.fields) if self.kind == "random" else list(getattr(self, self.kind))


class PartSpec(_Model):
    """One entry of ``parts:``; what it leaves out comes from the top level."""

    name: Optional[NonEmptyStr] = None
    base: Optional[NonEmptyStr] = None
    tokens: Optional[PositiveInt] = None
    baseline: Optional[bool] = None
    baseline_kind: Optional[BaselineKind] = None
    workloads: Optional[list[WorkloadSpec]] = None
    axes: Optional[list[AxisBlock]] = None


class SpecModel(_Model):
    """The whole spec file."""

    name: Optional[PlainName] = None
    base: Optional[NonEmptyStr] = None
    tokens: Optional[PositiveInt] = None
    baseline: Optional[bool] = None
    baseline_kind: Optional[BaselineKind] = None
    workloads: Optional[list[WorkloadSpec]] = None
    axes: Optional[list[AxisBlock]] = None
    parts: Optional[list[PartSpec]] = Field(None, min_length=1)

    @model_validator(mode="after")
    def _distinct_parts(self):
        seen = set()
        for i, p in enumerate(self.parts or []):
            name = p.name or f"part{i}"
            if name in seen:
                raise _error("part_name", f"must be a distinct name (got {name!r} twice)", at=f"parts[{i}].name")
            seen.add(name)
        return self


# ----------------------------------------------------------------------------------------------
# validation errors -> one line


_LIST_OF = {"workloads": "a list of workloads", "axes": "a list of axis blocks",
            "parts": "a non-empty list of sub-sweeps"}
_NON_EMPTY = {"parts": "expected a non-empty list of sub-sweeps",
              "grid": "expected a non-empty mapping of axis -> list of values",
              "zip": "expected a non-empty mapping of axis -> list of values",
              "fields": "expected a non-empty mapping of axis -> list of choices or {uniform|loguniform|randint: [lo, hi]}"}


_OUR_KINDS = ("plain_name", "axis_name", "distribution", "axis_block", "zip_lengths", "part_name",
              "workload_source", "theta")


def _loc_text(loc) -> str:
    out = ""
    for p in loc:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def _strip(ann):
    while True:
        origin = get_origin(ann)
        if origin is Annotated:
            ann = get_args(ann)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(ann) if a is not type(None)]
            if len(args) != 1:
                return ann
            ann = args[0]
        else:
            return ann


def _model_at(loc) -> type[BaseModel] | None:
    """The model whose keys the last element of ``loc`` is one of (for "did you mean")."""
    ann: Any = SpecModel
    for p in loc[:-1]:
        ann = _strip(ann)
        origin = get_origin(ann)
        if origin is list:
            ann = get_args(ann)[0] if isinstance(p, int) else None
        elif origin is dict:
            ann = get_args(ann)[1]
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            f = ann.model_fields.get(p)
            ann = f.annotation if f is not None else None
        else:
            ann = None
        if ann is None:
            return None
    ann = _strip(ann)
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def _hint(key: str, valid) -> str:
    valid = list(valid)
    near = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.5)
    return f"; did you mean '{near[0]}'?" if near else (f"; valid keys: {', '.join(valid)}" if valid else "")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe(spec_path, err: ValidationError) -> str:
    """The first error of a spec's ValidationError as one line: ``spec.yaml: parts[1].tokens: ...``."""
    e = err.errors()[0]
    loc = [p for p in e["loc"] if p != "[key]"]
    kind, ctx, value = e["type"], e.get("ctx") or {}, e.get("input")
    last = next((p for p in reversed(loc) if isinstance(p, str)), "")
    got = f" (got {_short(value)})"
    if kind == "extra_forbidden":
        model = _model_at(loc)
        msg = "unknown key" + _hint(loc[-1], model.model_fields if model else ())
    elif kind == "unknown_key":
        loc.append(ctx["key"])
        msg = "unknown key" + _hint(ctx["key"], ctx["valid"].split(","))
    elif kind == "missing":
        model = _model_at(loc)
        field = model.model_fields.get(loc[-1]) if model else None
        msg = f"missing: {field.description}" if field is not None and field.description else "required key is missing"
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        msg = f"must be an integer{got}"
    elif kind == "greater_than" and ctx.get("gt") == 0:
        msg = f"must be a positive integer{got}"
    elif kind == "greater_than_equal" and ctx.get("ge") == 0:
        msg = f"must be a non-negative integer{got}"
    elif kind == "less_than_equal":
        msg = f"must be at most {ctx.get('le'):,}{got}"
    elif kind in ("float_type", "float_parsing"):
        msg = f"must be a number{got}"
    elif kind == "bool_type":
        msg = f"must be true or false{got}"
    elif kind == "string_type":
        msg = f"must be a string{got}"
    elif kind == "string_too_short":
        msg = "must be a non-empty string"
    elif kind == "list_type":
        msg = f"expected {_LIST_OF.get(last, 'a list of values')} (got {type(value).__name__} {_short(value)})"
    elif kind in ("dict_type", "model_type", "model_attributes_type"):
        msg = f"expected a mapping (got {type(value).__name__})"
    elif kind == "too_short":
        msg = _NON_EMPTY.get(last, "must not be empty")
    elif kind == "literal_error":
        msg = f"must be one of {ctx.get('expected', '')}{got}"
    elif kind in _OUR_KINDS:
        msg = e["msg"]
    else:
        msg = e["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        msg = (msg[:1].lower() + msg[1:]) or "invalid"
        if "(got" not in msg:
            msg += got
    where = _loc_text(loc)
    if ctx.get("at"):
        where = f"{where}.{ctx['at']}" if where else str(ctx["at"])
    return f"{spec_path}: {where}: {msg}" if where else f"{spec_path}: {msg}"


# ----------------------------------------------------------------------------------------------
# workloads


@dataclass(frozen=True, eq=False)
class Workload:
    """One trace source: a trace file (``path``), synthetic-trace parameters (``synth``), a
    trained EGRU model run over PTB (``egru``), or a trained GRU run over PTB as a delta network
    (``delta``); all but the first are generated on demand."""

    name: str
    path: str | None = None              # absolute path of a trace file
    synth: dict | None = None            # synthesize() keyword arguments
    egru: dict | None = None             # {model (absolute), model_sha256, split, start, tokens, ptb}
    delta: dict | None = None            # egru's keys + theta_x, theta_h (floats)

    @property
    def is_synthetic(self) -> bool:
        return self.synth is not None

    @property
    def is_generated(self) -> bool:
        """Made by this sweep and cached in the results folder (synthetic, EGRU or delta on PTB)."""
        return self.synth is not None or self.egru is not None or self.delta is not None

    @property
    def model(self) -> dict | None:
        """The parameters of a trained model run over PTB (``egru`` or ``delta``), else None."""
        return self.egru if self.egru is not None else self.delta

    @property
    def kind(self) -> str:
        """``trace``, ``synth``, ``egru`` or ``delta``: the spec key that made this workload."""
        return ("synth" if self.synth is not None else "egru" if self.egru is not None
                else "delta" if self.delta is not None else "trace")

    @property
    def ident(self) -> str:
        """Hashable identity: the file path, or the content address of the generating parameters."""
        if self.synth is not None:
            return "synth:" + self.synth_key()
        if self.egru is not None:
            return "egru:" + self.egru_key()
        if self.delta is not None:
            return "delta:" + self.delta_key()
        return self.path

    def synth_key(self) -> str:
        """Content address of a synthetic trace: the hash of its parameters."""
        return self._key

    def egru_key(self) -> str:
        """Content address of a model's PTB trace: model bytes, split, range (not the PTB folder)."""
        return self._key

    def delta_key(self) -> str:
        """Content address of a GRU's delta-network PTB trace: model bytes, split, range and both
        thresholds (not the PTB folder)."""
        return self._key

    @functools.cached_property
    def _key(self) -> str:
        if self.synth is not None:
            return sha256_text(canonical_json({"synthesize": self.synth}))[:20]
        kind = "egru" if self.egru is not None else "delta"
        e = {k: v for k, v in self.model.items() if k not in ("model", "ptb")}
        return sha256_text(canonical_json({kind: e}))[:20]


def ptb_problem(folder: str | None) -> str | None:
    """Why the PTB folder cannot serve EGRU or delta workloads (None when it can); reads nothing but names."""
    if folder is None:
        return (f"no PTB folder given: pass --ptb PATH or set {PTB_ENV} to the folder holding "
                f"{', '.join(PTB_FILES)}")
    p = Path(folder)
    if not p.is_dir():
        return f"PTB folder {p} not found (pass --ptb PATH or set {PTB_ENV})"
    bad = [f for f in PTB_FILES if not (p / f).is_file() or not os.access(p / f, os.R_OK)]
    if bad:
        return f"{p} is not a PTB folder: {', '.join(bad)} missing or unreadable (pass --ptb PATH or set {PTB_ENV})"
    return None


class _Ctx:
    """Where we are in the spec, for one-line errors: ``spec.yaml: parts[1].axes[0].grid: ...``."""

    def __init__(self, spec_path: Path):
        self.spec_path = spec_path
        self.base_dir = spec_path.parent

    def fail(self, where: str, what: str):
        raise InputError(f"{self.spec_path}: {where}: {what}" if where else f"{self.spec_path}: {what}")

    def resolve(self, p: str) -> Path:
        q = Path(p)
        return q if q.is_absolute() else (self.base_dir / q)


def _workloads(ctx: _Ctx, where: str, raw: list[WorkloadSpec] | None, ptb: str | None) -> list[Workload]:
    if raw is None:
        ctx.fail(where, "missing: list at least one workload ({name, trace: FILE} or {name, synth: {...}})")
    if not raw:
        ctx.fail(where, "list at least one workload ({name, trace: FILE} or {name, synth: {...}})")
    out: list[Workload] = []
    for i, w in enumerate(raw):
        wh = f"{where}[{i}]"
        if w.trace is not None:
            pattern = ctx.resolve(w.trace)
            if glob.has_magic(str(pattern)):
                files = sorted(glob.glob(str(pattern)))
                if not files:
                    ctx.fail(f"{wh}.trace", f"no file matches {pattern}")
            else:
                if not pattern.is_file():
                    ctx.fail(f"{wh}.trace", f"no such file: {pattern}")
                files = [str(pattern)]
            for f in files:
                out.append(Workload(_label(w.name, f, len(files)), path=str(Path(f).resolve())))
        elif w.egru is not None:
            out += _model_workloads(ctx, f"{wh}.egru", "egru", w.egru, w.name, ptb)
        elif w.delta is not None:
            out += _model_workloads(ctx, f"{wh}.delta", "delta", w.delta, w.name, ptb)
        else:
            out.append(Workload(w.name or f"synth{i}", synth=dict(w.synth)))
    names = [w.name for w in out]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        ctx.fail(where, f"two workloads are named '{dup}'; give each a distinct 'name'")
    return out


def _label(name: str | None, f: str, n: int) -> str:
    return name if (name and n == 1) else (f"{name}:{Path(f).stem}" if name else Path(f).stem)


# the model file's meta ``format`` -> the workload kind that runs it
_MODEL_KINDS = {"accelsim-egru-model": "egru", "accelsim-gru-model": "delta"}
_MODEL_WHAT = {"egru": ("an EGRU model", "EGRU models"), "delta": ("a GRU model", "GRU models")}


def _model_kind(path: str) -> str:
    """``egru`` or ``delta``: the workload kind that runs the model file at ``path`` (from its
    meta alone; the weights are not read). Raises ValueError when it is no model file."""
    import json

    try:
        z = np.load(path, allow_pickle=False)
    except Exception:  # noqa: BLE001 - whatever the bytes are, it is not a model file
        raise ValueError("not a readable .npz") from None
    if not hasattr(z, "files"):
        raise ValueError("not an .npz archive")
    with z:
        if "meta" not in z.files:
            raise ValueError("no 'meta' key")
        try:
            meta = json.loads(str(z["meta"]))
        except Exception:  # noqa: BLE001
            raise ValueError("its 'meta' is not JSON") from None
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if fmt not in _MODEL_KINDS:
        raise ValueError(f"meta format is {_short(fmt)}, expected one of {', '.join(_MODEL_KINDS)}")
    return _MODEL_KINDS[fmt]


def _model_workloads(ctx: _Ctx, where: str, kind: str, e: EgruSpec | DeltaSpec, name: str | None,
                     ptb: str | None) -> list[Workload]:
    """The model's events on PTB (``egru``), or its delta-network columns (``delta``), traced on
    demand. Each model file must hold a model of that kind (read from its meta now). The PTB
    folder: the workload's ``ptb``, else ``--ptb``, else $ACCELSIM_PTB (resolved here, so every
    worker reads the same folder; it is not part of the trace's identity, and never stored in a
    trace)."""
    from accelsim.io import file_sha256

    folder = str(ctx.resolve(e.ptb).absolute()) if e.ptb else ptb
    pattern = ctx.resolve(e.model)
    files = sorted(glob.glob(str(pattern))) if glob.has_magic(str(pattern)) else (
        [str(pattern)] if pattern.is_file() else [])
    if not files:
        ctx.fail(f"{where}.model", f"no model file matches {pattern}")
    out = []
    for f in files:
        try:
            sha = file_sha256(f)
        except OSError as err:
            ctx.fail(f"{where}.model", f"cannot read {f} ({err.strerror or err})")
        try:
            holds = _model_kind(f)
        except ValueError as err:
            ctx.fail(f"{where}.model", f"{f} is not an accelsim model file ({err})")
        if holds != kind:
            article = "an" if holds == "egru" else "a"
            ctx.fail(f"{where}.model", f"{f} holds {_MODEL_WHAT[holds][0]}; '{kind}' workloads run "
                                       f"{_MODEL_WHAT[kind][1]} (give it as {article} '{holds}' workload)")
        params = {"model": str(Path(f).resolve()), "model_sha256": sha, "split": e.split,
                  "start": e.start, "tokens": e.tokens, "ptb": folder}
        if kind == "delta":  # None: set by a workload.theta_* axis (checked by the part)
            params.update(theta_x=e.theta_x, theta_h=e.theta_h)   # floats (_theta)
        out.append(Workload(_label(name, f, len(files)), **{kind: params}))
    return out


# ----------------------------------------------------------------------------------------------
# axis blocks: indexable, never expanded


class _Grid:
    """Every combination, in the order written (the last axis varies fastest)."""

    def __init__(self, body: dict):
        self.names = list(body)
        self.lists = [list(v) for v in body.values()]
        self.n = math.prod(len(v) for v in self.lists)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, k: int) -> dict:
        picks = []
        for values in reversed(self.lists):
            k, r = divmod(k, len(values))
            picks.append(values[r])
        return dict(zip(self.names, reversed(picks)))

    def values(self, name: str) -> list:
        return self.lists[self.names.index(name)]

    def probe(self) -> Iterator[int]:
        """Block indices that show every value of every axis at least once (the others at their first)."""
        stride = 1
        for values in reversed(self.lists):
            yield from (r * stride for r in range(len(values)))
            stride *= len(values)


class _Zip(_Grid):
    """Lock-step: the i-th values go together."""

    def __init__(self, body: dict):
        super().__init__(body)
        self.n = len(self.lists[0]) if self.lists else 0

    def __getitem__(self, k: int) -> dict:
        return {n: v[k] for n, v in zip(self.names, self.lists)}

    def probe(self) -> Iterator[int]:
        return iter(range(self.n))


class _Random:
    """Seeded samples, drawn once (one stream, fields in spec order) and held as compact arrays."""

    def __init__(self, body: RandomBody):
        self.n = body.samples
        self.names = list(body.fields)
        rng = np.random.default_rng(body.seed)
        self.draws = []
        for dist in body.fields.values():
            how = dist.kind
            arg = getattr(dist, how)
            if how == "choice":
                self.draws.append(("choice", list(arg), rng.integers(0, len(arg), size=self.n)))
            elif how == "randint":
                self.draws.append(("int", None, rng.integers(arg[0], arg[1] + 1, size=self.n)))
            elif how == "uniform":
                self.draws.append(("float", None, rng.uniform(arg[0], arg[1], size=self.n)))
            else:
                self.draws.append(("exp", None, rng.uniform(math.log(arg[0]), math.log(arg[1]), size=self.n)))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, k: int) -> dict:
        out = {}
        for name, (how, choices, a) in zip(self.names, self.draws):
            x = a[k]
            out[name] = (choices[int(x)] if how == "choice" else int(x) if how == "int"
                         else float(x) if how == "float" else float(math.exp(x)))
        return out

    def values(self, name: str) -> list | None:
        how, choices, _ = self.draws[self.names.index(name)]
        return choices if how == "choice" else None

    def probe(self) -> Iterator[int]:
        return iter(range(self.n))


# ----------------------------------------------------------------------------------------------
# configs: the base's YAML + the point's axis values -> a validated ArchConfig


class _LRU(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get_(self, key):
        v = self.get(key)
        if v is not None:
            self.move_to_end(key)
        return v

    def put(self, key, value) -> None:
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)


def _freeze(v):
    """A hashable, type-exact stand-in for an axis value (1, 1.0 and True stay apart)."""
    t = type(v)
    if t is list:
        return (list, tuple(_freeze(x) for x in v))
    if t is dict:
        return (dict, tuple((k, _freeze(x)) for k, x in v.items()))
    return (t, v)


def _sections() -> dict[str, type[BaseModel]]:
    """The config's groups of fields (``pe``, ``weight_sram``, ...): sub-models validated apart."""
    out = {}
    for name, f in ArchConfig.model_fields.items():
        ann = _strip(f.annotation)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out[name] = ann
    return out


class _Base:
    """A base architecture config: its YAML mapping, validated once, and its groups of fields."""

    def __init__(self, path: Path):
        data = read_yaml(path)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise InputError(f"{path}: expected a mapping of fields at the top level")
        config_from_dict(data, str(path))  # the base itself must be valid
        self.path = str(path)
        self.source = str(path.resolve())
        self.data = data
        sections = _sections()
        self.top = {k: v for k, v in data.items() if k not in sections}
        self.sections = {s: cls.model_validate(data[s]) for s, cls in sections.items() if data.get(s) is not None}


class _Fallback(Exception):
    pass


class _Layout:
    """Where a part's config axes land: each axis's group of fields (None: the top level), fixed
    for the part, so that each point only looks its values up."""

    def __init__(self, names: list[str], sections: dict):
        self.names = tuple(names)
        self.top = [i for i, n in enumerate(names) if n.partition(".")[0] not in sections]
        self.heads = {n.partition(".")[0] for i, n in enumerate(names) if i in self.top}
        self.groups: dict[str, list[int]] = {}
        self.whole = False  # an axis replaces a whole group: always the plain way
        for i, n in enumerate(names):
            head, dot, rest = n.partition(".")
            if head in sections:
                self.groups.setdefault(head, []).append(i)
                self.whole = self.whole or not dot


class _Configs:
    """Resolve and validate each point's config.

    The plain way is the engine's :func:`~accelsim.engine.simulate.apply_overrides` on the base's
    YAML, then the config schema. The same result is reached faster by validating each group of
    fields (``pe``, ``weight_sram``, ...) once per distinct set of values (they are independent
    sub-models) and the top level with those groups in place; the first config of every base is
    made both ways and compared, and any disagreement or error goes back to the plain way (whose
    message is the one shown). Caches are bounded: memory does not grow with the sweep.
    """

    def __init__(self, cache_size: int = 4096):
        self.cache = _LRU(cache_size)
        self.section_cache = _LRU(cache_size)
        self.sections = _sections()
        self.fast = True
        self.checked: set[str] = set()

    def layout(self, names: list[str]) -> _Layout:
        return _Layout(names, self.sections)

    def get(self, base: _Base, layout: _Layout, values: list, source: str) -> list:
        """``[ArchConfig, resolved dict or None]`` for the axis ``values`` (in ``layout.names``
        order) on ``base``, shared by every point with this config."""
        frozen = tuple(_freeze(v) for v in values)
        key = (base.path, layout.names, frozen)
        entry = self.cache.get_(key)
        if entry is not None:
            return entry
        cfg, failed = None, False
        if self.fast and not layout.whole:
            try:
                cfg = self._fast(base, layout, values, frozen, source)
            except (InputError, ValidationError, _Fallback, TypeError, ValueError):
                failed = True
        if cfg is None or base.path not in self.checked:
            plain = self._plain(base, dict(zip(layout.names, values)), source)  # raises the error line
            if failed or (cfg is not None and resolved_dict(cfg) != resolved_dict(plain)):
                self.fast = False
            cfg = plain
            self.checked.add(base.path)
        entry = [cfg, None]
        self.cache.put(key, entry)
        return entry

    @staticmethod
    def _plain(base: _Base, overrides: dict, source: str) -> ArchConfig:
        from accelsim.engine.simulate import apply_overrides

        return config_from_dict(apply_overrides(base.data, overrides, source), source)

    def _fast(self, base: _Base, layout: _Layout, values: list, frozen: tuple, source: str) -> ArchConfig:
        from accelsim.engine.simulate import apply_overrides

        names = layout.names
        data = dict(base.top)
        if layout.top:  # copy and override only the fields the axes touch
            touched = {k: data[k] for k in layout.heads if k in data}
            data.update(apply_overrides(touched, {names[i]: values[i] for i in layout.top}, source))
        data.update(base.sections)
        for s, idx in layout.groups.items():
            skey = (base.path, names, s, tuple(frozen[i] for i in idx))
            inst = self.section_cache.get_(skey)
            if inst is None:
                raw = base.data.get(s)
                if raw is not None and not isinstance(raw, dict):
                    raise _Fallback
                cut = len(s) + 1
                inst = self.sections[s].model_validate(
                    apply_overrides(raw or {}, {names[i][cut:]: values[i] for i in idx}, source))
                self.section_cache.put(skey, inst)
            data[s] = inst
        return ArchConfig.model_validate(data)


# ----------------------------------------------------------------------------------------------
# design points


class DesignPoint:
    """One simulation: a validated config, a workload and the run options."""

    __slots__ = ("index", "part", "workload", "config_source", "params", "tokens", "baseline",
                 "baseline_kind", "_entry")

    def __init__(self, index: int, part: str, workload: Workload, entry: list, config_source: str,
                 params: dict, tokens: int | None, baseline: bool, baseline_kind: str = "dense"):
        self.index = index                  # position in the expansion (stable for a given spec)
        self.part = part
        self.workload = workload
        self._entry = entry                 # [ArchConfig, resolved dict (made on first use)]
        self.config_source = config_source  # the base config file (energy_table is relative to it)
        self.params = params                # the axis values that made this point
        self.tokens = tokens
        self.baseline = baseline
        self.baseline_kind = baseline_kind  # with baseline: the kind of baseline run

    @property
    def arch(self) -> ArchConfig:
        return self._entry[0]

    @property
    def config(self) -> dict:
        """The fully resolved config, JSON-ready (made once per distinct config)."""
        if self._entry[1] is None:
            self._entry[1] = resolved_dict(self._entry[0])
        return self._entry[1]

    def label(self) -> str:
        shown = {k: v for k, v in self.params.items() if k != "base"}
        parts = [self.workload.name] + [f"{k}={_fmt(v)}" for k, v in shown.items()]
        if "base" in self.params:
            parts.insert(0, Path(self.params["base"]).stem)
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"DesignPoint({self.index}, {self.part!r}, {self.label()!r})"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return ",".join(_fmt(x) for x in v)
    return str(v)


class _Part:
    """One sub-sweep: workloads x the product of its axis blocks, point ``j`` made on demand."""

    def __init__(self, ctx: _Ctx, where: str, name: str, part: PartSpec, top: SpecModel, ptb: str | None,
                 configs: _Configs, bases: dict, workload_cache: dict):
        self.name = name
        self.configs = configs
        self.source = f"{ctx.spec_path}: {where}axes"
        base = part.base if part.base is not None else top.base
        if base is None:
            ctx.fail(f"{where}base", "missing: name the base architecture config (e.g. ../arch_a.yaml)")
        self.tokens = part.tokens if part.tokens is not None else top.tokens
        self.baseline = bool(part.baseline if part.baseline is not None else (top.baseline or False))
        self.baseline_kind = part.baseline_kind or top.baseline_kind or "dense"
        raw_w = part.workloads if part.workloads is not None else top.workloads
        wkey = (id(raw_w), where if part.workloads is not None else "")
        if wkey not in workload_cache:
            workload_cache[wkey] = _workloads(ctx, f"{where}workloads", raw_w, ptb)
        self.workloads = workload_cache[wkey]
        axes = part.axes if part.axes is not None else (top.axes or [])
        self.blocks = []
        seen: dict[str, int] = {}
        for i, b in enumerate(axes):
            for n in b.names:
                if n in seen:
                    ctx.fail(f"{where}axes[{i}]", f"axis '{n}' is already set by axes[{seen[n]}]")
                seen[n] = i
            self.blocks.append(_Random(b.random) if b.kind == "random" else
                               (_Grid if b.kind == "grid" else _Zip)(getattr(b, b.kind)))
        synth_names = synth_parameters()
        self.workload_axes = [n for n in seen if n.startswith(WORKLOAD_PREFIX)]
        for n in self.workload_axes:
            key = n[len(WORKLOAD_PREFIX):]
            if key in DELTA_AXES:   # the thresholds of delta workloads
                for w in self.workloads:
                    if w.delta is None:
                        what = ("a trace file" if w.path else "synthetic" if w.synth is not None
                                else "an EGRU model")
                        ctx.fail(f"{where}axes: {n}", f"workload '{w.name}' is {what}; {n} sets the "
                                                      f"threshold of 'delta' workloads (give this axis "
                                                      f"in a part whose workloads are all 'delta')")
                continue
            if key not in synth_names:
                valid = DELTA_AXES if all(w.delta is not None for w in self.workloads) else synth_names
                ctx.fail(f"{where}axes: workload.{key}", "unknown key" + _hint(key, valid))
            for w in self.workloads:
                if w.delta is not None:
                    ctx.fail(f"{where}axes: {n}", f"workload '{w.name}' is a GRU run as a delta network; "
                                                  f"its workload.* axes are {', '.join(WORKLOAD_PREFIX + k for k in DELTA_AXES)} "
                                                  f"({n} sets a synthetic-trace parameter)")
                if w.synth is None:
                    what = "a trace file" if w.path else "a trained model"
                    ctx.fail(f"{where}axes: {n}", f"workload '{w.name}' is {what}; workload.* axes set "
                                                  f"synthetic-trace parameters (list the pruned models' "
                                                  f"traces under workloads instead)")
        for w in self.workloads:
            for k in DELTA_AXES if w.delta is not None else ():
                if w.delta[k] is None and WORKLOAD_PREFIX + k not in self.workload_axes:
                    wh = f"{where}workloads" if part.workloads is not None else "workloads"
                    ctx.fail(wh, f"workload '{w.name}': delta.{k} is missing: give it (a number >= 0, "
                                 f"e.g. 0.1) or an axis {WORKLOAD_PREFIX}{k}")

        def load_base(p: str, wh: str) -> _Base:
            path = ctx.resolve(p)
            if not path.is_file():
                ctx.fail(wh, f"no such file: {path}")
            if str(path) not in bases:
                bases[str(path)] = _Base(path)
            return bases[str(path)]

        self.base = load_base(base, f"{where}base")
        self.axis_bases: dict[str, _Base] = {}
        if "base" in seen:
            block = self.blocks[seen["base"]]
            values = block.values("base")
            if values is None:
                ctx.fail(f"{where}axes[{seen['base']}]: base", "expected a list of architecture config files")
            for v in values:
                if not isinstance(v, str) or not v:
                    ctx.fail(f"{where}axes[{seen['base']}]: base", f"expected a config file path (got {v!r})")
                self.axis_bases[v] = load_base(v, f"{where}axes[{seen['base']}]: base")
        self.combos = math.prod(len(b) for b in self.blocks)
        self.size = len(self.workloads) * self.combos
        self.config_axes = [n for n in seen if n != "base" and not n.startswith(WORKLOAD_PREFIX)]
        self.layout = configs.layout(self.config_axes)

    def probe(self) -> Iterator[int]:
        """Point numbers that together show every workload and every axis value (the rest at
        their first value): a quick check of a spec too big to make every point of."""
        yield from (w * self.combos for w in range(len(self.workloads)))
        stride = 1
        for b in reversed(self.blocks):
            yield from (k * stride for k in b.probe())
            stride *= len(b)

    def point(self, j: int, index: int) -> DesignPoint:
        w, c = divmod(j, self.combos)
        picks = []
        for b in reversed(self.blocks):
            c, k = divmod(c, len(b))
            picks.append(b[k])
        params: dict = {}
        for a in reversed(picks):
            params.update(a)
        base = self.axis_bases[params["base"]] if "base" in params else self.base
        entry = self.configs.get(base, self.layout, [params[n] for n in self.config_axes], self.source)
        wl = self.workloads[w]
        if self.workload_axes and wl.delta is not None:
            delta = dict(wl.delta)
            for n in self.workload_axes:
                theta = _theta_value(params[n])
                if theta is None:
                    raise InputError(f"{self.source}: {n}: must be a finite number >= 0 (got {_short(params[n])})")
                delta[n[len(WORKLOAD_PREFIX):]] = theta
            wl = Workload(wl.name, delta=delta)
        elif self.workload_axes:
            synth = dict(wl.synth)
            for n in self.workload_axes:
                synth[n[len(WORKLOAD_PREFIX):]] = params[n]
            wl = Workload(wl.name, synth=synth)
        return DesignPoint(index, self.name, wl, entry, base.source, params, self.tokens, self.baseline,
                           self.baseline_kind)


class SweepSpec:
    """A validated spec. ``iter_points()`` makes the design points one at a time (constant memory);
    ``points`` makes them all at once (small sweeps, tests)."""

    def __init__(self, name: str, path: str, text_sha256: str, spec_sha256: str, parts: list[_Part]):
        self.name = name
        self.path = path
        self.text_sha256 = text_sha256    # the file's bytes
        self.spec_sha256 = spec_sha256    # what the file means: the validated spec (comments, layout ignored)
        self._parts = parts
        self.n_points = sum(p.size for p in parts)

    def iter_points(self) -> Iterator[DesignPoint]:
        index = 0
        for part in self._parts:
            for j in range(part.size):
                yield part.point(j, index)
                index += 1

    @property
    def points(self) -> tuple[DesignPoint, ...]:
        return tuple(self.iter_points())

    def probe(self, limit: int = PROBE_POINTS) -> None:
        """Make (and so validate) up to ``limit`` design points that show every workload and every
        axis value: most bad values of a big spec are found at once, before a listing starts."""
        start = 0
        for part in self._parts:
            for j in part.probe():
                if limit <= 0:
                    return
                part.point(j, start + j)
                limit -= 1
            start += part.size

    @property
    def parts(self) -> list[str]:
        return [p.name for p in self._parts]

    def workloads(self) -> list[Workload]:
        """The workloads as listed in the spec (before ``workload.*`` axes), each once."""
        out, seen = [], set()
        for part in self._parts:
            for w in part.workloads:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    def unreachable(self) -> list[tuple[str, str]]:
        """``(workload, why)`` for every workload that cannot be read or made: a trace or model file
        that is gone or unreadable, an EGRU or delta workload without a usable PTB folder. Reads no
        data."""
        out = []
        for w in self.workloads():
            if w.path is not None:
                if not os.path.isfile(w.path) or not os.access(w.path, os.R_OK):
                    out.append((w.name, f"cannot read the trace file {w.path}"))
            elif w.model is not None:
                if not os.access(w.model["model"], os.R_OK):
                    out.append((w.name, f"cannot read the model file {w.model['model']}"))
                problem = ptb_problem(w.model.get("ptb"))
                if problem:
                    out.append((w.name, problem))
        return out

    def check_reachable(self) -> None:
        """One :class:`InputError` line naming the workloads that cannot be read or made, and why."""
        problems = self.unreachable()
        if not problems:
            return
        by_why: dict[str, list[str]] = {}
        for name, why in problems:
            names = by_why.setdefault(why, [])
            if name not in names:  # a workload used by several parts is named once
                names.append(name)
        text = "; ".join(f"workload{'s' if len(names) > 1 else ''} {', '.join(names)}: {why}"
                         for why, names in by_why.items())
        raise InputError(f"{self.path}: {text}")


def load_spec(path: str | os.PathLike, ptb: str | os.PathLike | None = None, check_points: bool = True) -> SweepSpec:
    """Parse and check a sweep spec; raises InputError (one line) on bad input.

    ``ptb``: the PTB folder for ``egru`` and ``delta`` workloads that do not name one (else
    $ACCELSIM_PTB).
    ``check_points``: make every design point once now, validating its config (in constant
    memory); with False only a sample that shows every axis value is made now
    (:meth:`SweepSpec.probe`) and the others are validated as they are made
    (:meth:`SweepSpec.iter_points`; the sweep makes them all once before anything runs).
    """
    spec_path = Path(path)
    raw = read_yaml(spec_path)
    ctx = _Ctx(spec_path)
    _plain_values(ctx, raw, "")
    if not isinstance(raw, dict):
        keys = ", ".join(SpecModel.model_fields)
        ctx.fail("", f"expected a mapping with keys {keys} (got {type(raw).__name__})")
    try:
        model = SpecModel.model_validate(raw)
    except ValidationError as err:
        raise InputError(describe(spec_path, err)) from None
    name = model.name
    if name is None:
        try:
            name = _plain_name(spec_path.stem)
        except PydanticCustomError:
            ctx.fail("name", f"missing, and the file name {spec_path.stem!r} is not a plain name (letters, "
                             f"digits, '-', '_', '.'); set name: in the spec")
    if ptb is None or str(ptb) == "":
        ptb = os.environ.get(PTB_ENV) or None
    ptb = str(Path(ptb).absolute()) if ptb else None
    configs, bases, wcache = _Configs(), {}, {}
    if model.parts is not None:
        parts = [_Part(ctx, f"parts[{i}].", p.name or f"part{i}", p, model, ptb, configs, bases, wcache)
                 for i, p in enumerate(model.parts)]
    else:
        parts = [_Part(ctx, "", name, PartSpec(), model, ptb, configs, bases, wcache)]
    # What the spec means: its validated keys and values, and the files its relative paths resolve
    # to (the same text elsewhere, over other configs or traces, is another spec).
    dumped = model.model_dump(mode="json")
    for d in [dumped] + (dumped.get("parts") or []):   # unset: the meaning of specs written before it
        if d.get("baseline_kind") is None:
            d.pop("baseline_kind", None)
        for w in d.get("workloads") or []:
            if w.get("delta") is None:
                w.pop("delta", None)
    meaning = dict(dumped, name=name,
                   resolved_bases=sorted(b.source for b in bases.values()),
                   resolved_files=sorted({w.path or w.model["model"] for p in parts for w in p.workloads
                                          if w.path or w.model}))
    spec = SweepSpec(name, str(spec_path), hashlib.sha256(spec_path.read_bytes()).hexdigest(),
                     sha256_text(canonical_json_lenient(meaning)), parts)
    if spec.n_points == 0:
        ctx.fail("", "the sweep expands to no design points (an axis with no values, or random samples: 0)")
    for i, p in enumerate(parts):
        if p.size == 0 and model.parts is not None:
            ctx.fail(f"parts[{i}]", "makes no design points (an axis with no values, or random samples: 0); "
                                    "remove the part or give it values")
    if check_points:
        for _ in spec.iter_points():
            pass
    else:
        spec.probe()
    return spec


def _plain_values(ctx, value, where: str) -> None:
    """A spec holds numbers, strings, booleans, null, dates, lists and mappings: YAML's sets and
    binary data have no meaning in one (and no JSON spelling for the spec's identity)."""
    stack = [(value, where)]
    while stack:
        v, at = stack.pop()
        if isinstance(v, dict):
            stack.extend((x, f"{at}.{k}" if at else str(k)) for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((x, f"{at}[{i}]") for i, x in enumerate(v))
        elif isinstance(v, (set, frozenset, bytes, bytearray)):
            kind = "a set" if isinstance(v, (set, frozenset)) else "binary data"
            ctx.fail(at, f"holds {kind} (!!set / !!binary); give numbers, strings, lists or mappings")


def canonical_json_lenient(obj: Any) -> str:
    """Canonical JSON that also takes YAML's dates and the like (as text)."""
    import json

    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
