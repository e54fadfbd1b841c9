"""The fast engine agrees exactly with the cycle-stepped reference (cycles and every count)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings

from accelsim.config import load_config
from tests.reference.compare import assert_agree
from tests.reference.strategies import small_configs, small_traces
from tests.reference.tracegen import random_trace

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@settings(max_examples=400, **SETTINGS)
@given(cfg=small_configs(), trace=small_traces())
def test_engine_matches_reference_random(cfg, trace):
    assert_agree(cfg, trace)


@settings(max_examples=40, **SETTINGS)
@given(cfg=small_configs(mapping="spatial", weight_storage="dram"), trace=small_traces())
def test_engine_matches_reference_dram_contention(cfg, trace):
    """Spatial mapping with streamed weights: several clusters compete for the DRAM channel."""
    assert_agree(cfg, trace)


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
