"""Identities: canonical JSON, the simulator's own hash, and a design point's key.

Shared by the coordinator (``run``) and the workers (``worker``), which import it and nothing
else of the sweep package's running machinery.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# The code that turns (config, trace, energy table) into a result: a change here is a different
# simulator, so its hash is part of every key and stored results never go stale silently.
SIMULATOR_SOURCES = ("engine", "units", "energy", "result.py")


@functools.lru_cache(maxsize=1)
def simulator_sha256() -> str:
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for name in SIMULATOR_SOURCES:
        p = root / name
        for f in sorted(p.rglob("*.py")) if p.is_dir() else ([p] if p.is_file() else []):
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def point_key(config: dict, trace_sha256: str, energy_sha256: str, tokens: int | None, baseline: bool,
              baseline_kind: str = "dense") -> str:
    """The identity of a simulation: resolved config + trace hash (+ energy table, run options and
    the simulator's own source)."""
    options = {"baseline": bool(baseline)}
    if baseline:
        options["baseline_kind"] = baseline_kind
    return sha256_text(canonical_json({"config": config, "trace_sha256": trace_sha256,
                                       "energy_table_sha256": energy_sha256, "tokens": tokens,
                                       **options, "simulator_sha256": simulator_sha256()}))
