"""Run a sweep: spec -> workloads ready -> points not yet stored -> executor -> store, with progress.

Python API::

    from accelsim.sweep import run_sweep, load_results
    df = run_sweep("configs/sweeps/paper.yaml", "runs/paper", workers=2)   # a pandas DataFrame
    df = load_results("runs/paper")                                        # read back, no running

Everything that can be refused is refused before anything is written or started: the spec and
every design point, the output folder, the scheduler address, workloads that cannot be read or
made (a missing PTB folder, trace or model file), a folder that holds another sweep or another
version of this one, a folder another sweep is writing into (``<out>/.lock``).
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd

from accelsim.config import energy_table_path, load_energy_table
from accelsim.errors import InputError
from accelsim.io import check_output_dir, file_sha256
from accelsim.sweep import lock as _lock
from accelsim.sweep.executors import make_executor
from accelsim.sweep.keys import canonical_json, point_key, simulator_sha256  # noqa: F401 - re-exported
from accelsim.sweep.progress import SweepProgress
from accelsim.sweep.spec import DesignPoint, SweepSpec, load_spec
from accelsim.sweep.store import ResultsStore, archive_store, spec_mismatch, store_path, stored_meta
from accelsim.sweep.traces import generated_path
from accelsim.sweep.worker import prepare_trace, run_point

TRACE_CACHE_DIR = "traces"


@dataclass
class SweepSummary:
    name: str
    points: int          # design points in the spec
    unique: int          # distinct keys among them (identical simulations run once)
    skipped: int         # already in the store (carried over ones included)
    ran: int
    failed: int          # failed in this run
    elapsed_s: float
    executor: str
    workers: int
    carried: int = 0     # finished simulations copied from the archived store (--force-new)
    archived: str | None = None   # where --force-new moved the previous store


def _spec(spec: str | Path | SweepSpec, ptb=None) -> SweepSpec:
    return spec if isinstance(spec, SweepSpec) else load_spec(spec, ptb=ptb, check_points=False)


def _energy_for(point: DesignPoint, cache: dict) -> tuple[str, str]:
    ck = (point.config_source, point.arch.energy_table)
    if ck not in cache:
        path = energy_table_path(point.arch, point.config_source)
        load_energy_table(path)  # InputError now, not one error row per point later
        cache[ck] = (str(path.resolve()), file_sha256(path))
    return cache[ck]


def _plan(spec: SweepSpec, cache_dir: Path) -> tuple[dict, dict]:
    """One pass over the design points (each config validated; nothing written): workload ->
    trace path, and the generated traces still to make (path -> what makes it)."""
    paths: dict[str, str] = {}
    missing: dict[str, dict] = {}
    for p in spec.iter_points():
        w = p.workload
        ident = w.ident
        if ident in paths:
            continue
        if w.is_generated:
            path = str(generated_path(cache_dir, w).resolve())
            if not Path(path).is_file():
                missing[path] = {w.kind: getattr(w, w.kind)}   # synth, egru or delta
            paths[ident] = path
        else:
            paths[ident] = w.path
    return paths, missing


def _check_ptb_content(missing: dict) -> None:
    """The PTB folders of EGRU and delta traces still to make are read and checked once, here,
    before any trace is made (a wrong folder fails now, not after the synthetic traces)."""
    folders = {params[k].get("ptb") for params in missing.values() for k in ("egru", "delta") if k in params}
    if folders:
        from accelsim.workloads.ptb import load_ptb

        for folder in folders:
            load_ptb(folder)


def _make_traces(spec: SweepSpec, paths: dict, missing: dict, cache_dir: Path, executor, progress) -> dict:
    """Generate the missing traces on the executor; workload ident -> (path, sha256)."""
    hashes: dict[str, str] = {}
    if missing:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with SweepProgress(len(missing), enabled=progress, label="generating traces") as bar:
            for path, sha, err in executor.imap_unordered(_prepare_item, list(missing.items())):
                if err:
                    m = missing[path]
                    what = m.get("synth") or Path((m.get("egru") or m["delta"])["model"]).name
                    raise InputError(f"{spec.path}: workload {what}: {err}")
                hashes[path] = sha
                bar.advance(True)
    out = {}
    for ident, path in paths.items():
        if path not in hashes and Path(path).is_file():
            hashes[path] = file_sha256(path)
        out[ident] = (path, hashes.get(path))
    return out


def _trace_files(spec: SweepSpec, cache_dir: Path, executor=None, progress: bool | None = None) -> dict:
    """Workload -> (path, sha256). Generated traces are made (on the executor) if missing; without
    an executor missing traces stay unhashed (sha256 None)."""
    paths, missing = _plan(spec, cache_dir)
    return _make_traces(spec, paths, missing if executor is not None else {}, cache_dir, executor, progress)


def _prepare_item(item):
    path, params = item
    return prepare_trace(params, path)


def _member_params(p: DesignPoint) -> str:
    params = dict(p.params)
    if p.workload.is_synthetic:
        params.update({f"workload.{k}": v for k, v in p.workload.synth.items() if f"workload.{k}" not in params})
    elif p.workload.egru is not None:
        e = p.workload.egru
        params.update({"workload.model": Path(e["model"]).stem, "workload.split": e["split"],
                       "workload.start": e["start"], "workload.tokens": e["tokens"]})
    elif p.workload.delta is not None:   # as egru, with the thresholds (unless an axis set them)
        e = p.workload.delta
        params.update({"workload.model": Path(e["model"]).stem, "workload.split": e["split"],
                       "workload.start": e["start"], "workload.tokens": e["tokens"]})
        params.update({f"workload.{k}": e[k] for k in ("theta_x", "theta_h") if f"workload.{k}" not in params})
    return canonical_json(params)


def _tasks(spec: SweepSpec, traces: dict) -> tuple[list[dict], list[dict]]:
    """(simulations to store, one per distinct key; design points, each naming its key)."""
    energy: dict = {}
    tasks, members, seen = [], [], set()
    for p in spec.iter_points():
        tpath, tsha = traces[p.workload.ident]
        epath, esha = _energy_for(p, energy)
        key = point_key(p.config, tsha, esha, p.tokens, p.baseline, p.baseline_kind) if tsha else None
        members.append({"idx": p.index, "part": p.part, "workload": p.workload.name, "key": key,
                        "params": _member_params(p), "label": p.label()})
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        tasks.append({"key": key, "workload": p.workload.name, "config": p.config, "config_source": p.config_source,
                      "energy_table_path": epath, "trace_path": tpath, "trace_sha256": tsha,
                      "trace_ref": (f"{TRACE_CACHE_DIR}/{Path(tpath).name}" if p.workload.is_generated else tpath),
                      "tokens": p.tokens, "baseline": p.baseline, "baseline_kind": p.baseline_kind,
                      "label": p.label(),
                      "simulator_sha256": simulator_sha256()})
    return tasks, members


# ----------------------------------------------------------------------------------------------
# dry run: streamed, constant memory


DRY_RUN_COLUMNS = ("idx", "part", "point", "key", "status")


def iter_dry_run(spec: str | Path | SweepSpec, out_dir: str | Path | None = None, ptb=None) -> Iterator[dict]:
    """The design points one at a time (nothing runs, nothing is written), each with its status in
    ``out_dir``'s store: ``done``, ``failed``, ``todo``, ``todo (trace to generate)``, or
    ``unreachable`` (its workload cannot be read or made: see :meth:`SweepSpec.unreachable`).
    Keys are shown when ``out_dir`` holds a store (they need every point's trace hash)."""
    spec = _spec(spec, ptb)
    unreachable = {name for name, _ in spec.unreachable()}
    store = None
    if out_dir is not None and store_path(out_dir).is_file():
        meta = stored_meta(out_dir)
        if meta is not None and meta.get("name") in (None, spec.name):
            store = ResultsStore(out_dir, create=False)
    cache = Path(out_dir) / TRACE_CACHE_DIR if out_dir else Path(".") / TRACE_CACHE_DIR
    traces: dict[str, str | None] = {}   # workload ident -> trace sha256 ("" unhashed), None: not made yet
    energy: dict = {}
    try:
        for p in spec.iter_points():
            w = p.workload
            key, status = "", "todo"
            if w.name in unreachable:
                status = "unreachable"
            elif w.is_generated or store is not None:
                ident = w.ident
                sha = traces.get(ident, False)
                if sha is False:
                    if len(traces) > 4096:
                        traces.clear()
                    path = str(generated_path(cache, w)) if w.is_generated else w.path
                    exists = os.path.isfile(path)
                    sha = traces[ident] = (file_sha256(path) if store is not None else "") if exists else None
                if sha is None:
                    status = "todo (trace to generate)"
                elif store is not None:
                    key = point_key(p.config, sha, _energy_for(p, energy)[1], p.tokens, p.baseline,
                                    p.baseline_kind)
                    status = {"ok": "done", "error": "failed"}.get(store.status_of(key), "todo")
            yield {"idx": p.index, "part": p.part, "point": p.label(), "key": key[:12], "status": status}
    finally:
        if store is not None:
            store.close()


def dry_run(spec_path: str | Path | SweepSpec, out_dir: str | Path | None = None, ptb=None) -> pd.DataFrame:
    """:func:`iter_dry_run` as a DataFrame (every point in memory: for sweeps of a sensible size)."""
    return pd.DataFrame(list(iter_dry_run(spec_path, out_dir, ptb)), columns=list(DRY_RUN_COLUMNS))


# ----------------------------------------------------------------------------------------------
# running


def _refuse_other_spec(out_dir: Path, spec: SweepSpec, meta: dict | None, force_new: bool) -> bool:
    """Is the store in ``out_dir`` another version of this sweep? Refused unless ``force_new``."""
    if meta is None:
        return False
    if meta.get("name") not in (None, spec.name):
        raise InputError(f"{out_dir}: holds the results of sweep '{meta['name']}', not '{spec.name}'; "
                         f"use another --out folder (nothing was changed)")
    other = spec_mismatch(meta, spec.spec_sha256, spec.text_sha256)
    if other is None:
        return False
    if not force_new:
        raise InputError(f"{out_dir}: holds the results of another version of sweep '{spec.name}' ({other}); "
                         f"run with --force-new to start a fresh store there (the old one is kept as "
                         f"results-<time>.sqlite and the simulations both share are carried over), "
                         f"or use another --out folder (nothing was changed)")
    return True


def run_sweep(spec_path: str | Path | SweepSpec, out_dir: str | Path, *, workers: int | None = None,
              scheduler: str | None = None, progress: bool | None = None, retry_failed: bool = False,
              connect_timeout_s: float = 5.0, point_fn=None, return_summary: bool = False,
              ptb: str | Path | None = None, force_new: bool = False):
    """Run (or resume) a sweep into ``out_dir``; returns the results DataFrame (see load_results).

    ``ptb``: the PTB folder for EGRU and delta workloads (else $ACCELSIM_PTB). ``force_new``: when
    ``out_dir`` holds results of another version of this spec, move that store aside
    (``results-<time>.sqlite``, nothing deleted) and start a fresh one, carrying over the finished
    simulations the new spec shares with it; without it such a folder is refused.
    """
    spec = _spec(spec_path, ptb)
    out_dir = Path(out_dir)
    check_output_dir(out_dir, "--out")
    executor = make_executor(workers, scheduler, connect_timeout_s)   # checked; nothing started yet
    spec.check_reachable()                                            # PTB folder, traces, models
    _refuse_other_spec(out_dir, spec, stored_meta(out_dir), force_new)
    _lock.check_free(out_dir)
    cache_dir = out_dir / TRACE_CACHE_DIR
    paths, missing = _plan(spec, cache_dir)                           # every design point validated
    _check_ptb_content(missing)
    import accelsim.engine  # noqa: F401 - an engine that does not import fails here, loudly
    with executor:  # an unreachable scheduler fails here, before anything is written
        out_dir.mkdir(parents=True, exist_ok=True)
        with _lock.FolderLock(out_dir, spec.name):
            archived = None
            if _refuse_other_spec(out_dir, spec, stored_meta(out_dir), force_new):
                archived = archive_store(out_dir)
            store = ResultsStore(out_dir, spec.name, spec.path)
            try:
                store.record_spec(spec.spec_sha256, spec.text_sha256, spec.n_points, spec.path)
                traces = _make_traces(spec, paths, missing, cache_dir, executor, progress)
                tasks, members = _tasks(spec, traces)
                store.set_members(members)
                del members
                carried = store.carry_over(archived) if archived is not None else 0
                if retry_failed:
                    store.forget_errors(t["key"] for t in tasks)
                done = store.done_keys()
                todo = [t for t in tasks if t["key"] not in done]
                fn = functools.partial(run_point, point_fn=point_fn) if point_fn is not None else run_point
                with SweepProgress(len(tasks), len(tasks) - len(todo), enabled=progress, label=spec.name) as bar:
                    for row in executor.imap_unordered(fn, (_wire(t) for t in todo), on_lost=_lost_row):
                        store.put(row)  # durable the moment it finishes
                        bar.advance(row["status"] == "ok")
                summary = SweepSummary(spec.name, spec.n_points, len(tasks), len(tasks) - len(todo), len(todo),
                                       bar.failed, bar.elapsed_s, executor.name, executor.workers, carried,
                                       str(archived) if archived is not None else None)
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
# trace_stats keys shown as trace.* columns (accelsim.sweep.worker.trace_stats; None where a
# store written before a key existed, or a trace without it, has none): the measured sparsities,
# the perplexity and pruning, then which workload made the trace: its kind (synthetic, egru,
# delta), the model file, a delta network's thresholds and the fraction of input / recurrent
# columns it sent per layer (the trace meta's x_activity / h_activity).
TRACE_STATS_COLUMNS = ("weight_sparsity", "activity_sparsity", "perplexity", "pruning", "kind", "model",
                       "theta_x", "theta_h", "x_activity", "h_activity")


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
        for k in TRACE_STATS_COLUMNS:
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
    """Write the DataFrame as CSV or Parquet (by extension): a file is replaced atomically, a
    device or fifo is written into (see :func:`accelsim.io.write_output_bytes`)."""
    import io

    from accelsim.io import write_output_bytes

    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".csv", ".parquet"):
        raise InputError(f"--export {path}: the file name must end in .csv or .parquet")
    if ext == ".csv":
        write_output_bytes(path, df.to_csv(index=False).encode("utf-8"))
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
        write_output_bytes(path, buf.getvalue())
    return path
