"""The results store: one SQLite database in WAL mode, ``<out>/results.sqlite``.

Why SQLite (WAL) rather than Parquet parts: each finished point is one small transaction, durable
the moment it commits (``synchronous=FULL``); a ``kill -9`` can only lose an uncommitted
transaction, never corrupt a committed row; the primary key (the point's key) makes "every point
exactly once" a property of the file rather than of our code; readers (``accelsim report``, the
Python API) can read while a sweep writes. Parquet parts would need one file per point and a
compaction step, and a torn rename is ours to detect. Only the coordinating process writes; workers
return results to it.

A point's key is the SHA-256 of the fully resolved config, the trace's SHA-256, the energy table's
SHA-256 and the run options (tokens, baseline): the same key means the same simulation.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from pathlib import Path
from typing import Iterable

from accelsim.errors import InputError

STORE_NAME = "results.sqlite"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sweep (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS points (
    key TEXT PRIMARY KEY,           -- sha256(resolved config, trace sha256, energy table sha256, tokens, baseline)
    config TEXT NOT NULL,           -- JSON: the fully resolved config
    trace_path TEXT NOT NULL,
    trace_sha256 TEXT NOT NULL,
    tokens INTEGER,
    baseline INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    result TEXT,                    -- JSON from accelsim.engine.simulate (status ok)
    trace_stats TEXT,               -- JSON: measured weight/activity sparsity, perplexity, what made the trace
    error TEXT,                     -- one line (status error)
    wall_s REAL,
    finished_at TEXT NOT NULL
);
-- The design points of the spec as last run: position, part, axis values -> simulation key.
-- Two points that resolve to the same simulation (same key) share one row of `points`.
CREATE TABLE IF NOT EXISTS members (
    idx INTEGER PRIMARY KEY,        -- position in the spec's expansion
    part TEXT NOT NULL,
    workload TEXT NOT NULL,
    params TEXT NOT NULL,           -- JSON: the axis values (and synthetic-trace parameters)
    key TEXT NOT NULL
);
"""


def store_path(out_dir: str | Path) -> Path:
    return Path(out_dir) / STORE_NAME


