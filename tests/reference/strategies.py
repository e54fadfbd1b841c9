"""Hypothesis strategies: random small configs and traces covering every switch of the template."""

from __future__ import annotations

from hypothesis import strategies as st

from accelsim.config import config_from_dict
from tests.reference.tracegen import random_trace


@st.composite
def small_configs(draw, **fixed):
    width = draw(st.sampled_from([8, 16, 32, 64]))
    d = {
        "precision": {"weight_bits": draw(st.integers(2, min(8, width))),
                      "index_bits": draw(st.integers(2, min(8, width))),
                      "value_bits": 16, "accumulator_bits": 32},
        "pe": {"count": draw(st.integers(1, 4)), "mac_lanes": draw(st.integers(1, 3)),
               "fifo_depth": draw(st.integers(1, 3)), "mac_latency_cycles": draw(st.integers(1, 3))},
        "dispatcher": {"events_per_cycle": draw(st.integers(1, 3)),
                       "pointer_read_cycles": draw(st.integers(1, 2))},
        "weight_sram": {"banks": draw(st.sampled_from([1, 2, 4])), "bank_width_bits": width,
                        "capacity_bytes": 1 << 20, "read_latency_cycles": draw(st.integers(1, 2))},
        "layout": draw(st.sampled_from(["row_interleaved", "blocked"])),
        "weight_format": draw(st.sampled_from(["dense", "csc", "bitmap"])),
        "weight_storage": draw(st.sampled_from(["sram", "dram"])),
        "event_queue": {"depth": draw(st.integers(1, 8)), "event_bits": 32},
        "update_unit": {"lanes": draw(st.integers(1, 4)), "latency_cycles": draw(st.integers(1, 3)),
                        "encoder_events_per_cycle": draw(st.integers(1, 2))},
        "dram": {"bandwidth_bytes_per_cycle": draw(st.sampled_from([1, 2, 4, 8])),
                 "latency_cycles": draw(st.integers(1, 12)),
                 "burst_bytes": draw(st.sampled_from([1, 2, 4, 8]))},
        "mapping": draw(st.sampled_from(["spatial", "temporal"])),
        "skip_activity": draw(st.booleans()),
        "skip_weights": draw(st.booleans()),
        "include_decoder": draw(st.booleans()),
    }
    for k, v in fixed.items():
        d[k] = v
    return config_from_dict(d, "<hypothesis>")


@st.composite
def small_traces(draw, decoder=True):
    n_layers = draw(st.integers(1, 3))
    sizes = tuple(draw(st.integers(1, 6)) for _ in range(n_layers + 1))
    return random_trace(sizes=sizes, tokens=draw(st.integers(1, 6)),
                        weight_density=draw(st.sampled_from([0.0, 0.2, 0.5, 1.0])),
                        activity=draw(st.sampled_from([0.0, 0.3, 0.7, 1.0])),
                        vocab=draw(st.integers(1, 5)), decoder=decoder,
                        seed=draw(st.integers(0, 2**31 - 1)))
