"""Benchmark: torch-free Numba EGRU inference over the full PTB test set (82,430 tokens), one core.

    python benchmarks/bench_infer.py --ptb PATH [--model workloads/models/egru-ptb-w80.npz]

Target: <= 60 s on one core. Reports the wall time of the whole split as one stream
(batch 1), with and without recording events, after a short warm-up that JIT-compiles the kernel
(Numba's cache makes later processes skip compilation). Not a timed test: results go to
benchmarks/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from accelsim.workloads.infer import pack, run_inference  # noqa: E402
from accelsim.workloads.model_file import load_model  # noqa: E402
from accelsim.workloads.ptb import load_ptb  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ptb", default=None, help="PTB folder (default: $ACCELSIM_PTB)")
    p.add_argument("--model", default=str(REPO / "workloads" / "models" / "egru-ptb-w80.npz"))
    p.add_argument("--repeat", type=int, default=1)
    args = p.parse_args()
    model = load_model(args.model)
    ids = load_ptb(args.ptb).test
    t0 = time.perf_counter()
    packed = pack(model)
    t_pack = time.perf_counter() - t0
    run_inference(model, ids, tokens=64, packed=packed)  # JIT warm-up
    out = {"model": Path(args.model).name, "sizes": model.sizes, "tokens": int(len(ids)),
           "pack_s": round(t_pack, 3), "machine": platform.processor() or platform.machine()}
    for record in (False, True):
        best = None
        for _ in range(args.repeat):
            r = run_inference(model, ids, record_events=record, packed=packed)
            best = r.wall_s if best is None else min(best, r.wall_s)
        key = "with_events" if record else "no_events"
        out[f"{key}_s"] = round(best, 2)
        out[f"{key}_tokens_per_s"] = round(len(ids) / best)
        out["perplexity"] = round(r.perplexity, 3)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