class ResultsStore:
    """Open (creating if needed) the store in ``out_dir`` for the sweep named ``sweep_name``.

    ``sweep_name=None`` opens an existing store read-only-ish (for reports and the API).
    """

    def __init__(self, out_dir: str | Path, sweep_name: str | None = None, spec_path: str | None = None,
                 create: bool = True):
        self.out_dir = Path(out_dir)
        self.path = store_path(out_dir)
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise InputError(f"{self.out_dir}: exists and is not a folder; give --out a folder")
        if not create and not self.path.is_file():
            raise InputError(f"{self.out_dir}: holds no sweep results ({STORE_NAME} not found)")
        if create:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            if create:
                self.db.executescript(_SCHEMA)
            meta = dict(self.db.execute("SELECT key, value FROM sweep").fetchall())
        except sqlite3.DatabaseError as e:
            raise InputError(f"{self.path}: not an accelsim results store ({e}); use another --out folder") from None
        if create and sweep_name is not None:
            other = meta.get("name")
            if other is not None and other != sweep_name:
                self.db.close()
                raise InputError(f"{self.out_dir}: holds the results of sweep '{other}', not '{sweep_name}'; "
                                 f"use another --out folder (nothing was changed)")
            if other is None:
                self._set_meta(name=sweep_name, schema_version=str(SCHEMA_VERSION),
                               created_at=_now(), spec_path=spec_path or "")
        self.meta = dict(self.db.execute("SELECT key, value FROM sweep").fetchall())

    @staticmethod
    def check_owner(out_dir: str | Path, sweep_name: str) -> None:
        """Refuse, before anything starts, a folder holding another sweep's results (writes nothing)."""
        meta = stored_meta(out_dir)
        if meta is not None and meta.get("name") not in (None, sweep_name):
            raise InputError(f"{out_dir}: holds the results of sweep '{meta['name']}', not '{sweep_name}'; "
                             f"use another --out folder (nothing was changed)")

    def _set_meta(self, **kv) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO sweep (key, value) VALUES (?, ?)", list(kv.items()))
        if hasattr(self, "meta"):
            self.meta.update(kv)

    def spec_mismatch(self, spec_sha256: str, text_sha256: str) -> str | None:
        return spec_mismatch(self.meta, spec_sha256, text_sha256)

    def record_spec(self, spec_sha256: str, text_sha256: str, n_points: int, spec_path: str) -> None:
        self._set_meta(spec_model_sha256=spec_sha256, spec_sha256=text_sha256, n_points=str(n_points),
                       spec_path=spec_path, updated_at=_now())

    def carry_over(self, archived: Path) -> int:
        """Copy from an archived store the successful simulations that this store's design points
        name (the same key is the same simulation); returns how many."""
        cols = ("key", "config", "trace_path", "trace_sha256", "tokens", "baseline", "status", "result",
                "trace_stats", "error", "wall_s", "finished_at")
        c = ", ".join(cols)
        self.db.execute("ATTACH DATABASE ? AS old", (str(archived),))
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                n = self.db.execute(f"INSERT OR IGNORE INTO points ({c}) SELECT {c} FROM old.points "
                                    f"WHERE status = 'ok' AND key IN (SELECT key FROM members)").rowcount
        finally:
            self.db.execute("DETACH DATABASE old")
        return n

    @property
    def name(self) -> str | None:
        return self.meta.get("name")

    def done_keys(self, include_errors: bool = True) -> set[str]:
        q = "SELECT key FROM points" + ("" if include_errors else " WHERE status = 'ok'")
        return {k for (k,) in self.db.execute(q)}

    def forget_errors(self, keys: Iterable[str]) -> int:
        keys = list(keys)
        with self.db:
            self.db.execute("BEGIN")
            n = 0
            for k in keys:
                n += self.db.execute("DELETE FROM points WHERE key = ? AND status = 'error'", (k,)).rowcount
        return n

    def put(self, row: dict) -> None:
        """Persist one finished point (one transaction). A key already stored is left as it is."""
        cols = ("key", "config", "trace_path", "trace_sha256", "tokens",
                "baseline", "status", "result", "trace_stats", "error", "wall_s", "finished_at")
        row = dict(row, finished_at=_now())
        for k in ("params", "config", "trace_stats"):
            if not isinstance(row.get(k), (str, type(None))):
                row[k] = json.dumps(row[k], sort_keys=True)
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(f"INSERT OR IGNORE INTO points ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                            tuple(row.get(c) for c in cols))

    def set_members(self, members: Iterable[dict]) -> None:
        """Record the spec's design points (replacing the previous expansion) in one transaction."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM members")
            self.db.executemany("INSERT INTO members (idx, part, workload, params, key) VALUES (?, ?, ?, ?, ?)",
                                ((m["idx"], m["part"], m["workload"], m["params"], m["key"]) for m in members))

    def status_of(self, key: str) -> str | None:
        row = self.db.execute("SELECT status FROM points WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def rows(self) -> list[dict]:
        """One row per stored simulation (by key)."""
        cur = self.db.execute("SELECT * FROM points ORDER BY key")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def point_rows(self) -> list[dict]:
        """One row per design point of the spec whose simulation is stored: member + its result."""
        cur = self.db.execute("SELECT m.idx, m.part, m.workload, m.params, p.* FROM members m "
                              "JOIN points p ON p.key = m.key ORDER BY m.idx")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM points GROUP BY status").fetchall())

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def stored_meta(out_dir: str | Path) -> dict | None:
    """The ``sweep`` table of the store in ``out_dir``, read only (None: no store there)."""
    path = store_path(out_dir)
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise InputError(f"{out_dir}: exists and is not a folder; give --out a folder")
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            return dict(db.execute("SELECT key, value FROM sweep").fetchall())
        finally:
            db.close()
    except sqlite3.DatabaseError as e:
        raise InputError(f"{path}: not an accelsim results store ({e}); use another --out folder") from None


def spec_mismatch(meta: dict, spec_sha256: str, text_sha256: str) -> str | None:
    """None when a store with this ``meta`` holds results of the given spec (or of none yet); else
    which spec it holds, for the refusal. Specs are compared by meaning (keys and values after
    validation): comments and layout do not count; a changed axis, workload or part does."""
    stored = meta.get("spec_model_sha256")
    if stored is None:  # a store written before specs were compared by meaning: by the file's bytes
        old = meta.get("spec_sha256")
        if old is None or old == text_sha256:
            return None
    elif stored == spec_sha256:
        return None
    where = meta.get("spec_path") or "another spec"
    when = meta.get("updated_at") or meta.get("created_at") or "?"
    return f"{where}, last run {when}"


def archive_store(out_dir: str | Path) -> Path | None:
    """Move ``results.sqlite`` aside as ``results-<UTC time>.sqlite`` (its WAL folded in first), so
    that a fresh store can start; nothing is deleted. Returns the archive's path (None: no store)."""
    path = store_path(out_dir)
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()
    except sqlite3.DatabaseError as e:
        raise InputError(f"{path}: not an accelsim results store ({e}); use another --out folder") from None
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"results-{stamp}.sqlite")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"results-{stamp}-{n}.sqlite")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    return target


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
