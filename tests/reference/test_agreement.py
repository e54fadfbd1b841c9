"""The fast engine agrees exactly with the cycle-stepped reference (cycles and every count)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelsim.config import config_from_dict, load_config
from tests.reference.compare import assert_agree
from tests.reference.strategies import bounded_dram_cases, small_cases, small_configs, small_traces
from tests.reference.tracegen import delta_like, random_trace

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@settings(max_examples=400, **SETTINGS)
@given(case=small_cases())
def test_engine_matches_reference_random(case):
    assert_agree(*case)


RELATIVE_2BIT = st.one_of(*(small_configs(weight_format="csc_relative", nested={
    "precision": {"index_bits": 2}, "weight_sram": {"banks": b}}) for b in (1, 2)))


@settings(max_examples=80, **SETTINGS)
@given(case=small_cases(RELATIVE_2BIT, densities=(0.1, 0.25, 0.5)))
def test_engine_matches_reference_relative_indices(case):
    """csc_relative with 2-bit runs on sparse columns: a gap of 4 or more zero rows in a bank
    needs padding entries (stored, read and multiplied), on every option the broad draw covers."""
    assert_agree(*case)


@settings(max_examples=80, **SETTINGS)
@given(case=small_cases(small_configs(weight_format="nm")))
def test_engine_matches_reference_nm(case):
    """N:M structured weights (groups placed whole on banks and PEs, N MACs per group, zeros
    filling a group), traces pruned N:M to conform."""
    assert_agree(*case)


@settings(max_examples=40, **SETTINGS)
@given(case=small_cases(small_configs(mapping="spatial", weight_storage="dram")))
def test_engine_matches_reference_dram_contention(case):
    """Spatial mapping with streamed weights: several clusters compete for the DRAM channel."""
    assert_agree(*case)


SMALL_SRAM = st.one_of(*(small_configs(weight_storage="dram", nested={
    "weight_sram": {"capacity_bytes": c}}) for c in (8, 32, 128, 512)))


@settings(max_examples=60, **SETTINGS)
@given(case=small_cases(SMALL_SRAM))
def test_engine_matches_reference_dense_baseline_capacity(case):
    """The dense baseline puts the weights on chip only when they fit capacity_bytes (per cluster
    spatial, all together temporal): small SRAMs make some baselines stream from DRAM."""
    assert_agree(*case)


@settings(max_examples=80, **SETTINGS)
@given(case=bounded_dram_cases())
def test_engine_matches_reference_bounded_dram_path(case):
    """The bounded DRAM path (staging buffer down to one column, outstanding-request limit,
    phase or burst arbitration) over every other option the broad draw covers."""
    assert_agree(*case)


@settings(max_examples=80, **SETTINGS)
@given(case=bounded_dram_cases(small_configs(mapping="spatial", weight_storage="dram",
                                             nested={"dram": {"arbitration": "burst"}}),
                               densities=(0.5, 1.0)))
def test_engine_matches_reference_burst_arbitration(case):
    """Spatial clusters sharing the DRAM channel one burst at a time (round robin, latencies
    overlapping), with and without a bounded staging buffer and request limit."""
    cfg, trace = case
    d = cfg.model_dump()
    d["dram"]["arbitration"] = "burst"
    assert_agree(config_from_dict(d), trace)


STREAMING = dict(mapping="spatial", phases="separate", bias_column=False, nested={
    "event_queue": {"streaming": True}, "update_unit": {"timing": "pipelined"},
    "event_scan": {"enabled": False}, "dram": {"arbitration": "phase"}})


@settings(max_examples=150, **SETTINGS)
@given(case=small_cases(small_configs(**STREAMING), v2=False))
def test_engine_matches_reference_streaming_events(case):
    """Streaming events: the encoder pushes each event into a slot of the next layer's queue (a
    queue of 1 to 8 slots, so most steps overflow it), the dispatcher pops it the cycle after;
    with every other option the broad draw covers (DRAM phase arbitration, bounded path off)."""
    assert_agree(*case)


@settings(max_examples=40, **SETTINGS)
@given(cfg=small_configs(**{**STREAMING, "nested": {**STREAMING["nested"], "update_unit": {
           "timing": "pipelined", "lanes": 1}}}),
       sizes=st.lists(st.integers(2, 16), min_size=2, max_size=4), tokens=st.integers(1, 4),
       activity=st.sampled_from([0.1, 0.3, 1.0]), seed=st.integers(0, 2**31 - 1),
       delta=st.booleans())
def test_engine_matches_reference_streaming_events_wide_layers(cfg, sizes, tokens, activity, seed,
                                                              delta):
    """Layers of up to 16 units on one update lane: the producer's lanes often finish after the
    consumer popped the step's events, so the input phase waits for the step's end."""
    trace = random_trace(sizes=tuple(sizes), tokens=tokens, activity=activity, seed=seed,
                         decoder=cfg.include_decoder, vocab=3,
                         nm=(cfg.nm_n, cfg.nm_m) if cfg.weight_format == "nm" else None)
    if delta and len(sizes) > 2:
        trace = delta_like(trace)
    assert_agree(cfg, trace, baseline=False)


@settings(max_examples=60, **SETTINGS)
@given(case=small_cases(small_configs(**STREAMING), v2=False))
def test_engine_matches_reference_streaming_events_of_delta_traces(case):
    """A v2 delta trace's layers read x_events equal to the layer below's events except on the
    last step (where its events are empty): the encoder sends the x_events."""
    cfg, trace = case
    assert_agree(cfg, delta_like(trace))


@settings(max_examples=40, **SETTINGS)
@given(case=bounded_dram_cases(small_configs(**STREAMING, weight_storage="dram"),
                               densities=(0.5, 1.0), v2=False))
def test_engine_matches_reference_streaming_events_bounded_dram(case):
    """Streaming events into phases whose columns stream from DRAM on a bounded path (a column
    is requested only once its event arrived)."""
    cfg, trace = case
    d = cfg.model_dump()
    d["dram"]["arbitration"] = "phase"
    assert_agree(config_from_dict(d), trace)


EDGEDRNN_LIKE = dict(weight_storage="dram", weight_format="dense", skip_weights=False,
                     skip_activity=True, mapping="temporal", phases="single", bias_column=True,
                     include_decoder=False,
                     nested={"event_scan": {"enabled": True, "end_marker_cycles": 1},
                             "dram": {"issue": "on_dispatch", "delivery": "cut_through"},
                             "update_unit": {"timing": "grouped"}})


@settings(max_examples=100, **SETTINGS)
@given(cfg=small_configs(**EDGEDRNN_LIKE), trace=small_traces(decoder=False, v2=True))
def test_engine_matches_reference_edgedrnn_like(cfg, trace):
    """The delta-network combination of configs/edgedrnn.yaml (scan, end markers, one stream per
    layer-step, on-dispatch cut-through weight stream, grouped update, bias column, v2 traces),
    with the remaining parameters drawn."""
    assert_agree(cfg, trace)


@settings(max_examples=60, **SETTINGS)
@given(case=small_cases(small_configs(weight_storage="dram",
                                      nested={"event_scan": {"enabled": True, "end_marker_cycles": 2},
                                              "dram": {"issue": "on_dispatch"}})))
def test_engine_matches_reference_streamed_markers(case):
    """End markers in an on-dispatch weight stream (chaining, restart bubble, the channel hold,
    both deliveries, both mappings): a combination the broad random draw rarely hits."""
    assert_agree(*case)


@pytest.mark.parametrize("v2", [True, False])
def test_edgedrnn_config_matches_reference(v2):
    assert_agree(load_config("configs/edgedrnn.yaml"),
                 random_trace(sizes=(6, 5, 4), tokens=5, weight_density=1.0, seed=4, v2=v2))


@pytest.mark.parametrize("name,decoder,sa,sw", [
    (n, d, a, w) for n, d, a, w in itertools.product(("arch_a", "arch_b"), (False, True),
                                                      (True, False), (True, False))])
def test_shipped_configs_match_reference(name, decoder, sa, sw):
    cfg = load_config(f"configs/{name}.yaml").model_copy(
        update={"include_decoder": decoder, "skip_activity": sa, "skip_weights": sw})
    assert_agree(cfg, random_trace(sizes=(6, 5, 4), tokens=5, decoder=decoder, seed=3))


def test_backpressure_is_exercised():
    """A tiny queue between a fast and a slow layer makes the producer wait (queue_full > 0)."""
    cfg = load_config("configs/arch_a.yaml").model_copy(update={"event_queue": load_config(
        "configs/arch_a.yaml").event_queue.model_copy(update={"depth": 2})})
    fast, _ = assert_agree(cfg, random_trace(sizes=(2, 3, 12), tokens=6, activity=1.0, seed=1))
    assert fast["per_layer"][0]["stalls"]["queue_full"] > 0


def test_markers_use_no_stream_with_weights_in_sram():
    """With weights on chip there is no weight stream: dram.issue must not change the timing (an
    end marker then is ready at eligible + read_latency, spec: "a marker that is not streamed")."""
    cfg = config_from_dict({"event_scan": {"enabled": True, "end_marker_cycles": 1},
                            "dram": {"issue": "on_dispatch"}}, "<test>")
    assert_agree(cfg, random_trace(sizes=(1, 1), tokens=1, activity=0.0, seed=0))


def test_dram_hold_ends_at_the_last_stream_slot():
    """On-dispatch stream: a phase holds the channel until its last done, a trailing end marker's
    slots included (spec: "The channel is held ... until the last done")."""
    cfg = config_from_dict({"weight_storage": "dram", "weight_format": "dense",
                            "event_scan": {"enabled": True, "end_marker_cycles": 1,
                                           "input_pad_multiple": 2},
                            "dram": {"issue": "on_dispatch"}}, "<test>")
    assert_agree(cfg, random_trace(sizes=(1, 1), tokens=1, activity=0.0, seed=0))
    # spatial: the longer hold delays the decoder's phase that waits for the channel
    cfg = config_from_dict({
        "precision": {"weight_bits": 2, "index_bits": 2},
        "pe": {"count": 1, "mac_lanes": 1, "fifo_depth": 1, "mac_latency_cycles": 1},
        "weight_sram": {"banks": 1, "bank_width_bits": 8}, "weight_format": "dense",
        "weight_storage": "dram", "event_queue": {"depth": 1},
        "update_unit": {"lanes": 1, "latency_cycles": 1},
        "event_scan": {"enabled": True, "end_marker_cycles": 1},
        "dram": {"bandwidth_bytes_per_cycle": 1, "latency_cycles": 0, "burst_bytes": 1,
                 "issue": "on_dispatch"},
        "phases": "single", "skip_weights": False, "include_decoder": True}, "<test>")
    assert_agree(cfg, random_trace(sizes=(1, 2), tokens=2, weight_density=0.0, activity=0.7,
                                   vocab=1, decoder=True, seed=1))
