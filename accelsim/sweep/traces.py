"""Trace files behind a sweep's workloads: file hashes, and synthetic traces cached by content.

A synthetic workload is stored as ``<cache>/synth-<hash of its parameters>.npz``; it is generated
once (by whichever process gets there first; writes are atomic and deterministic, so a race
writes the same bytes twice) and reused by every later point and sweep that asks for the same
parameters.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from accelsim.errors import InputError
from accelsim.sweep.spec import Workload


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def synth_path(cache_dir: str | os.PathLike, workload: Workload) -> Path:
    return Path(cache_dir) / f"synth-{workload.synth_key()}.npz"


def make_synthetic(synth: dict, path: str) -> str:
    """Generate a synthetic trace into ``path`` unless it is already there; return its SHA-256.

    Runs in a worker process (it is the slow part of preparing a paper-scale workload).
    """
    p = Path(path)
    if p.is_file():
        return file_sha256(p)
    from accelsim.trace import save_trace
    from accelsim.trace.synth import synthesize

    try:
        trace = synthesize(**synth)
    except InputError:
        raise
    except (TypeError, ValueError) as e:
        raise InputError(f"synthetic workload {synth}: {e}") from None
    return save_trace(p, trace)
