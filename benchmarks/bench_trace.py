"""Foundation speed targets: `trace synth` at paper scale and loading a ~100 MB trace.

Run: python benchmarks/bench_trace.py        (figures go to benchmarks/RESULTS.md by hand)
Targets: synth 750-1350-1350-750 x 10,000 tokens <= 10 s; load + validate 100 MB <= 2 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from accelsim.trace import load_trace


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "paper.npz")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "accelsim", "trace", "synth", "--tokens", "10000",
                        "--out", out], check=True, capture_output=True)
        synth_s = time.perf_counter() - t0
        print(f"trace synth paper scale, 10,000 tokens (CLI, incl. interpreter start): {synth_s:.2f} s, "
              f"{os.path.getsize(out) / 1e6:.1f} MB")
        # ~100 MB: layers 750-2048-2048-750 at 50% weight sparsity, 10,000 tokens
        big = os.path.join(d, "big.npz")
        subprocess.run([sys.executable, "-m", "accelsim", "trace", "synth", "--tokens", "10000",
                        "--layers", "750,2048,2048,750", "--weight-sparsity", "0.5", "--out", big], check=True, capture_output=True)
        size = os.path.getsize(big)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            load_trace(big)
            best = min(best, time.perf_counter() - t0)
        print(f"load + validate + sha256 of a {size / 1e6:.1f} MB trace: {best:.2f} s (best of 3)")


if __name__ == "__main__":
    main()
