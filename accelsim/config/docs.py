"""Render the config reference (docs/config.md) from the schema itself, so the two never drift."""

from __future__ import annotations

import types
import typing

from pydantic import BaseModel

from accelsim.config.schema import ArchConfig


def _type_name(ann) -> str:
    if typing.get_origin(ann) is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(ann))
    if typing.get_origin(ann) is typing.Annotated:
        return _type_name(typing.get_args(ann)[0])
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else _type_name(a) for a in typing.get_args(ann))
    return getattr(ann, "__name__", str(ann))


def _rows(model: type[BaseModel], prefix: str = ""):
    for name, f in model.model_fields.items():
        ann = f.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from _rows(ann, f"{prefix}{name}.")
            continue
        default = "null" if f.default is None else f.default
        yield f"| `{prefix}{name}` | {_type_name(ann)} | `{default}` | {(f.description or '').replace('|', chr(92) + '|')} |"


def config_reference() -> str:
    lines = [
        "# Architecture config reference",
        "",
        "Generated from `accelsim/config/schema.py` by `python -m accelsim.config.docs > docs/config.md`",
        "(a test checks that this file matches the schema). Every field has the default shown; a YAML",
        "file sets only what differs. `accelsim config show FILE` prints a file fully resolved.",
        "Units are in the names. Unknown fields are errors (with the nearest valid name suggested), and",
        "so are a key given twice and a number that is not finite. Every field that sizes memory or time",
        "has an upper bound, stated with its ground in the field's meaning: above what any chip has, and",
        "within what the simulator can hold (`accelsim/config/limits.py`).",
        "",
        "| field | type | default | meaning |",
        "| --- | --- | --- | --- |",
    ]
    lines += list(_rows(ArchConfig))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(config_reference(), end="")
