"""The delta-design mechanisms on hand-worked layer-steps (docs/architecture.md, "Mechanisms of
event-driven delta designs"), with configs/edgedrnn.yaml: scan, markers, chaining, cut-through,
grouped update, bias column, start-up."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.config import load_config
from accelsim.engine.prepare import prepare
from accelsim.engine.schedule import run_schedule
from accelsim.trace.format import CSC, Events, LayerTrace, Trace, make_meta

EDGEDRNN = load_config("configs/edgedrnn.yaml")


def _events(sets, dtype=np.int64):
    ptr = np.cumsum([0] + [len(s) for s in sets]).astype(np.int64)
    idx = np.array([u for s in sets for u in s], dtype=dtype)
    return ptr, idx


def one_layer(x_sets, h_sets, bias, n_in=8, H=16) -> Trace:
    """A layer with dense nonzero weights and the given fired input / recurrent columns."""
    T = len(x_sets)
    w = CSC.from_dense(np.ones((3 * H, n_in + H), np.float32))
    xp, xi = _events(x_sets)
    hp, hi = _events(h_sets)
    own_p, own_i = _events(list(h_sets[1:]) + [[]], np.int32)
    layer = LayerTrace(n_in, H, w, np.ones(3 * H, np.float32), np.ones(3 * H, np.float32),
                       np.zeros(H, np.float32),
                       Events(own_p, own_i, np.ones(own_i.size, np.float32)),
                       Events(xp, xi, None), Events(hp, hi, None), np.array(bias, np.uint8))
    return Trace(make_meta([(n_in, H)], 1, T, {"kind": "test"}), (layer,))


def cycles(cfg, trace):
    work = prepare(cfg, trace)
    tl = run_schedule(cfg, work, trace.steps, record_steps=True)
    return work, tl


def test_worked_layer_step():
    """x_2 and h_15 fire (no bias): x_2 is seen at 5, requested at 7, streams 7..12; the input end
    marker (x_7 did not fire) takes slot 13; h_15 is scanned at 27, streams 30..35 from idle; the
    PEs finish at 37, drain 3 -> 40; the update takes 5 x 2 + 6 = 16: 56 cycles."""
    work, tl = cycles(EDGEDRNN.model_copy(update={"startup_cycles": 0}), one_layer([[2]], [[15]], [0]))
    assert work[0].phase_names == ("xr",)
    assert int(work[0].phases[0].cycles[0]) == 40
    assert int(work[0].update_cycles[0]) == 16
    assert tl.cycles == 56


def test_empty_layer_step_costs_the_scan():
    """Nothing fires: two end markers (slots 11 and 29), the last one drains at 34; + 16 = 50."""
    work, tl = cycles(EDGEDRNN.model_copy(update={"startup_cycles": 0}), one_layer([[]], [[]], [0]))
    assert int(work[0].phases[0].cycles[0]) == 34
    assert tl.cycles == 50
    # without the scan an empty step is free on the PE array
    off = EDGEDRNN.model_copy(update={"startup_cycles": 0, "event_scan":
                                      EDGEDRNN.event_scan.model_copy(update={"enabled": False})})
    assert int(cycles(off, one_layer([[]], [[]], [0]))[0][0].phases[0].cycles[0]) == 0


def test_bursts_chain_when_requested_in_time():
    """x_0 and x_1 fire: x_1 is requested at 6, while x_0 streams (slots 5..10), so it follows
    back to back (11..16) with no restart bubble; a restart bubble of 2 only delays a burst that
    starts on an idle stream."""
    work, _ = cycles(EDGEDRNN.model_copy(update={"startup_cycles": 0}), one_layer([[0, 1]], [[15]], [0]))
    # h_15 from idle at 30..35 -> 40 as in the worked step: the two chained bursts hide in the scan
    assert int(work[0].phases[0].cycles[0]) == 40
    bub = EDGEDRNN.model_copy(update={"startup_cycles": 0, "dram": EDGEDRNN.dram.model_copy(
        update={"restart_bubble_cycles": 2})})
    # x bursts 7..12, 13..18 (chained); marker 19; h_15 from idle: 30 + 2 = 32..37 -> 42
    assert int(cycles(bub, one_layer([[0, 1]], [[15]], [0]))[0][0].phases[0].cycles[0]) == 42
    # every input fires: 8 bursts back to back 5..52, then h_15 (requested at 30) chains at
    # 53..58; PEs fin 60, drain -> 63. With the bubble only the first burst moves: 65.
    dense = one_layer([list(range(8))], [[15]], [0])
    assert int(cycles(EDGEDRNN.model_copy(update={"startup_cycles": 0}), dense)[0][0].phases[0].cycles[0]) == 63
    assert int(cycles(bub, dense)[0][0].phases[0].cycles[0]) == 65


def test_cut_through_against_store_and_forward():
    """Store-and-forward: h_15's PEs start after its last beat (done 36 + 1 = 37), 6 MACs -> 43,
    drain -> 46, instead of 40 with cut-through."""
    saf = EDGEDRNN.model_copy(update={"startup_cycles": 0, "dram": EDGEDRNN.dram.model_copy(
        update={"delivery": "store_and_forward"})})
    assert int(cycles(saf, one_layer([[2]], [[15]], [0]))[0][0].phases[0].cycles[0]) == 46


def test_bias_column_and_startup():
    """The bias fires at t = 0: it is scanned first (cycle 1), requested at 4, streams 4..9; the
    worked step's x_2 then chains at 10..15, the marker at 16; h_15 as before. Start-up adds 2."""
    work, tl = cycles(EDGEDRNN, one_layer([[2], [2]], [[15], [15]], [1, 0]))
    assert work[0].phases[0].cycles.tolist() == [40, 40]
    assert tl.cycles == 2 + 56 + 56
    assert tl.steps[0][3] == 2          # the first phase starts after the start-up cycles
    # the bias column is one more dense column: 48 bytes streamed on the first step
    assert int(work[0].phases[0].stats[4]) == 48 * 3 + 48 * 2


@pytest.mark.parametrize("phases,expected", [("single", 56), ("separate", None)])
def test_separate_phases_drain_twice(phases, expected):
    """Two phases: each has its own scan, stream restart and drain."""
    cfg = EDGEDRNN.model_copy(update={"startup_cycles": 0, "phases": phases})
    work, tl = cycles(cfg, one_layer([[2]], [[15]], [0]))
    if expected is not None:
        assert tl.cycles == expected
        return
    x, r = (int(p.cycles[0]) for p in work[0].phases)
    assert work[0].phase_names == ("x", "r")
    # X: x_2 streams 7..12, PEs 8..13 (fin 14); the marker takes slot 13, PEs 14 (fin 15); + 3
    assert x == 18
    # R: its own scan from the phase start: h_15 read at 1 + 15 = 16, seen 17, requested 19,
    # streams 19..24, PEs fin 26, + 3
    assert r == 29
    assert tl.cycles == 18 + 29 + 16
