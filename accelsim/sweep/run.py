"""Run a sweep: spec -> workloads ready -> points not yet stored -> executor -> store, with progress.

Python API::

    from accelsim.sweep import run_sweep, load_results
    df = run_sweep("configs/sweeps/paper.yaml", "runs/paper", workers=2)   # a pandas DataFrame
    df = load_results("runs/paper")                                        # read back, no running
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from accelsim.config import config_from_dict, energy_table_path, load_energy_table
from accelsim.errors import InputError
from accelsim.sweep.executors import make_executor
from accelsim.sweep.progress import SweepProgress
from accelsim.sweep.spec import DesignPoint, SweepSpec, canonical_json, load_spec, sha256_text
from accelsim.sweep.store import ResultsStore
from accelsim.io import file_sha256
from accelsim.sweep.traces import generated_path
from accelsim.sweep.worker import prepare_trace, run_point

TRACE_CACHE_DIR = "traces"


@dataclass
class SweepSummary:
    name: str
    points: int          # design points in the spec
    unique: int          # distinct keys among them (identical simulations run once)
    skipped: int         # already in the store
    ran: int
    failed: int          # failed in this run
    elapsed_s: float
    executor: str
    workers: int


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


def point_key(config: dict, trace_sha256: str, energy_sha256: str, tokens: int | None, baseline: bool) -> str:
    """The identity of a simulation: resolved config + trace hash (+ energy table, run options and
    the simulator's own source)."""
    return sha256_text(canonical_json({"config": config, "trace_sha256": trace_sha256,
                                       "energy_table_sha256": energy_sha256, "tokens": tokens,
                                       "baseline": bool(baseline), "simulator_sha256": simulator_sha256()}))


def _energy_for(point: DesignPoint, cache: dict) -> tuple[str, str]:
    ck = (point.config_source, point.config["energy_table"])
    if ck not in cache:
        cfg = config_from_dict(point.config, point.config_source)
        path = energy_table_path(cfg, point.config_source)
        load_energy_table(path)  # InputError now, not one error row per point later
        cache[ck] = (str(path.resolve()), file_sha256(path))
    return cache[ck]


def _trace_files(spec: SweepSpec, cache_dir: Path, executor=None, progress: bool | None = None) -> dict:
    """Workload -> (path, sha256). Generated traces are made (on the executor) if missing."""
    out: dict = {}
    missing: dict[str, dict] = {}
    hashes: dict[str, str] = {}
    for p in spec.points:
        w = p.workload
        if w.is_generated:
            path = str(generated_path(cache_dir, w).resolve())
            if not Path(path).is_file():
                missing[path] = {"synth": w.synth} if w.is_synthetic else {"egru": w.egru}
            out[w.ident] = path
        else:
            out[w.ident] = w.path
    if missing and executor is not None:  # without one (dry run) missing traces stay unhashed
        cache_dir.mkdir(parents=True, exist_ok=True)
        with SweepProgress(len(missing), enabled=progress, label="generating traces") as bar:
            for path, sha, err in executor.imap_unordered(_prepare_item, list(missing.items())):
                if err:
                    what = missing[path].get("synth") or Path(missing[path]["egru"]["model"]).name
                    raise InputError(f"{spec.path}: workload {what}: {err}")
                hashes[path] = sha
                bar.advance(True)
    result = {}
    for w, path in out.items():
        if path not in hashes and Path(path).is_file():
            hashes[path] = file_sha256(path)
        result[w] = (path, hashes.get(path))
    return result


def _prepare_item(item):
    path, params = item
    return prepare_trace(params, path)


def _tasks(spec: SweepSpec, traces: dict) -> tuple[list[dict], list[dict]]:
    """(simulations to store, one per distinct key; design points, each naming its key)."""
    energy: dict = {}
    tasks, members, seen = [], [], set()
    for p in spec.points:
        tpath, tsha = traces[p.workload.ident]
        epath, esha = _energy_for(p, energy)
        key = point_key(p.config, tsha, esha, p.tokens, p.baseline) if tsha else None
        params = dict(p.params)
        if p.workload.is_synthetic:
            params.update({f"workload.{k}": v for k, v in p.workload.synth.items() if f"workload.{k}" not in params})
        elif p.workload.egru is not None:
            e = p.workload.egru
            params.update({"workload.model": Path(e["model"]).stem, "workload.split": e["split"],
                           "workload.start": e["start"], "workload.tokens": e["tokens"]})
        members.append({"idx": p.index, "part": p.part, "workload": p.workload.name, "key": key,
                        "params": canonical_json(params), "label": p.label()})
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        tasks.append({"key": key, "workload": p.workload.name, "config": p.config, "config_source": p.config_source,
                      "energy_table_path": epath, "trace_path": tpath, "trace_sha256": tsha,
                      "trace_ref": (f"{TRACE_CACHE_DIR}/{Path(tpath).name}" if p.workload.is_generated else tpath),
                      "tokens": p.tokens, "baseline": p.baseline, "label": p.label(),
                      "simulator_sha256": simulator_sha256()})
    return tasks, members


def dry_run(spec_path: str | Path, out_dir: str | Path | None = None) -> pd.DataFrame:
    """The expanded design points (nothing runs, nothing is written); ``status`` from a store if any."""
    spec = load_spec(spec_path)
    cache = Path(out_dir) / TRACE_CACHE_DIR if out_dir else Path(".") / TRACE_CACHE_DIR
    _, members = _tasks(spec, _trace_files(spec, cache, executor=None))
    done: dict[str, str] = {}
    if out_dir is not None and (Path(out_dir) / "results.sqlite").is_file():
        with ResultsStore(out_dir, create=False) as st:
            done = {r["key"]: r["status"] for r in st.rows()}
    rows = []
    for m in members:
        status = done.get(m["key"], "todo") if m["key"] else "todo (trace to generate)"
        rows.append({"idx": m["idx"], "part": m["part"], "point": m["label"],
                     "key": (m["key"] or "")[:12], "status": status})
    return pd.DataFrame(rows)


def run_sweep(spec_path: str | Path, out_dir: str | Path, *, workers: int | None = None,
              scheduler: str | None = None, progress: bool | None = None, retry_failed: bool = False,
              connect_timeout_s: float = 10.0, point_fn=None, return_summary: bool = False):
    """Run (or resume) a sweep into ``out_dir``; returns the results DataFrame (see load_results)."""
    spec = load_spec(spec_path)
    executor = make_executor(workers, scheduler, connect_timeout_s)
    out_dir = Path(out_dir)
    ResultsStore.check_owner(out_dir, spec.name)  # another sweep's folder: refused, nothing started
    with executor:  # an unreachable scheduler fails here, before anything is written
        store = ResultsStore(out_dir, spec.name, spec.path)
        try:
            traces = _trace_files(spec, out_dir / TRACE_CACHE_DIR, executor, progress)
            tasks, members = _tasks(spec, traces)
            store.record_spec(spec.text_sha256, len(spec.points))
            store.set_members(members)
            if retry_failed:
                store.forget_errors(t["key"] for t in tasks)
            done = store.done_keys()
            todo = [t for t in tasks if t["key"] not in done]
            fn = functools.partial(run_point, point_fn=point_fn) if point_fn is not None else run_point
            with SweepProgress(len(tasks), len(tasks) - len(todo), enabled=progress, label=spec.name) as bar:
                for row in executor.imap_unordered(fn, (_wire(t) for t in todo), on_lost=_lost_row):
                    store.put(row)  # durable the moment it finishes
                    bar.advance(row["status"] == "ok")
            summary = SweepSummary(spec.name, len(spec.points), len(tasks), len(tasks) - len(todo), len(todo),
                                   bar.failed, bar.elapsed_s, executor.name, executor.workers)
        finally:
            store.close()
    df = load_results(out_dir)
    return (df, summary) if return_summary else df


def _wire(task: dict) -> dict:
    return {k: v for k, v in task.items() if k != "label"}


def _lost_row(task: dict, exc: BaseException) -> dict:
    msg = " ".join(str(exc).split()) or type(exc).__name__
    row = {k: task[k] for k in ("key", "config", "trace_path", "trace_sha256", "tokens")}
    row.update(baseline=int(bool(task["baseline"])), status="error", result=None, trace_stats=None,
               error=f"{type(exc).__name__}: {msg}", wall_s=None)
    return row


# ----------------------------------------------------------------------------------------------
# reading results

_NESTED_DROP = ("config", "per_layer", "trace")


def rows_to_frame(rows: list[dict], raw: bool = False) -> pd.DataFrame:
    records = []
    for r in rows:
        rec = {"key": r["key"], "idx": r["idx"], "part": r["part"], "workload": r["workload"],
               "status": r["status"], "error": r["error"], "wall_s": r["wall_s"],
               "trace_sha256": r["trace_sha256"], "trace_path": r["trace_path"],
               "tokens_requested": r["tokens"], "baseline": bool(r["baseline"])}
        config = json.loads(r["config"])
        rec["arch"] = config.get("name")
        for k, v in json.loads(r["params"]).items():
            rec[f"axis.{k}"] = v
        for k, v in pd.json_normalize(config, sep=".").iloc[0].items():
            rec[f"config.{k}"] = v
        stats = json.loads(r["trace_stats"]) if r["trace_stats"] else {}
        for k in ("weight_sparsity", "activity_sparsity", "perplexity", "pruning"):
            rec[f"trace.{k}"] = stats.get(k)
        if r["result"]:
            res = json.loads(r["result"])
            flat = {k: v for k, v in res.items() if k not in _NESTED_DROP}
            for k, v in pd.json_normalize(flat, sep=".", max_level=3).iloc[0].items():
                rec[k] = v
            for i, layer in enumerate(res.get("per_layer") or []):
                name = layer.get("name", f"layer{i}") if isinstance(layer, dict) else f"layer{i}"
                for k, v in _flat_numbers(layer).items():
                    rec[f"per_layer.{name}.{k}"] = v
            if raw:
                rec["result"] = res
        records.append(rec)
    df = pd.DataFrame.from_records(records)
    if not df.empty:
        df = df.sort_values("idx", kind="stable").reset_index(drop=True)
    return df


def _flat_numbers(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat_numbers(v, f"{prefix}{k}."))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[f"{prefix}{k}"] = v
    return out


def load_results(out_dir: str | Path, raw: bool = False) -> pd.DataFrame:
    """Every stored point of the sweep in ``out_dir`` as one row: axis values (``axis.*``), the
    resolved config (``config.*``), the measured workload (``trace.*``), status/error, and the
    engine's figures flattened with dots (``cycles``, ``latency_cycles.p99``, ``energy_pj.total``...),
    per layer as ``per_layer.<layer>.<figure>`` (``per_layer.layer0.pe_work.max``).
    ``raw=True`` adds the full result dict in column ``result``."""
    with ResultsStore(out_dir, create=False) as st:
        return rows_to_frame(st.point_rows(), raw=raw)


def export_results(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the DataFrame as CSV or Parquet (by extension), atomically."""
    from accelsim.io import atomic_write_bytes
    import io

    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".csv", ".parquet"):
        raise InputError(f"--export {path}: the file name must end in .csv or .parquet")
    if ext == ".csv":
        atomic_write_bytes(path, df.to_csv(index=False).encode("utf-8"))
    else:
        buf = io.BytesIO()
        out = df.copy()
        for c in out.columns:  # lists (events per layer) and mixed objects: store as JSON text
            if out[c].dtype == object and out[c].map(lambda v: isinstance(v, (list, dict))).any():
                out[c] = out[c].map(lambda v: json.dumps(v) if isinstance(v, (list, dict)) else v)
        try:
            out.to_parquet(buf, index=False)
        except Exception:  # mixed-type object columns: fall back to text
            out = out.astype({c: "string" for c in out.columns if out[c].dtype == object})
            buf = io.BytesIO()
            out.to_parquet(buf, index=False)
        atomic_write_bytes(path, buf.getvalue())
    return path
