"""`accelsim sweep`: run a design-space sweep (resumable) on local processes or a Dask cluster."""

from __future__ import annotations

import argparse
import sys

# Exit status when the sweep ran but some design points are stored as failed (0: all succeeded,
# 2: bad input, nothing run).
EXIT_POINTS_FAILED = 3

DESCRIPTION = """\
Run a design-space sweep described by a YAML spec (see docs/sweeps.md and configs/sweeps/).
Each finished point is stored at once in DIR/results.sqlite, keyed by the hash of its resolved
config and trace; running the same command again skips finished points, so an interrupted
sweep resumes where it stopped. Points run on local worker processes (--workers), or on an
existing Dask cluster (--scheduler tcp://HOST:PORT). A failing point is stored with its error
and the sweep goes on. One sweep at a time writes into a results folder (DIR/.lock)."""

EPILOG = """\
exit status:
  0  every design point of the spec is stored as succeeded
  2  bad input (one line on stderr): nothing was run
  3  the sweep ran, but some design points are stored as failed (one line on stderr says how
     many and the first error; see the 'error' column, fix, and run again with --retry-failed)"""


def register(sub) -> None:
    p = sub.add_parser("sweep", help="run a design-space sweep (resumable; local processes or Dask)",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", metavar="SPEC", help="sweep spec YAML (e.g. configs/sweeps/paper.yaml)")
    p.add_argument("--out", metavar="DIR", help="results folder (default: runs/<sweep name>)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="local worker processes (default: CPU count, at most 8; 1 runs in this process)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run on an existing Dask distributed cluster instead of local processes")
    p.add_argument("--connect-timeout", type=float, default=5.0, metavar="S",
                   help="seconds to wait for the Dask scheduler (default 5)")
    p.add_argument("--ptb", metavar="PATH",
                   help="PTB folder for 'egru' and 'delta' workloads that do not name one (default: $ACCELSIM_PTB)")
    p.add_argument("--dry-run", action="store_true",
                   help="list the design points and their status, check that every workload can be read or "
                        "made (PTB folder, trace and model files); nothing runs or is written")
    p.add_argument("--retry-failed", action="store_true", help="run again the points stored as failed")
    p.add_argument("--force-new", action="store_true",
                   help="when DIR holds results of another version of this spec: move that store aside "
                        "(DIR/results-<time>.sqlite, nothing deleted) and start a fresh one, carrying over "
                        "the finished simulations both versions share; without it such a folder is refused")
    p.add_argument("--export", metavar="FILE", help="after the sweep, write all results to FILE (.csv or .parquet)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from accelsim.errors import InputError
    from accelsim.io import check_output_dir, check_output_file
    from accelsim.sweep import export_results, load_spec, run_sweep

    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers: must be >= 1 (got {args.workers})")
    if args.export and Path(args.export).suffix.lower() not in (".csv", ".parquet"):
        raise InputError(f"--export {args.export}: the file name must end in .csv or .parquet")
    spec = load_spec(args.spec, ptb=args.ptb, check_points=False)  # validated as the points are made
    out = args.out or f"runs/{spec.name}"
    if args.dry_run:
        return _dry_run(spec, out)
    check_output_dir(out, "--out")
    if args.export:
        check_output_file(args.export, "--export", inputs=[args.spec, Path(out) / "results.sqlite"])
    df, s = run_sweep(spec, out, workers=args.workers, scheduler=args.scheduler,
                      progress=False if args.no_progress else None, retry_failed=args.retry_failed,
                      connect_timeout_s=args.connect_timeout, return_summary=True, force_new=args.force_new)
    if s.archived:
        print(f"the previous results are kept in {s.archived}; {s.carried} finished simulation(s) carried over")
    print(f"sweep '{s.name}': {s.points} design points, {s.unique} distinct simulations ({s.skipped} already "
          f"stored, {s.ran} run, {s.failed} failed now) in {s.elapsed_s:.1f} s on {s.executor} x{s.workers}; "
          f"results in {out}/results.sqlite")
    if args.export:
        export_results(df, args.export)
        print(f"exported {len(df)} rows to {args.export}")
    failed = df[df["status"] == "error"] if len(df) else df
    if len(failed):
        first = " ".join(str(failed["error"].iloc[0]).split())
        first = first if len(first) <= 200 else first[:197] + "..."
        print(f"accelsim: sweep '{s.name}': {len(failed)} of {s.points} design points failed (first: {first}); "
              f"see the 'error' column, then run again with --retry-failed", file=sys.stderr)
        return EXIT_POINTS_FAILED
    return 0


def _dry_run(spec, out: str) -> int:
    """Stream the points as plain lines (constant memory), then the counts; unreachable workloads
    make it an input error (exit 2) after the listing."""
    try:
        return _list_points(spec, out)
    except BrokenPipeError:  # `accelsim sweep ... --dry-run | head`: the reader has seen enough
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _list_points(spec, out: str) -> int:
    from accelsim.sweep.run import iter_dry_run

    n = spec.n_points
    w_idx = len(str(max(n - 1, 0)))
    w_part = max(4, *(len(p) for p in spec.parts))
    counts: dict[str, int] = {}
    write = sys.stdout.write
    write(f"sweep '{spec.name}': {n} design points ({spec.path})\n")
    write(f"{'idx':>{w_idx}}  {'part':<{w_part}}  {'status':<24}  {'key':<12}  point\n")
    for r in iter_dry_run(spec, out):
        counts[r["status"]] = counts.get(r["status"], 0) + 1
        write(f"{r['idx']:>{w_idx}}  {r['part']:<{w_part}}  {r['status']:<24}  {r['key'] or '-':<12}  {r['point']}\n")
    order = ("done", "failed", "todo", "todo (trace to generate)", "unreachable")
    parts = [f"{counts[k]} {k}" for k in order if counts.get(k)]
    write(f"sweep '{spec.name}': {n} design points: {', '.join(parts)}\n")
    sys.stdout.flush()
    spec.check_reachable()
    return 0
