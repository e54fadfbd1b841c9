"""Hypothesis strategies: random small configs and traces covering every switch of the template."""

from __future__ import annotations

from hypothesis import strategies as st

from accelsim.config import config_from_dict
from tests.reference.tracegen import V2_KEYS, random_trace


def _merge(d: dict, over: dict) -> None:
    """Deep-merge ``over`` into ``d`` (nested dicts merge, anything else replaces)."""
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(d.get(k), dict):
            _merge(d[k], v)
        else:
            d[k] = v


@st.composite
def small_configs(draw, nested=None, **fixed):
    """A random small config. ``fixed``: top-level fields to set; ``nested``: a dict deep-merged
    over the drawn one (e.g. ``{"dram": {"issue": "on_dispatch"}}``)."""
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
        "weight_format": draw(st.sampled_from(["dense", "csc", "bitmap", "csc_relative", "nm"])),
        "weight_storage": draw(st.sampled_from(["sram", "dram"])),
        "event_queue": {"depth": draw(st.integers(1, 8)), "event_bits": 32},
        "update_unit": {"lanes": draw(st.integers(1, 4)), "latency_cycles": draw(st.integers(1, 3)),
                        "nonlinearity": draw(st.sampled_from(["lut", "pwl"])),
                        "encoder_events_per_cycle": draw(st.integers(1, 2)),
                        "timing": draw(st.sampled_from(["pipelined", "grouped"])),
                        "cycles_per_group": draw(st.integers(1, 3)),
                        "fixed_cycles": draw(st.integers(0, 3))},
        "event_scan": {"enabled": draw(st.booleans()),
                       "elements_per_cycle": draw(st.integers(1, 3)),
                       "start_cycles": draw(st.integers(0, 2)),
                       "latency_cycles": draw(st.integers(0, 2)),
                       "gap_cycles": draw(st.integers(0, 2)),
                       "input_pad_multiple": draw(st.integers(1, 4)),
                       "end_marker_cycles": draw(st.integers(0, 2))},
        "dram": {"bandwidth_bytes_per_cycle": draw(st.sampled_from([1, 2, 4, 8])),
                 "latency_cycles": draw(st.integers(0, 12)),
                 "burst_bytes": draw(st.sampled_from([1, 2, 4, 8])),
                 "issue": draw(st.sampled_from(["phase_start", "on_dispatch"])),
                 "restart_bubble_cycles": draw(st.integers(0, 2)),
                 "delivery": draw(st.sampled_from(["store_and_forward", "cut_through"])),
                 "stream_efficiency": draw(st.sampled_from([1.0, 0.5, 0.25])),
                 "max_outstanding": draw(st.sampled_from([None, None, 1, 2, 3])),
                 "arbitration": draw(st.sampled_from(["phase", "burst"]))},
        "phases": draw(st.sampled_from(["separate", "single"])),
        "bias_column": draw(st.booleans()),
        "startup_cycles": draw(st.integers(0, 3)),
        "mapping": draw(st.sampled_from(["spatial", "temporal"])),
        "skip_activity": draw(st.booleans()),
        "skip_weights": draw(st.booleans()),
        "include_decoder": draw(st.booleans()),
    }
    m = draw(st.sampled_from([1, 2, 4, 8]))
    d["nm_m"], d["nm_n"] = m, draw(st.integers(1, m))
    _merge(d, nested or {})
    for k, v in fixed.items():
        d[k] = v
    return config_from_dict(d, "<hypothesis>")


@st.composite
def small_traces(draw, decoder=True, v2=None, nm=None, densities=(0.0, 0.2, 0.5, 1.0)):
    """A random small trace. ``v2``: None (each v2 key drawn independently), True / False (all
    / none) or a collection of keys from ``tracegen.V2_KEYS``; ``nm``: (N, M) to make every
    weight matrix (and the bias column) N:M structured; ``densities``: the weight densities to
    draw from."""
    n_layers = draw(st.integers(1, 3))
    sizes = tuple(draw(st.integers(1, 6)) for _ in range(n_layers + 1))
    if v2 is None:
        v2 = [k for k in V2_KEYS if draw(st.booleans())]
    return random_trace(sizes=sizes, tokens=draw(st.integers(1, 6)),
                        weight_density=draw(st.sampled_from(list(densities))),
                        activity=draw(st.sampled_from([0.0, 0.3, 0.7, 1.0])),
                        vocab=draw(st.integers(1, 5)), decoder=decoder,
                        seed=draw(st.integers(0, 2**31 - 1)), v2=v2, nm=nm)


@st.composite
def small_cases(draw, configs=None, **trace_kw):
    """(config, trace): a config from ``configs`` (default ``small_configs()``) and a trace for
    it (with ``weight_format: nm``, N:M-structured weights); ``trace_kw`` go to small_traces."""
    cfg = draw(configs if configs is not None else small_configs())
    nm = (cfg.nm_n, cfg.nm_m) if cfg.weight_format == "nm" else None
    return cfg, draw(small_traces(nm=nm, **trace_kw))


def largest_column_bytes(cfg, trace) -> int:
    """Bytes in DRAM (whole bursts) of the largest column the config stores for ``trace``,
    counted with the reference model's own per-column loops: every layer's columns (and its
    bias column with ``bias_column: true``) and the decoder's."""
    from tests.reference.model import Reference

    ref = Reference(cfg, trace)
    largest = 0
    for cl in ref.clusters:
        n = cl["tab"].dram_bytes.shape[0]
        if cl["y"] is not None and not cfg.bias_column:
            n -= 1                                    # the bias column is not stored
        largest = max([largest] + [int(b) for b in cl["tab"].dram_bytes[:n]])
    return largest


@st.composite
def bounded_dram_cases(draw, configs=None, **trace_kw):
    """(config, trace) with streamed weights on a bounded DRAM path: a staging buffer from exactly
    the largest column (one column at a time) to a few columns, a limit on outstanding requests
    or none, phase or burst arbitration; the rest of the config drawn (``configs``, default
    ``small_configs(weight_storage="dram")``)."""
    cfg, trace = draw(small_cases(configs if configs is not None
                                  else small_configs(weight_storage="dram"), **trace_kw))
    largest = max(1, largest_column_bytes(cfg, trace))
    extra = draw(st.sampled_from([0, 0, 1, cfg.dram.burst_bytes, largest, 3 * largest]))
    d = cfg.model_dump()
    d["dram"].update(staging_buffer_bytes=draw(st.sampled_from([largest + extra] * 3 + [None])),
                     max_outstanding=draw(st.sampled_from([None, 1, 2, 3])),
                     arbitration=draw(st.sampled_from(["phase", "burst"])))
    return config_from_dict(d, "<hypothesis>"), trace
