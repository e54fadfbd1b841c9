"""Trace files behind a sweep's workloads: file hashes, and generated traces cached by content.

A synthetic workload is stored as ``<cache>/synth-<hash of its parameters>.npz``, a trained model
run over PTB as ``<cache>/egru-<model>-<hash>.npz`` (an EGRU's events) or
``<cache>/delta-<model>-<hash>.npz`` (a GRU run as a delta network; the hash covers both
thresholds); each is generated once (by whichever process gets there first; writes are atomic and deterministic, so a race
writes the same bytes twice) and reused by every later point and sweep that asks for the same
parameters.
"""

from __future__ import annotations

import os
from pathlib import Path

from typing import TYPE_CHECKING

from accelsim.errors import InputError
from accelsim.io import file_sha256

if TYPE_CHECKING:
    from accelsim.sweep.spec import Workload


def synth_path(cache_dir: str | os.PathLike, workload: Workload) -> Path:
    return Path(cache_dir) / f"synth-{workload.synth_key()}.npz"


def generated_path(cache_dir: str | os.PathLike, workload: Workload) -> Path:
    """Where a generated workload's trace is cached: named by the hash of what made it."""
    if workload.synth is not None:
        return synth_path(cache_dir, workload)
    if workload.delta is not None:
        return Path(cache_dir) / f"delta-{Path(workload.delta['model']).stem}-{workload.delta_key()}.npz"
    return Path(cache_dir) / f"egru-{Path(workload.egru['model']).stem}-{workload.egru_key()}.npz"


def make_generated(workload_params: dict, path: str) -> str:
    """Generate (unless cached) a synthetic, EGRU-on-PTB or delta-on-PTB trace; return its SHA-256."""
    if "egru" in workload_params:
        return make_egru(workload_params["egru"], path)
    if "delta" in workload_params:
        return make_delta(workload_params["delta"], path)
    return make_synthetic(workload_params["synth"], path)


# the model's cell (EGRUModel.cell) each model workload runs
_CELL = {"egru": "egru", "delta": "gru"}


def _model_and_split(e: dict, kind: str):
    """Load the model of an ``egru`` / ``delta`` workload (the file the spec hashed, of the kind
    the workload runs) and its PTB split: (model, ids, source)."""
    from accelsim.workloads.model_file import load_model
    from accelsim.workloads.ptb import load_ptb

    if file_sha256(e["model"]) != e["model_sha256"]:
        raise InputError(f"{e['model']}: model file changed while the sweep was starting")
    model = load_model(e["model"])
    if model.cell != _CELL[kind]:
        other = "an 'egru'" if model.cell == "egru" else "a 'delta'"
        raise InputError(f"{e['model']}: holds a model of kind {model.cell}; give it as {other} workload")
    corpus = load_ptb(e.get("ptb"))
    ids = corpus.split(e["split"])
    if e["start"] >= len(ids):
        raise InputError(f"{kind}.start {e['start']} is beyond the {e['split']} split ({len(ids)} tokens)")
    if model.vocab_size != corpus.vocab_size:
        raise InputError(f"{e['model']}: vocabulary size {model.vocab_size} does not match PTB's "
                         f"{corpus.vocab_size}")
    source = {"dataset": "ptb", "split": e["split"], "model": Path(e["model"]).name,
              "model_sha256": e["model_sha256"], "model_meta": model.meta}
    return model, ids, source


def make_egru(e: dict, path: str) -> str:
    """Run a trained EGRU (workloads/models/*.npz) over a PTB split and cache its trace."""
    p = Path(path)
    if p.is_file():
        return file_sha256(p)
    from accelsim.trace import save_trace
    from accelsim.workloads.trace_export import make_trace

    model, ids, source = _model_and_split(e, "egru")
    trace, _ = make_trace(model, ids, source, start=e["start"], tokens=e["tokens"])
    return save_trace(p, trace)


def make_delta(e: dict, path: str) -> str:
    """Run a trained GRU over a PTB split as a delta network (thresholds ``theta_x`` on every
    layer's input, ``theta_h`` on the states) and cache its version-2 trace."""
    p = Path(path)
    if p.is_file():
        return file_sha256(p)
    from accelsim.trace import save_trace
    from accelsim.workloads.trace_export import make_delta_trace

    model, ids, source = _model_and_split(e, "delta")
    trace, _ = make_delta_trace(model, ids, source, e["theta_x"], e["theta_h"], start=e["start"],
                                tokens=e["tokens"])
    return save_trace(p, trace)


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
