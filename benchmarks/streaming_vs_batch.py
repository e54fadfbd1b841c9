"""Streaming events against batch commit: cycles and mean token latency of every design point of
a sweep spec, and of the shipped configs on the shipped trace, each run both ways.

    python benchmarks/streaming_vs_batch.py --spec configs/sweeps/paper.yaml \\
        --ptb ../shared/data/ptb --cache runs/streaming-cache --out runs/streaming_vs_batch.csv

A point that cannot stream (temporal mapping, grouped update timing, a delta-design mechanism,
burst arbitration of the DRAM channel, a layer reading its own x_events) is listed with the
one-line reason the engine gives. Only the design points run, not their baselines. Prints a
summary; the CSV has one row per point.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def _both(item):
    """(label, batch cycles, streaming cycles, batch latency, streaming latency, refusal)."""
    label, config, source, trace_path, tokens = item
    from accelsim.config import config_from_dict
    from accelsim.engine.prepare import check_fit, check_streaming, prepare
    from accelsim.engine.schedule import run_schedule
    from accelsim.errors import InputError
    from accelsim.trace import load_trace

    cfg = config_from_dict(config, source)
    trace = load_trace(trace_path)
    tokens = check_fit(cfg, trace, tokens)
    trace = trace.head(tokens) if tokens != trace.steps else trace
    on = cfg.model_copy(update={"event_queue": cfg.event_queue.model_copy(update={"streaming": True})})
    try:
        check_streaming(on, trace)
    except InputError as e:
        return label, None, None, None, None, str(e)
    figures = []
    for c in (cfg, on):
        tl = run_schedule(c, prepare(c, trace), tokens)
        figures.append((tl.cycles, float((tl.token_end - tl.token_start).mean())))
    return label, figures[0][0], figures[1][0], figures[0][1], figures[1][1], ""


def _items(spec_path: str, ptb: str | None, cache: Path):
    from accelsim.sweep.executors import SerialExecutor
    from accelsim.sweep.run import _spec, _tasks, _trace_files

    spec = _spec(spec_path, ptb)
    with SerialExecutor() as ex:
        traces = _trace_files(spec, cache, ex, progress=False)
    tasks, _ = _tasks(spec, traces)
    items = [(f"{t['workload']} {t['label']}", t["config"], t["config_source"], t["trace_path"], t["tokens"])
             for t in tasks]
    from accelsim.config import load_config
    for name in ("arch_a", "arch_b", "edgedrnn"):
        path = REPO / "configs" / f"{name}.yaml"
        cfg = load_config(path).model_dump(mode="json")
        items.insert(0, (f"shipped {name} on workloads/ptb.npz", cfg, str(path),
                         str(REPO / "workloads" / "ptb.npz"), None))
    return items


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default=str(REPO / "configs" / "sweeps" / "paper.yaml"))
    ap.add_argument("--ptb", default=None)
    ap.add_argument("--cache", default="runs/streaming-cache")
    ap.add_argument("--out", default="runs/streaming_vs_batch.csv")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    items = _items(args.spec, args.ptb, Path(args.cache))
    rows = []
    with cf.ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for row in pool.map(_both, items):
            rows.append(row)
            print(" | ".join("" if v is None else str(v) for v in row), flush=True)
    df = pd.DataFrame(rows, columns=["point", "batch_cycles", "streaming_cycles", "batch_latency",
                                     "streaming_latency", "refused"])
    df.to_csv(args.out, index=False)
    ran = df[df.refused == ""]
    ratio = ran.streaming_cycles / ran.batch_cycles
    lat = ran.streaming_latency / ran.batch_latency
    print(f"{len(df)} points: {len(ran)} ran both ways, {len(df) - len(ran)} cannot stream")
    if len(ran):
        print(f"cycles, streaming / batch: min {ratio.min():.4f}, median {ratio.median():.4f}, "
              f"max {ratio.max():.4f}; slower at {(ratio > 1).sum()} points")
        print(f"mean token latency, streaming / batch: min {lat.min():.4f}, median {lat.median():.4f}, "
              f"max {lat.max():.4f}")
    for reason, n in df[df.refused != ""].refused.value_counts().items():
        print(f"{n} x {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
