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
    trace_stats TEXT,               -- JSON: measured weight/activity sparsity, perplexity
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
        path = store_path(out_dir)
        if Path(out_dir).exists() and not Path(out_dir).is_dir():
            raise InputError(f"{out_dir}: exists and is not a folder; give --out a folder")
        if not path.is_file():
            return
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
            try:
                row = db.execute("SELECT value FROM sweep WHERE key = 'name'").fetchone()
            finally:
                db.close()
        except sqlite3.DatabaseError as e:
            raise InputError(f"{path}: not an accelsim results store ({e}); use another --out folder") from None
        if row is not None and row[0] != sweep_name:
            raise InputError(f"{out_dir}: holds the results of sweep '{row[0]}', not '{sweep_name}'; "
                             f"use another --out folder (nothing was changed)")

    def _set_meta(self, **kv) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO sweep (key, value) VALUES (?, ?)", list(kv.items()))

    def record_spec(self, spec_sha256: str, n_points: int) -> None:
        self._set_meta(spec_sha256=spec_sha256, n_points=str(n_points), updated_at=_now())

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

    def set_members(self, members: list[dict]) -> None:
        """Record the spec's design points (replacing the previous expansion) in one transaction."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM members")
            self.db.executemany("INSERT INTO members (idx, part, workload, params, key) VALUES (?, ?, ?, ?, ?)",
                                [(m["idx"], m["part"], m["workload"], m["params"], m["key"]) for m in members])

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


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
