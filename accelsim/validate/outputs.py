"""Checking output paths before a long run: kept for existing callers; the checks live in
:mod:`accelsim.io` (:func:`accelsim.io.check_output_file`)."""

from __future__ import annotations

import os
from pathlib import Path

from accelsim.io import check_output_file


def check_output_path(path: str | os.PathLike, option: str, suffix: str | None = None, *,
                      inputs=()) -> Path:
    """Raise :class:`InputError` unless ``path`` can be written as a file (see
    :func:`accelsim.io.check_output_file`)."""
    return check_output_file(path, option, inputs=inputs, suffix=suffix)
