"""`accelsim sweep`: run a design-space sweep (resumable) on local processes or a Dask cluster."""

from __future__ import annotations

import sys

DESCRIPTION = """\
Run a design-space sweep described by a YAML spec (see docs/sweeps.md and configs/sweeps/).
Each finished point is stored at once in OUT/results.sqlite, keyed by the hash of its resolved
config and trace; running the same command again skips finished points, so an interrupted
sweep resumes where it stopped. Points run on local worker processes (--workers), or on an
existing Dask cluster (--scheduler tcp://HOST:PORT). A failing point is stored with its error
and the sweep goes on."""


def register(sub) -> None:
    p = sub.add_parser("sweep", help="run a design-space sweep (resumable; local processes or Dask)",
                       description=DESCRIPTION)
    p.add_argument("spec", metavar="SPEC", help="sweep spec YAML (e.g. configs/sweeps/paper.yaml)")
    p.add_argument("--out", metavar="DIR", help="results folder (default: runs/<sweep name>)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="local worker processes (default: CPU count, at most 8; 1 runs in this process)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run on an existing Dask distributed cluster instead of local processes")
    p.add_argument("--connect-timeout", type=float, default=10.0, metavar="S",
                   help="seconds to wait for the Dask scheduler (default 10)")
    p.add_argument("--dry-run", action="store_true", help="list the design points and exit; nothing runs")
    p.add_argument("--retry-failed", action="store_true", help="run again the points stored as failed")
    p.add_argument("--export", metavar="FILE", help="after the sweep, write all results to FILE (.csv or .parquet)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _out_dir(args, name: str) -> str:
    return args.out or f"runs/{name}"


def run(args) -> int:
    from pathlib import Path

    from accelsim.errors import InputError
    from accelsim.sweep import dry_run, export_results, load_spec, run_sweep

    if args.export and Path(args.export).suffix.lower() not in (".csv", ".parquet"):
        raise InputError(f"--export {args.export}: the file name must end in .csv or .parquet")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers: must be >= 1 (got {args.workers})")
    spec = load_spec(args.spec)
    out = _out_dir(args, spec.name)
    if args.dry_run:
        df = dry_run(args.spec, out)
        _print_points(df, spec.name, len(spec.points))
        return 0
    df, s = run_sweep(args.spec, out, workers=args.workers, scheduler=args.scheduler,
                      progress=False if args.no_progress else None, retry_failed=args.retry_failed,
                      connect_timeout_s=args.connect_timeout, return_summary=True)
    failed_total = int((df["status"] == "error").sum()) if len(df) else 0
    print(f"sweep '{s.name}': {s.points} design points, {s.unique} distinct simulations ({s.skipped} already stored, {s.ran} run, {s.failed} failed "
          f"now) in {s.elapsed_s:.1f} s on {s.executor} x{s.workers}; results in {out}/results.sqlite")
    if failed_total:
        print(f"{failed_total} point(s) stored as failed; see the 'error' column "
              f"(accelsim sweep {args.spec} --out {out} --retry-failed to run them again)")
    if args.export:
        export_results(df, args.export)
        print(f"exported {len(df)} rows to {args.export}")
    return 0


def _print_points(df, name: str, n_points: int) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"sweep '{name}': {n_points} design points, {len(df)} distinct simulations")
    for c in ("idx", "part", "point", "key", "status"):
        table.add_column(c)
    for r in df.itertuples(index=False):
        table.add_row(str(r.idx), r.part, r.point, r.key, r.status)
    Console(file=sys.stdout, width=200).print(table)
