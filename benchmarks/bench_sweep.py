"""Sweep speed: the 100-point sweep of configs/sweeps/bench100.yaml (paper-scale synthetic traces,
2,000 tokens each) on 1 and on 2 local worker processes.

    python benchmarks/bench_sweep.py [--workers 1 2] [--keep DIR]

The four synthetic traces are generated once (timed apart) and shared by both runs, so the two
timings compare the simulation of the 100 points, from worker start-up to the last stored row.
Numba's on-disk cache is warm (run any `accelsim run` once first); each fresh worker process
loads the compiled kernels from it instead of compiling. Prints a markdown table for
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SPEC = REPO / "configs" / "sweeps" / "bench100.yaml"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--keep", help="keep the results folders under this folder")
    args = ap.parse_args()

    from accelsim.sweep import run_sweep
    from accelsim.sweep.run import TRACE_CACHE_DIR, _trace_files
    from accelsim.sweep.executors import make_executor
    from accelsim.sweep.spec import load_spec

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    root.mkdir(parents=True, exist_ok=True)
    spec = load_spec(SPEC)
    cache = root / "traces"
    t0 = time.perf_counter()
    with make_executor(2, None) as ex:
        _trace_files(spec, cache, ex, progress=False)
    synth_s = time.perf_counter() - t0

    rows = []
    for w in args.workers:
        out = root / f"w{w}"
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(cache, out / TRACE_CACHE_DIR)
        t0 = time.perf_counter()
        df, s = run_sweep(SPEC, out, workers=w, progress=False, return_summary=True)
        wall = time.perf_counter() - t0
        assert s.ran == 100 and (df["status"] == "ok").all(), df["error"].dropna().tolist()[:3]
        rows.append((w, wall, s.elapsed_s, df["wall_s"].sum(), df["cycles"].sum()))
        print(f"workers={w}: {wall:.1f} s wall (points {s.elapsed_s:.1f} s, sum of per-point wall "
              f"{df['wall_s'].sum():.1f} s)", flush=True)
    # the stored results do not depend on the executor
    if len(rows) > 1:
        from accelsim.sweep.store import ResultsStore
        stores = []
        for w in args.workers:
            with ResultsStore(root / f"w{w}", create=False) as st:
                stores.append({r["key"]: r["result"] for r in st.rows()})
        assert all(s == stores[0] for s in stores[1:]), "results differ between executors"

    print()
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}; synthesis of the 4 paper-scale traces (2 workers): {synth_s:.1f} s")
    print()
    print("| workers | wall (s) | per point (s) | speed-up |")
    print("|---|---|---|---|")
    base = rows[0][1]
    for w, wall, _, _, _ in rows:
        print(f"| {w} | {wall:.1f} | {wall / 100:.2f} | {base / wall:.2f}x |")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
