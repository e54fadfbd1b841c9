"""Streaming events (``event_queue.streaming``): the encoder pushes each event into the next
layer's queue as it emits it, and the next layer's dispatcher starts on the first."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from accelsim.config import config_from_dict, load_config
from accelsim.config.load import energy_table_path, load_energy_table
from accelsim.engine.simulate import simulate_steps
from accelsim.errors import InputError
from accelsim.trace.format import Events, load_trace
from tests.conftest import REPO
from tests.reference.compare import assert_agree, engine_figures
from tests.reference.strategies import small_cases, small_configs
from tests.reference.tracegen import delta_like, random_trace

PTB = REPO / "workloads" / "ptb.npz"


def _streaming(cfg, on=True, **queue):
    return cfg.model_copy(update={"event_queue": cfg.event_queue.model_copy(
        update={"streaming": on, **queue})})


def test_the_next_layer_starts_on_the_first_events_of_the_shipped_trace():
    """arch_a on the PTB trace, 300 tokens: with batch commit layer 1's input phase never starts
    before layer 0's update phase of the same step ends; streaming, it starts before it in
    every step. The token latency falls from 3,362.0 to 3,250.6 cycles (mean) and the run from
    546,240 to 546,096 cycles: the layers' pipeline, not the hand-over, bounds the throughput."""
    cfg = load_config(REPO / "configs" / "arch_a.yaml")
    table = load_energy_table(energy_table_path(cfg, REPO / "configs" / "arch_a.yaml"))
    trace = load_trace(PTB)
    figures = {}
    for on in (False, True):
        result, steps = simulate_steps(_streaming(cfg, on), trace, table, tokens=300)
        x1 = steps[(steps.layer == 1) & (steps.phase == "x")].set_index("t")
        u0 = steps[(steps.layer == 0) & (steps.phase == "update")].set_index("t")
        figures[on] = (result["cycles"], round(result["latency_cycles"]["mean"], 1),
                       int((x1.start < u0.end).sum()))
    assert figures[False] == (546240, 3362.0, 0)
    assert figures[True] == (546096, 3250.6, 300)


def test_a_step_larger_than_the_queue_is_modelled_event_by_event():
    """A 2-slot queue between a layer of 12 units firing every step and a slower one (64 units,
    dense weights: 192 MACs per column): each event takes a slot until it is popped, so the
    peak is exactly 2 and the encoder waits for room (751 cycles); the reference model, ticking
    the encoder and the dispatcher cycle by cycle, agrees."""
    cfg = _streaming(load_config(REPO / "configs" / "arch_a.yaml"), depth=2)
    fast, _ = assert_agree(cfg, random_trace(sizes=(2, 12, 64), tokens=4, activity=1.0,
                                             weight_density=1.0, seed=1), baseline=False)
    assert fast["per_layer"][1]["queue_peak"]["input"] == 2
    assert fast["per_layer"][0]["stalls"]["queue_full"] == 751


DEEP_QUEUE = dict(mapping="spatial", phases="separate", bias_column=False, weight_storage="sram",
                  nested={"event_queue": {"depth": 64}, "update_unit": {"timing": "pipelined"},
                          "event_scan": {"enabled": False}})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          derandomize=True)
@given(case=small_cases(small_configs(**DEEP_QUEUE), v2=False))
def test_streaming_is_never_slower_when_a_step_fits_the_queue(case):
    """With weights on chip and a queue that holds any step's events, every event arrives no
    later than the batch would, so no phase starts later: the run never takes more cycles.
    (With weights in DRAM an earlier phase may win the phase-arbitrated channel in another
    order, and a run can take a few cycles more: docs/architecture.md.)"""
    cfg, trace = case
    batch = engine_figures(cfg, trace)["cycles"]
    assert engine_figures(_streaming(cfg), trace)["cycles"] <= batch


def test_batch_commit_is_optimistic_for_a_step_larger_than_the_queue():
    """Batch commit lets a step of more events than slots pass as one batch of ``depth`` slots;
    streaming makes each event wait for a slot, so here it takes longer, and the reference
    model agrees with the streaming figure."""
    cfg = config_from_dict({"pe": {"count": 1, "mac_lanes": 1, "fifo_depth": 1},
                            "event_queue": {"depth": 1}, "update_unit": {"lanes": 4},
                            "dispatcher": {"events_per_cycle": 1}}, "<test>")
    trace = random_trace(sizes=(2, 8, 8), tokens=3, activity=1.0, weight_density=1.0, seed=2)
    batch = engine_figures(cfg, trace)["cycles"]
    stream, _ = assert_agree(_streaming(cfg), trace)
    assert stream["cycles"] > batch


