"""Checking output paths before a long run: a folder or a place that cannot be written fails early."""

from __future__ import annotations

import os
from pathlib import Path

from accelsim.errors import InputError


def check_output_path(path: str | os.PathLike, option: str, suffix: str | None = None) -> Path:
    """Raise :class:`InputError` unless ``path`` can be written as a file (its missing parent
    folders are created when written)."""
    p = Path(path)
    if suffix is not None and p.suffix.lower() != suffix:
        raise InputError(f"{option} {p}: must end in {suffix}")
    if p.is_dir():
        raise InputError(f"{option} {p}: is a folder, expected a file name")
    if p.exists() and not os.access(p, os.W_OK):
        raise InputError(f"{option} {p}: cannot write (no permission)")
    parent = p.absolute().parent
    while not parent.exists():  # the nearest existing folder above decides
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{option} {p}: cannot write there ({parent} is a file, not a folder)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{option} {p}: cannot write there (no permission in {parent})")
    return p
