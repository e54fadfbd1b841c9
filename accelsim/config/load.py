"""YAML -> frozen config objects, with one-line errors that name the file, the field and the fix."""

from __future__ import annotations

import difflib
import os
import reprlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from accelsim.config.energy import EnergyTable
from accelsim.config.schema import ArchConfig
from accelsim.errors import InputError
from accelsim.io import read_input_bytes


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key, mark, first):
        super().__init__(f"duplicate key {key!r}")
        self.key, self.problem_mark, self.first = key, mark, first


class _BadValue(yaml.YAMLError):
    """A value the YAML constructors cannot build (``2001-13-45`` read as a date, ``!!int abc``,
    an integer too long to print), or aliases that hold themselves or expand without bound, with
    where it is."""

    def __init__(self, node, reason: str):
        super().__init__(reason)
        self.node, self.reason, self.problem_mark = node, reason, node.start_mark


_TAG_WORDS = {"int": "an integer", "float": "a number", "bool": "true or false", "null": "null",
              "timestamp": "a date", "binary": "base64 binary data", "str": "a string", "set": "a set",
              "omap": "an ordered mapping", "pairs": "a list of pairs", "map": "a mapping", "seq": "a list"}
# Aliases may repeat a value, but not so that the document holds more values than this once
# expanded (a "billion laughs" of nested anchors is a few hundred bytes of text); a document
# without aliases has no such limit.
MAX_EXPANDED_VALUES = 1_000_000
# Python prints integers of at most 4,300 digits; a config number is never near that. An integer
# written with more characters (in any base), or worth more digits, is refused where it is written.
MAX_INT_DIGITS = 4300


class _ShortRepr(reprlib.Repr):
    def __init__(self, limit: int):
        super().__init__()
        self.maxlevel, self.maxdict, self.maxlist, self.maxtuple, self.maxset, self.maxfrozenset = 3, 4, 6, 6, 6, 6
        self.maxstring = self.maxother = self.maxlong = limit

    def repr_int(self, x, level):
        try:
            return super().repr_int(x, level)
        except ValueError:  # more digits than Python prints
            return f"<an integer of {x.bit_length():,} bits>"


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, in time and memory bounded by ``limit``: nested
    and aliased YAML structures (a billion laughs, a list that holds itself) are never walked
    whole, and an integer too long to print is described by its size."""
    r = _ShortRepr(limit)
    try:
        text = r.repr(value)
    except Exception:  # noqa: BLE001 - a value whose repr fails is named by its type
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.safe_load`` semantics, except that a key given twice in one mapping is an error
    (PyYAML keeps the last one silently). Merge keys (``<<``) may still be overridden. A value
    the constructors cannot build (``month: 2001-13-45``, ``!!int abc``, an integer of thousands
    of digits) is a YAML error at that value, not a Python exception."""

    def compose_document(self):
        node = super().compose_document()
        _check_aliases(node)
        return node

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (yaml.YAMLError, RecursionError, MemoryError):
            raise
        except Exception as e:  # noqa: BLE001 - ValueError, KeyError, ... from PyYAML's constructors
            raise _BadValue(node, _constructor_reason(node, e)) from None

    def construct_yaml_int(self, node):
        text = self.construct_scalar(node)
        too_long = isinstance(text, str) and len(text.lstrip("+-")) > MAX_INT_DIGITS
        value = None if too_long else super().construct_yaml_int(node)
        if value is not None and value.bit_length() > 14_284:   # 2^14284 < 10^4300: may not print
            try:
                str(value)
            except ValueError:
                too_long = True
        if too_long:
            raise _BadValue(node, f"cannot read an integer of more than {MAX_INT_DIGITS:,} digits")
        return value

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


UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", UniqueKeyLoader.construct_yaml_int)


def _check_aliases(root) -> None:
    """Refuse a composed document whose aliases make a value hold itself, or expand it to more
    than :data:`MAX_EXPANDED_VALUES` values; linear in the document's own size."""
    if root is None:
        return
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    distinct = 0
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = ()
        if done:
            open_.discard(key)
            total = 1 + sum(sizes[id(c)] for c in children)
            sizes[key] = total
            if total > MAX_EXPANDED_VALUES and total > distinct:
                raise _BadValue(node, f"this value's aliases expand it to more than {MAX_EXPANDED_VALUES:,} "
                                      f"values; write the values out, or repeat fewer")
            continue
        if key in sizes:
            continue
        if key in open_:
            raise _BadValue(node, "an alias inside this anchored value refers to the value itself; a value "
                                  "cannot hold itself")
        open_.add(key)
        distinct += 1
        stack.append((node, True))
        stack.extend((c, False) for c in children)


def _constructor_reason(node, e: Exception) -> str:
    tag = str(getattr(node, "tag", "")).rpartition(":")[2]
    what = _TAG_WORDS.get(tag, f"a value tagged {node.tag}")
    value = node.value if isinstance(node, yaml.ScalarNode) else None
    why = (str(e).strip().splitlines() or [type(e).__name__])[0]
    if "integer string conversion" in why:
        why = "too many digits"
    shown = f" {short_repr(value, 40)}" if value is not None else ""
    return f"cannot read{shown} as {what} ({why})"


def _safe_load_unique(text: str) -> Any:
    """``yaml.safe_load`` with :class:`UniqueKeyLoader` (a ``yaml.SafeLoader``: plain data only,
    never a Python object)."""
    loader = UniqueKeyLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def parse_yaml(text: str, source: str) -> Any:
    """YAML text -> Python data (safe: plain data only; duplicate keys refused), with one-line
    errors naming ``source``."""
    try:
        return _safe_load_unique(text)
    except _DuplicateKey as e:
        m, f = e.problem_mark, e.first
        key = e.key if isinstance(e.key, str) and len(e.key) <= 60 else short_repr(e.key, 60).strip("'")
        raise InputError(f"{source}: duplicate key '{key}' at line {m.line + 1} (first given at line "
                         f"{f.line + 1}); give each field once") from None
    except _BadValue as e:
        m = e.problem_mark
        raise InputError(f"{source}: not valid YAML at line {m.line + 1}, column {m.column + 1}: {e.reason}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{source}: not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise InputError(f"{source}: not valid YAML: nested too deeply") from None


def read_yaml(path: str | os.PathLike) -> Any:
    path = Path(path)
    data = read_input_bytes(path, "a YAML file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
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
    field = ".".join(p if isinstance(p, str) and len(p) <= 60 else short_repr(p, 60) for p in loc) or "(top level)"
    kind = e["type"]
    value = e.get("input")
    if kind == "extra_forbidden":
        names = _fields_at(model, loc)
        near = difflib.get_close_matches(short_repr(loc[-1]) if not isinstance(loc[-1], str) else loc[-1],
                                         names, n=1, cutoff=0.5)
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
    got = "" if "(got" in msg else f" (got {short_repr(value)})"
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
        example = "45nm" if "45nm" in shipped or not shipped else shipped[0]
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
