"""The reference model itself against hand-worked numbers (no engine involved): the worked
example of docs/architecture.md and the delta-network mechanisms of its final section."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.config import config_from_dict
from accelsim.trace.format import CSC, Events, LayerTrace, Trace, make_meta
from tests.reference.model import Reference, RefColumns, ref_pe_phase, ref_update_phase


def _cfg(**over):
    d = {"pe": {"count": 2, "mac_lanes": 2, "fifo_depth": 1, "mac_latency_cycles": 2},
         "weight_sram": {"banks": 2, "bank_width_bits": 64, "read_latency_cycles": 1},
         "precision": {"weight_bits": 8, "index_bits": 16},
         "weight_format": "csc", "layout": "row_interleaved",
         "dispatcher": {"events_per_cycle": 1, "pointer_read_cycles": 1}}
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(d.get(k), dict):
            d[k] = {**d[k], **v}
        else:
            d[k] = v
    return config_from_dict(d, "<test>")


def _worked_matrix():
    w = np.zeros((6, 2))
    w[[0, 2, 4, 5], 0] = 1.0
    w[1, 1] = 1.0
    return w


@pytest.mark.parametrize("fifo,cycles,fifo_full", [(1, 12, 4), (2, 9, 0)])
def test_worked_example(fifo, cycles, fifo_full):
    cfg = _cfg(pe={"fifo_depth": fifo})
    end, hold, st, pe = ref_pe_phase(cfg, RefColumns(cfg, _worked_matrix()), [(0, 0), (1, 0)])
    assert (end, hold, st["fifo_full"], st["macs"]) == (cycles, 0, fifo_full, 5)
    assert list(pe) == [3, 2]
    assert (st["bank_conflict"], st["weight_bits"], st["metadata_bits"]) == (1, 192, 256)


def test_worked_example_update():
    cfg = _cfg(update_unit={"lanes": 1, "latency_cycles": 2, "encoder_events_per_cycle": 1})
    assert ref_update_phase(cfg, 2, [0, 1]) == 4


def test_grouped_update():
    cfg = _cfg(update_unit={"lanes": 2, "timing": "grouped", "cycles_per_group": 3, "fixed_cycles": 4})
    assert ref_update_phase(cfg, 5, []) == 3 * 3 + 4
    assert ref_update_phase(cfg, 5, [0, 1, 2, 3, 4]) == 13


def _stream_cfg(**dram):
    # 1 PE x 1 lane, dense 8-bit columns of 3 rows from DRAM, 1-byte bursts, 1 byte per cycle
    return _cfg(pe={"count": 1, "mac_lanes": 1, "fifo_depth": 4, "mac_latency_cycles": 1},
                weight_sram={"banks": 1}, weight_format="dense", weight_storage="dram",
                dram={"bandwidth_bytes_per_cycle": 1, "burst_bytes": 1, "latency_cycles": 1, **dram})


@pytest.mark.parametrize("dram,end,hold,dram_data", [
    # phase_start: done 1 + 3 = 4 and 7; ready 5 and 8; PE 5..7, 8..10 (fin 11); end 11 + 1
    ({}, 12, 7, (4 - 1) + (7 - 2)),
    # on_dispatch: q0 = 0 + 1 + 1 = 2 > free 0: restart, slots 2..4, done 5; q1 = 3 <= 5:
    # chained, slots 5..7, done 8; ready 6 and 9; PE 6..8, 9..11; end 12 + 1
    ({"issue": "on_dispatch"}, 13, 8, (5 - 1) + (8 - 2)),
    # a 2-cycle restart bubble: slots 4..6 (done 7), chained 7..9 (done 10); PE 8..10, 11..13
    ({"issue": "on_dispatch", "restart_bubble_cycles": 2}, 15, 10, (7 - 1) + (10 - 2)),
    # cut-through: item 0 starts at s0 + 1 = 3, fin max(3 + 3, 5 + 1) = 6; item 1 starts at
    # max(5 + 1, 6) = 6, fin max(9, 8 + 1) = 9; end max(ready 9, 9 + 1) = 10
    ({"issue": "on_dispatch", "delivery": "cut_through"}, 10, 8, (5 - 1) + (8 - 2)),
    # f = 0.5: D = ceil(3 / 0.5) = 6: slots 2..7 (done 8), 8..13 (done 14); item 0 at 3,
    # fin max(6, 9) = 9; item 1 at max(9, 9), fin max(12, 15) = 15; end 16
    ({"issue": "on_dispatch", "delivery": "cut_through", "stream_efficiency": 0.5}, 16, 14,
     (8 - 1) + (14 - 2)),
    # f = 0.25: D = 12: slots 2..13 (done 14), 14..25 (done 26); fins 15 and 27; end 28
    ({"issue": "on_dispatch", "delivery": "cut_through", "stream_efficiency": 0.25}, 28, 26,
     (14 - 1) + (26 - 2)),
])
def test_weight_stream(dram, end, hold, dram_data):
    cfg = _stream_cfg(**dram)
    d, h, st, _ = ref_pe_phase(cfg, RefColumns(cfg, np.ones((3, 2))), [(0, 0), (1, 0)])
    assert (d, h, st["dram_data"], st["dram_bytes"], st["mac_cycles"]) == (end, hold, dram_data, 6, 6)


def test_marker_in_the_stream():
    """A marker (m = 2) after a column, on_dispatch + cut-through: no pointer-to-DRAM latency
    (q = a + 1 = 2 <= free 5: chained), 2 slots 5..6, done 7; its 2 PE cycles are not MACs."""
    cfg = _stream_cfg(issue="on_dispatch", delivery="cut_through")
    cfg = cfg.model_copy(update={"event_scan": cfg.event_scan.model_copy(
        update={"enabled": True, "end_marker_cycles": 2})})
    d, h, st, pe = ref_pe_phase(cfg, RefColumns(cfg, np.ones((3, 1))), [(0, 0), (None, 0)])
    # column: slots 2..4, done 5, PE 3..5 (fin 6); marker: start max(5 + 1, 6) = 6,
    # fin max(6 + 2, 7 + 1) = 8; end 8 + 1
    assert (d, h) == (9, 7)
    assert (st["events"], st["macs"], st["mac_cycles"], st["dram_bytes"], st["dram_data"]) == (1, 3, 3, 3, 4)


def test_only_markers_hold_no_channel():
    cfg = _stream_cfg(issue="on_dispatch")
    cfg = cfg.model_copy(update={"event_scan": cfg.event_scan.model_copy(
        update={"enabled": True, "end_marker_cycles": 1})})
    d, h, st, _ = ref_pe_phase(cfg, RefColumns(cfg, np.ones((3, 1))), [(None, 0)], floor=1)
    # q = 1, restart: slot 1, done 2, ready 3, PE 3 (fin 4), end 4 + 1
    assert (d, h, st["events"], st["mac_cycles"], st["busy"]) == (5, 0, 0, 0, 5)


def test_empty_phase_lasts_its_floor():
    cfg = _cfg()
    d, h, st, _ = ref_pe_phase(cfg, RefColumns(cfg, _worked_matrix()), [], floor=7)
    assert (d, h, st["busy"]) == (7, 0, 7)


def _one_layer_trace(n_in, H, T, x_events, h_events, bias_fires, events=None):
    w = np.ones((3 * H, n_in + H))
    ev = np.zeros((T, H)) if events is None else events

    def idx(sets):
        ptr = np.cumsum([0] + [len(s) for s in sets]).astype(np.int64)
        return Events(ptr, np.array([u for s in sets for u in sorted(s)], dtype=np.int64), None)

    layer = LayerTrace(n_in, H, CSC.from_dense(w), np.ones(3 * H, np.float32),
                       np.zeros(3 * H, np.float32), np.full(H, 0.5, np.float32),
                       Events.from_dense(ev), idx(x_events), idx(h_events),
                       np.array(bias_fires, dtype=np.uint8))
    meta = make_meta([(n_in, H)], 3, T, {"kind": "test"})
    return Trace(meta, (layer,), np.zeros((3, n_in), np.float32), np.zeros(T, np.int64))


def test_scan_visibility_markers_and_floor():
    """n_in = 3 padded to 4, H = 2, a bias column, one element per cycle, start 1, latency 1,
    gap 2, markers of 1 cycle; the step reads input columns 0 and 2 and no state column."""
    cfg = config_from_dict({"bias_column": True, "phases": "single",
                            "event_scan": {"enabled": True, "elements_per_cycle": 1,
                                           "start_cycles": 1, "latency_cycles": 1,
                                           "gap_cycles": 2, "input_pad_multiple": 4,
                                           "end_marker_cycles": 1}}, "<test>")
    ref = Reference(cfg, _one_layer_trace(3, 2, 1, [{0, 2}], [set()], [1]))
    entries, floor = ref.plan(0, 0, "xr")
    # bias (column n_in + H = 5) at position 0: 1 + 0 + 1; input 0 at position 1: 1 + 1 + 1;
    # input 2 at position 3: 1 + 3 + 1; the input marker (padded element 3 never fires) at
    # position 4: 1 + 4 + 1; S_x = ceil(5 / 1) + 2 = 7; the state marker at 1 + 7 + 1 + 1;
    # floor 1 + 7 + 1 + 1 + 1
    assert entries == [(5, 2), (0, 3), (2, 5), (None, 6), (None, 10)]
    assert floor == 11
    x, fx = ref.plan(0, 0, "x")
    r, fr = ref.plan(0, 0, "r")
    assert (x, fx) == ([(5, 2), (0, 3), (2, 5), (None, 6)], 7)
    assert (r, fr) == ([(None, 3)], 4)          # separate R phase: S_x = 0
    # two elements per cycle: positions 0,1 | 2,3 | 4; S_x = ceil(5 / 2) + 2 = 5
    cfg2 = cfg.model_copy(update={"event_scan": cfg.event_scan.model_copy(update={"elements_per_cycle": 2})})
    entries, floor = Reference(cfg2, _one_layer_trace(3, 2, 1, [{0, 2}], [{1}], [0])).plan(0, 0, "xr")
    assert entries == [(0, 2), (2, 3), (None, 4), (3 + 1, 1 + 5 + 0 + 1)]
    assert floor == 1 + 5 + 0 + 1 + 1


def test_bias_column_and_v2_columns():
    """With skip_activity off every input/recurrent column is read; the bias follows bias_fires."""
    cfg = config_from_dict({"bias_column": True, "skip_activity": False}, "<test>")
    ref = Reference(cfg, _one_layer_trace(2, 1, 2, [{1}, set()], [{0}, set()], [1, 0]))
    assert ref.plan(0, 0, "x") == ([(3, 0), (0, 0), (1, 0)], 0)
    assert ref.plan(0, 1, "x") == ([(0, 0), (1, 0)], 0)
    cfg = config_from_dict({"bias_column": True}, "<test>")
    ref = Reference(cfg, _one_layer_trace(2, 1, 2, [{1}, set()], [{0}, set()], [1, 0]))
    assert ref.plan(0, 0, "xr") == ([(3, 0), (1, 0), (2, 0)], 0)
    assert ref.plan(0, 1, "xr") == ([], 0)
    # the bias column: gate rows where bias_x or bias_r is nonzero (here all 3, bias_x = 1)
    assert ref.clusters[0]["tab"].work[3].sum() == 3


def test_startup_delays_everything_but_counts_no_stall():
    trace = _one_layer_trace(2, 2, 3, [{0}, {1}, set()], [set(), {0}, {1}], [1, 0, 0],
                             events=np.array([[1.0, 0], [0, 1.0], [0, 0]]))
    for mapping in ("spatial", "temporal"):
        base = Reference(config_from_dict({"mapping": mapping}, "<t>"), trace).run()
        late = Reference(config_from_dict({"mapping": mapping, "startup_cycles": 3}, "<t>"), trace).run()
        assert late["cycles"] == base["cycles"] + 3
        np.testing.assert_array_equal(late["latency"], base["latency"])
        assert late["per_layer"] == base["per_layer"]


def test_relative_indices_and_nm_columns_by_hand():
    """The reference's own csc_relative and nm columns on the examples of docs/architecture.md."""
    w = np.zeros((40, 1))
    w[[0, 20, 39], 0] = 1.0
    cfg = _cfg(weight_format="csc_relative", weight_sram={"banks": 1, "bank_width_bits": 16},
               precision={"index_bits": 4})
    tab = RefColumns(cfg, w)            # paddings on rows 16 and 36 (PE 0): 5 entries
    assert tab.work[0].tolist() == [4, 1] and tab.val_words[0].tolist() == [3]
    assert tab.meta_words[0].tolist() == [2] and tab.ptr_bits == 8
    w = np.zeros((10, 1))
    w[[0, 1, 5, 8], 0] = 1.0
    cfg = _cfg(weight_format="nm", weight_sram={"bank_width_bits": 16}, precision={"index_bits": 4})
    tab = RefColumns(cfg, w)            # groups 0 and 2 on bank / PE 0, group 1 on bank / PE 1
    assert tab.work[0].tolist() == [4, 2] and tab.val_words[0].tolist() == [2, 1]
    assert tab.meta_words[0].tolist() == [1, 1] and tab.ptr_bits == 0
