"""YAML -> frozen config objects, with one-line errors that name the file, the field and the fix."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from accelsim.config.energy import EnergyTable
from accelsim.config.schema import ArchConfig
from accelsim.errors import InputError


def read_yaml(path: str | os.PathLike) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, expected a YAML file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read ({e})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{path}: not valid YAML{where}: {problem}") from None


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The valid field names of the (sub)model that ``loc`` (without its last part) points into."""
    cls = model
    for part in loc[:-1]:
        field = cls.model_fields.get(part) if isinstance(part, str) else None
        ann = getattr(field, "annotation", None)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            cls = ann
        else:
            return []
    return list(cls.model_fields)


def describe_validation_error(source: str, model: type[BaseModel], err: ValidationError) -> str:
    """First error of a pydantic ValidationError as one line in the user's language."""
    e = err.errors()[0]
    loc = tuple(e["loc"])
    field = ".".join(str(p) for p in loc) or "(top level)"
    kind = e["type"]
    value = e.get("input")
    if kind == "extra_forbidden":
        names = _fields_at(model, loc)
        near = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.5)
        hint = f"; did you mean '{near[0]}'?" if near else (f"; valid fields: {', '.join(names)}" if names else "")
        return f"{source}: {field}: unknown field{hint}"
    if kind == "missing":
        return f"{source}: {field}: required field is missing"
    msg = e["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind == "literal_error":
        allowed = e.get("ctx", {}).get("expected", "")
        msg = f"unknown value; expected one of {allowed}"
    got = "" if "(got" in msg else f" (got {value!r})"
    if kind == "model_type" or kind == "dict_type":
        got = f" (got {type(value).__name__})"
    return f"{source}: {field}: {msg[0].lower() + msg[1:]}{got}"


def parse_model(model: type[BaseModel], data: Any, source: str):
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected a mapping of fields at the top level (got {type(data).__name__})")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise InputError(describe_validation_error(source, model, err)) from None


def config_from_dict(data: Any, source: str = "<config>") -> ArchConfig:
    return parse_model(ArchConfig, data, source)


def load_config(path: str | os.PathLike) -> ArchConfig:
    return config_from_dict(read_yaml(path), str(path))


def energy_table_path(config: ArchConfig, config_path: str | os.PathLike | None) -> Path:
    """Where ``config.energy_table`` points: relative to the config file's folder, else the cwd."""
    p = Path(config.energy_table)
    if not p.is_absolute() and config_path is not None:
        p = Path(config_path).parent / p
    return p


def load_energy_table(path: str | os.PathLike) -> EnergyTable:
    return parse_model(EnergyTable, read_yaml(path), str(path))


def resolved_dict(config: ArchConfig) -> dict:
    """The fully resolved configuration (every default filled in), JSON-ready."""
    return config.model_dump(mode="json")