def _refusal(cfg, trace):
    from accelsim.engine.prepare import prepare
    with pytest.raises(InputError) as e:
        prepare(cfg, trace)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("event_queue.streaming: true ")
    return msg


@pytest.mark.parametrize("change,words", [
    ({"mapping": "temporal"}, "needs mapping: spatial"),
    ({"update_unit": {"timing": "grouped"}}, "needs update_unit.timing: pipelined"),
    ({"event_scan": {"enabled": True}}, "is not modelled with event_scan.enabled"),
    ({"bias_column": True}, "is not modelled with event_scan.enabled, bias_column"),
    ({"phases": "single"}, "or phases: single"),
    ({"weight_storage": "dram", "dram": {"arbitration": "burst"}}, "dram.arbitration: burst"),
])
def test_designs_that_cannot_stream_are_refused_in_one_line(change, words):
    d = {"event_queue": {"streaming": True}}
    d.update(change)
    msg = _refusal(config_from_dict(d, "<test>"), random_trace(seed=0))
    assert words in msg


@pytest.mark.parametrize("sizes,decoder,seed", [((2, 16, 3), False, 3), ((3, 16, 16), True, 5),
                                                ((2, 16, 5, 4), True, 7)])
def test_an_input_phase_lasts_until_the_producers_step_ends(sizes, decoder, seed):
    """One update lane over 16 units: the producer's lanes finish well after the consumer has
    popped the step's few events, and the consumer's input phase (busy cycles included) lasts
    until the encoder's step ends; the reference agrees on every figure."""
    cfg = config_from_dict({"event_queue": {"streaming": True}, "update_unit": {"lanes": 1},
                            "include_decoder": decoder}, "<test>")
    fast, _ = assert_agree(cfg, random_trace(sizes=sizes, tokens=3, activity=0.1, seed=seed,
                                             decoder=decoder, vocab=4))
    if sizes == (2, 16, 3):
        assert fast["per_layer"][1]["busy"]["pe_array"] == 54


def test_the_config_check_refuses_what_needs_no_trace(cli, tmp_path):
    d = yaml.safe_load((REPO / "configs" / "edgedrnn.yaml").read_text())
    d["event_queue"]["streaming"] = True
    p = tmp_path / "e.yaml"
    p.write_text(yaml.safe_dump(d))
    code, out, err = cli("config", "check", p)
    assert code == 2 and out == ""
    assert err.startswith("accelsim: error: event_queue.streaming: true needs mapping: spatial")


def test_a_layer_reading_other_events_than_the_layer_below_is_refused():
    cfg = config_from_dict({"event_queue": {"streaming": True}}, "<test>")
    msg = _refusal(cfg, random_trace(seed=0, v2=["x_events"]))
    assert "layer 1 of <random> reads other x_events" in msg
    # one step where layer 1 reads other columns than layer 0's events is enough
    trace = delta_like(random_trace(sizes=(3, 4, 4), tokens=4, activity=0.5, seed=2))
    x = trace.layers[1].x_events
    odd = Events(x.indptr.copy(), x.indices.copy(), None)
    odd.indices[0] = (odd.indices[0] + 1) % 4 if odd.indices.size else 0
    if x.indices.size:
        _refusal(cfg, replace(trace, layers=(trace.layers[0], replace(trace.layers[1], x_events=odd))))


def test_a_delta_trace_streams_its_last_step_too():
    """A delta trace's layer reads x_events: the layer below's transmissions, equal to its
    events on every step but the last (where a v2 trace's events are empty by convention). The
    encoder then sends the x_events, the last step's included, and the reference agrees."""
    cfg = _streaming(load_config(REPO / "configs" / "arch_a.yaml"), depth=3)
    trace = delta_like(random_trace(sizes=(3, 6, 5), tokens=5, activity=0.6, seed=4))
    assert trace.layers[0].events.counts()[-1] == 0 and trace.layers[1].x_events.counts()[-1] > 0
    fast, _ = assert_agree(cfg, trace, baseline=False)
    assert fast["per_layer"][0]["queue_events"] == (trace.layers[1].x_events.indptr[-1]
                                                    + trace.layers[0].events.indptr[-1])


def test_the_cli_refuses_with_exit_status_2(cli, tmp_path):
    d = yaml.safe_load((REPO / "configs" / "arch_b.yaml").read_text())
    d["event_queue"]["streaming"] = True
    p = tmp_path / "b.yaml"
    p.write_text(yaml.safe_dump(d))
    code, out, err = cli("run", p, "--trace", PTB, "--tokens", "2")
    assert code == 2 and out == ""
    assert err.startswith("accelsim: error: event_queue.streaming: true needs mapping: spatial")
    assert err.count("\n") == 1
