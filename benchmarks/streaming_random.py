"""Streaming events against batch commit on small random designs with weights in DRAM and a
queue no step overflows (1,024 events): how often, and by how much, streaming takes more cycles.

    python benchmarks/streaming_random.py            # 600 designs, seeds 0..599

Each seed draws a spatial design (PE array, banks, formats, DRAM channel with phase arbitration
and its issue, delivery and request-limit options, update unit, decoder) and a random trace of 2
to 3 layers of 2 to 16 units, and runs it with and without ``event_queue.streaming``.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def design(rng: random.Random) -> dict:
    width = rng.choice([8, 16, 32])
    return {
        "precision": {"weight_bits": rng.randint(2, 8), "index_bits": rng.randint(2, 8),
                      "value_bits": 16, "accumulator_bits": 32},
        "pe": {"count": rng.randint(1, 4), "mac_lanes": rng.randint(1, 3),
               "fifo_depth": rng.randint(1, 3), "mac_latency_cycles": rng.randint(1, 3)},
        "dispatcher": {"events_per_cycle": rng.randint(1, 4), "pointer_read_cycles": rng.randint(1, 3)},
        "weight_sram": {"banks": rng.choice([1, 2, 4]), "bank_width_bits": width,
                        "capacity_bytes": 1 << 20, "read_latency_cycles": rng.randint(1, 2)},
        "layout": rng.choice(["row_interleaved", "blocked"]),
        "weight_format": rng.choice(["dense", "csc", "bitmap", "csc_relative"]),
        "weight_storage": rng.choice(["sram", "dram"]),
        "event_queue": {"depth": rng.choice([1, 1, 2, 3, 5, 16]), "event_bits": 32, "streaming": True},
        "update_unit": {"lanes": rng.randint(1, 8), "latency_cycles": rng.randint(1, 6),
                        "encoder_events_per_cycle": rng.randint(1, 4), "timing": "pipelined"},
        "event_scan": {"enabled": False},
        "dram": {"bandwidth_bytes_per_cycle": rng.choice([1, 2, 4, 8]),
                 "latency_cycles": rng.randint(0, 20), "burst_bytes": rng.choice([1, 2, 4, 8]),
                 "issue": rng.choice(["phase_start", "on_dispatch"]),
                 "restart_bubble_cycles": rng.randint(0, 2),
                 "delivery": rng.choice(["store_and_forward", "cut_through"]),
                 "stream_efficiency": rng.choice([1.0, 0.5]),
                 "max_outstanding": rng.choice([None, 1, 2, 3]), "arbitration": "phase"},
        "phases": "separate", "bias_column": False,
        "startup_cycles": rng.choice([0, 0, 1, 5]),
        "mapping": "spatial",
        "skip_activity": rng.random() < 0.7,
        "skip_weights": rng.random() < 0.5,
        "include_decoder": rng.random() < 0.6,
    }


def main(argv=None) -> int:
    from accelsim.config import config_from_dict
    from tests.reference.compare import engine_figures
    from tests.reference.tracegen import random_trace

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=600)
    args = ap.parse_args(argv)
    slower, worst = 0, None
    for s in range(args.designs):
        rng = random.Random(s)
        d = design(rng)
        d["weight_storage"] = "dram"
        d["event_queue"]["depth"] = 1024
        n_layers = rng.randint(2, 3)
        sizes = tuple(rng.randint(2, 16) for _ in range(n_layers + 1))
        trace = random_trace(sizes=sizes, tokens=rng.randint(2, 6),
                             weight_density=rng.choice([0.5, 1.0]),
                             activity=rng.choice([0.2, 0.7, 1.0]), vocab=rng.randint(1, 5),
                             decoder=True, seed=rng.randint(0, 2**31 - 1))
        on = config_from_dict(d, "<random>")
        d["event_queue"]["streaming"] = False
        off = config_from_dict(d, "<random>")
        a, b = engine_figures(on, trace)["cycles"], engine_figures(off, trace)["cycles"]
        if a > b:
            slower += 1
            if worst is None or a / b > worst[0]:
                worst = (a / b, s, a, b)
    print(f"streaming took more cycles in {slower} of {args.designs} designs", end="")
    print("" if worst is None else f"; worst: seed {worst[1]}, {worst[2]:,} against {worst[3]:,} "
          f"cycles (+{100 * (worst[0] - 1):.1f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
