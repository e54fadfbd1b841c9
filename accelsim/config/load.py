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


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key, mark, first):
        super().__init__(f"duplicate key {key!r}")
        self.key, self.problem_mark, self.first = key, mark, first


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.safe_load`` semantics, except that a key given twice in one mapping is an error
    (PyYAML keeps the last one silently). Merge keys (``<<``) may still be overridden."""

    def flatten_mapping(self, node):
        # Every mapping passes here first, with the keys as written (merging then rewrites them).
        checked = self.__dict__.setdefault("_unique_checked", set())
        if id(node) not in checked:
            checked.add(id(node))
            seen = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # unhashable: construct_mapping says so
                    continue
                if first is not None:
                    raise _DuplicateKey(key, key_node.start_mark, first)
                seen[key] = key_node.start_mark
        super().flatten_mapping(node)


def parse_yaml(text: str, source: str) -> Any:
    """YAML text -> Python data (safe: plain data only; duplicate keys refused), with one-line
    errors naming ``source``."""
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as e:
        m, f = e.problem_mark, e.first
        raise InputError(f"{source}: duplicate key '{e.key}' at line {m.line + 1} (first given at line "
                         f"{f.line + 1}); give each field once") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{source}: not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise InputError(f"{source}: not valid YAML: nested too deeply") from None


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
    return parse_yaml(text, str(path))


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


def _field_info(model: type[BaseModel], loc: tuple):
    """The FieldInfo ``loc`` points at (None when it is not a plain field path)."""
    cls, info = model, None
    for part in loc:
        info = cls.model_fields.get(part) if isinstance(part, str) and cls is not None else None
        if info is None:
            return None
        ann = info.annotation
        cls = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return info


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
    if kind == "less_than_equal":
        # say why the bound is there: the description states it as "; at most N (why)"
        info = _field_info(model, loc)
        desc = (info.description or "") if info is not None else ""
        if "; at most " in desc:
            msg = "must be at most " + desc.split("; at most ", 1)[1]
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


# The energy tables shipped with accelsim (package data): ``energy_table: 45nm`` names one.
SHIPPED_TABLES = Path(__file__).resolve().parent.parent / "energy" / "tables"


def shipped_energy_tables() -> list[str]:
    """Names of the shipped energy tables (``45nm``, ...)."""
    return sorted(p.stem for p in SHIPPED_TABLES.glob("*.yaml"))


def is_energy_table_path(value: str) -> bool:
    """Is an ``energy_table`` value a path (it has a ``/`` or ends in ``.yaml`` / ``.yml``)
    rather than the name of a shipped table?"""
    return "/" in value or os.sep in value or value.endswith((".yaml", ".yml"))


def energy_table_path(config: ArchConfig, config_path: str | os.PathLike | None) -> Path:
    """The file ``config.energy_table`` names: a shipped table by name (``45nm``), or a path,
    relative to the config file's folder (to the current folder for a config without a file).
    InputError naming the config file and the ``energy_table`` field when there is none."""
    value = config.energy_table
    where = f"{config_path}: energy_table" if config_path is not None else "energy_table"
    shipped = shipped_energy_tables()
    if not is_energy_table_path(value):
        if value in shipped:
            return SHIPPED_TABLES / f"{value}.yaml"
        raise InputError(f"{where}: no shipped energy table named {value!r} (shipped: {', '.join(shipped)}); "
                         f"a table of your own is a path to its YAML file, relative to the config's folder "
                         f"(with a '/' or ending in .yaml)")
    p = Path(value)
    if not p.is_absolute() and config_path is not None:
        p = Path(config_path).parent / p
    if not p.is_file():
        what = "is a folder, not a YAML file" if p.is_dir() else "no such file"
        example = shipped[0] if shipped else "45nm"
        raise InputError(f"{where}: {value} ({p}): {what}; a path is relative to the config's folder, "
                         f"and a shipped table is named without one (energy_table: {example})")
    return p


def resolve_energy_table(config: ArchConfig, config_path: str | os.PathLike | None) -> EnergyTable:
    """The energy table ``config`` names, loaded and validated."""
    return load_energy_table(energy_table_path(config, config_path))


def load_energy_table(path: str | os.PathLike) -> EnergyTable:
    return parse_model(EnergyTable, read_yaml(path), str(path))


def resolved_dict(config: ArchConfig) -> dict:
    """The fully resolved configuration (every default filled in), JSON-ready."""
    return config.model_dump(mode="json")
