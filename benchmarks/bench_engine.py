"""Engine speed benchmark. Not a timed test: run it, read the figures, record them in
benchmarks/RESULTS.md.

    python benchmarks/bench_engine.py            # everything (a few minutes)
    python benchmarks/bench_engine.py --quick    # 10k tokens and DRAM scaling only

Figures: cold start (Numba compile) without and with the on-disk cache; paper-scale synthetic
trace (750->1350->1350->750, weight sparsity 0.8, activity sparsity 0.85) on arch_a, 10,000
tokens, wall time after warm-up, simulated cycles/s and events/s; the same with weights streamed
from DRAM and a DRAM 10x slower (cost must grow with events, not cycles); the PTB test-set
length (82,430 tokens) wall time and peak memory, in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PTB_TEST_TOKENS = 82430


def _child(code: str, env_extra: dict | None = None) -> dict:
    env = dict(os.environ, **(env_extra or {}))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=REPO, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


COLD = """
import json, time
t0 = time.perf_counter()
from accelsim.config import load_config, load_energy_table
from accelsim.engine import simulate
from tests.reference.tracegen import random_trace
cfg = load_config("configs/arch_a.yaml")
r = simulate(cfg, random_trace(), load_energy_table("configs/energy/45nm.yaml"))
print(json.dumps({"seconds": time.perf_counter() - t0}))
"""

BIG = """
import json, resource, time
from accelsim.config import load_config, load_energy_table
from accelsim.engine import simulate
from accelsim.trace.synth import synthesize
t0 = time.perf_counter()
tr = synthesize(tokens=%d, seed=0)
t_synth = time.perf_counter() - t0
cfg = load_config("configs/arch_a.yaml"); tab = load_energy_table("configs/energy/45nm.yaml")
simulate(cfg, tr.head(50), tab)   # warm-up (JIT from cache)
t0 = time.perf_counter()
r = simulate(cfg, tr, tab)
wall = time.perf_counter() - t0
print(json.dumps({"synth_s": t_synth, "wall_s": wall, "cycles": r["cycles"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _timed(fn, repeat=5):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tokens", type=int, default=10000)
    args = ap.parse_args()
    from accelsim.config import load_config, load_energy_table
    from accelsim.engine import simulate
    from accelsim.trace.synth import synthesize

    fig = {}
    if not args.quick:
        with tempfile.TemporaryDirectory() as cache:
            fig["cold_start_no_cache_s"] = _child(COLD, {"NUMBA_CACHE_DIR": cache})["seconds"]
            fig["cold_start_with_cache_s"] = _child(COLD, {"NUMBA_CACHE_DIR": cache})["seconds"]
        print(f"cold start: {fig['cold_start_no_cache_s']:.1f} s compiling, "
              f"{fig['cold_start_with_cache_s']:.1f} s with the cache", flush=True)

    t0 = time.perf_counter()
    tr = synthesize(tokens=args.tokens, seed=0)
    print(f"synthesised {args.tokens} paper-scale tokens in {time.perf_counter() - t0:.1f} s", flush=True)
    tab = load_energy_table(REPO / "configs/energy/45nm.yaml")
    cfg = load_config(REPO / "configs/arch_a.yaml")
    simulate(cfg, tr.head(50), tab)  # warm-up
    wall, r = _timed(lambda: simulate(cfg, tr, tab))
    col_events = sum(l["column_events"] for l in r["per_layer"])
    trace_events = sum(r["events"].values())
    fig["paper_10k"] = {"tokens": args.tokens, "wall_s": wall, "cycles": r["cycles"],
                        "cycles_per_s": r["cycles"] / wall, "column_events": col_events,
                        "column_events_per_s": col_events / wall, "trace_events": trace_events,
                        "trace_events_per_s": trace_events / wall}
    print(f"arch_a, {args.tokens} tokens: {wall:.2f} s wall (best of 5), {r['cycles']:,} cycles "
          f"= {r['cycles'] / wall:,.0f} cycles/s, {col_events / wall:,.0f} column events/s, "
          f"{trace_events / wall:,.0f} trace events/s", flush=True)

    fast = cfg.model_copy(update={"weight_storage": "dram", "dram": cfg.dram.model_copy(
        update={"bandwidth_bytes_per_cycle": 40, "latency_cycles": 100})})
    slow = cfg.model_copy(update={"weight_storage": "dram", "dram": cfg.dram.model_copy(
        update={"bandwidth_bytes_per_cycle": 4, "latency_cycles": 1000})})
    simulate(fast, tr.head(50), tab)
    # interleaved, best of 5 each: the machine is shared, so both see the same background load
    w_fast = w_slow = float("inf")
    for _ in range(5):
        w, r_fast = _timed(lambda: simulate(fast, tr, tab), repeat=1)
        w_fast = min(w_fast, w)
        w, r_slow = _timed(lambda: simulate(slow, tr, tab), repeat=1)
        w_slow = min(w_slow, w)
    fig["dram_scaling"] = {"fast": {"wall_s": w_fast, "cycles": r_fast["cycles"]},
                           "slow_10x": {"wall_s": w_slow, "cycles": r_slow["cycles"]},
                           "cycles_ratio": r_slow["cycles"] / r_fast["cycles"],
                           "wall_change": w_slow / w_fast - 1}
    print(f"DRAM streaming: {w_fast:.2f} s for {r_fast['cycles']:,} cycles; DRAM 10x slower: "
          f"{w_slow:.2f} s for {r_slow['cycles']:,} cycles ({r_slow['cycles'] / r_fast['cycles']:.1f}x "
          f"cycles, wall {100 * (w_slow / w_fast - 1):+.1f}%)", flush=True)

    if not args.quick:
        big = _child(BIG % PTB_TEST_TOKENS)
        fig["ptb_test_length"] = dict(big, tokens=PTB_TEST_TOKENS)
        print(f"{PTB_TEST_TOKENS} tokens: {big['wall_s']:.1f} s wall, peak RSS "
              f"{big['peak_rss_mb']:,.0f} MB (synthesis {big['synth_s']:.1f} s, not counted)", flush=True)
    print(json.dumps(fig, indent=2))


if __name__ == "__main__":
    main()
