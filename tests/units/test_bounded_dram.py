"""The bounded DRAM path on hand-checked cases: staging buffer, outstanding-request limit and burst
arbitration of the channel (docs/architecture.md, "Bounded DRAM path"). Every figure below is
derived by hand in the comments; the fast units and the cycle-stepped reference must both give it."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from accelsim.config import config_from_dict
from accelsim.engine.arbiter import BurstChannel
from accelsim.engine.prepare import ClusterWork, _phase
from accelsim.trace.format import CSC
from accelsim.units import pe_array as pa
from accelsim.units.dram import grant_cycles
from accelsim.units.weight_sram import column_tables
from tests.reference.model import RefChannel, RefColumns, RefPhase, ref_pe_phase


def stream_config(**dram):
    """One PE with one MAC lane, 8-row dense columns of 8-bit weights streamed from DRAM: a column
    is 8 bytes (two 4-byte bursts), 2 cycles on a 4-byte channel, 8 MACs (8 cycles) on the PE."""
    d = {"bandwidth_bytes_per_cycle": 4, "latency_cycles": 10, "burst_bytes": 4}
    d.update(dram)
    return config_from_dict({
        "pe": {"count": 1, "mac_lanes": 1, "fifo_depth": 4, "mac_latency_cycles": 1},
        "dispatcher": {"events_per_cycle": 1, "pointer_read_cycles": 1},
        "weight_sram": {"banks": 1, "bank_width_bits": 64, "read_latency_cycles": 1},
        "precision": {"weight_bits": 8, "index_bits": 16},
        "weight_format": "dense", "weight_storage": "dram", "skip_weights": False, "dram": d})


MATRIX = CSC.from_dense(np.ones((8, 3)))


def fast_phase(cfg, cols):
    t = column_tables(cfg, MATRIX)
    stats = np.zeros(pa.N_STATS, np.int64)
    d = cfg.dram
    end, hold = pa.pe_phase(np.array(cols, np.int64), t.bank_words, t.pe_work, t.weight_read_bits,
                            t.metadata_read_bits, t.dram_bytes, t.dram_cycles, t.conflict_cycles,
                            1, 1, 1, cfg.pe.fifo_depth, 1, 1, d.latency_cycles, stats,
                            np.zeros(1, np.int64), np.zeros(1, np.int64),
                            np.zeros(0, np.int64), 0, t.n_cols, 0, d.issue == "on_dispatch", 0,
                            False, d.staging_buffer_bytes or 0, d.max_outstanding or 0)
    return int(end), int(hold), int(stats[pa.S_DRAM_DATA])


def ref_phase(cfg, cols):
    end, hold, st, _ = ref_pe_phase(cfg, RefColumns(cfg, MATRIX.to_dense()), [(c, 0) for c in cols])
    return end, hold, st["dram_data"]


# Columns 0, 1, 2, dispatched at 0, 1, 2 (eligible 1, 2, 3); each 2 channel cycles after a
# 10-cycle latency, ready 1 cycle after its last beat, 8 cycles on the PE; end = last fin + 1.
#
# unbounded: requested at 0, beats end at 12, 14, 16; ready 13, 15, 17; PE 13-21, 21-29, 29-37;
#   end 38; dram_data (12-1) + (14-2) + (16-3) = 36; the channel held until 16.
# staging 8 bytes (one column): column 1 waits for column 0's room, free when its last MAC
#   issued (21): requested at 21, beats 31-33, ready 34, PE 34-42; column 2 requested at 42,
#   beats 52-54, ready 55, PE 55-63; end 64; dram_data 11 + 31 + 51 = 93; held until 54.
# staging 16 bytes (two columns): column 1 requested at 0 (beats 12-14, ready 15, PE 21-29);
#   column 2 waits for column 0's room (21): beats 31-33, ready 34, PE 34-42; end 43;
#   dram_data 11 + 12 + 30 = 53; held until 33.
# max_outstanding 1: each column requested when the previous one arrived: beats end at 12, 24,
#   36; ready 13, 25, 37; PE 13-21, 25-33, 37-45; end 46; dram_data 11 + 22 + 33 = 66.
# max_outstanding 2: column 2 requested when column 0 arrived (12): beats 22-24 (the latency is
#   longer than a column), ready 25, PE 29-37 (after column 1): end 38 as unbounded, but
#   dram_data 11 + 12 + 21 = 44 and the channel held until 24.
CASES = [({}, (38, 16, 36)),
         ({"staging_buffer_bytes": 8}, (64, 54, 93)),
         ({"staging_buffer_bytes": 16}, (43, 33, 53)),
         ({"staging_buffer_bytes": 24}, (38, 16, 36)),
         ({"max_outstanding": 1}, (46, 36, 66)),
         ({"max_outstanding": 2}, (38, 24, 44)),
         ({"max_outstanding": 3}, (38, 16, 36))]


@pytest.mark.parametrize("dram, expect", CASES)
def test_staging_buffer_and_request_limit_by_hand(dram, expect):
    cfg = stream_config(**dram)
    assert fast_phase(cfg, [0, 1, 2]) == expect
    assert ref_phase(cfg, [0, 1, 2]) == expect


def test_on_dispatch_requests_wait_for_room_too():
    """on_dispatch, staging 8: column 0 requested at 1 (eligible), beats 11-13, ready 14, PE 14-22;
    column 1 dispatched at 1 but requested only at 22 (room), beats 32-34, ready 35, PE 35-43;
    column 2 requested at 43, beats 53-55, ready 56, PE 56-64; end 65; dram_data
    (13-1) + (34-2) + (55-3) = 96."""
    cfg = stream_config(issue="on_dispatch", staging_buffer_bytes=8)
    assert fast_phase(cfg, [0, 1, 2]) == (65, 55, 96)
    assert ref_phase(cfg, [0, 1, 2]) == (65, 55, 96)


def _work(cfg, n_clusters):
    """``n_clusters`` clusters whose only phase reads column 0 at step 0 (a decoder-like cluster)."""
    t = column_tables(cfg, MATRIX)
    out = []
    for i in range(n_clusters):
        ph = _phase(cfg, t, np.array([0, 1]), np.array([0]), 0, 0)
        out.append(ClusterWork(f"c{i}", 0, [ph], None, np.zeros(1, np.int64), 0, 0, 0, ("x",)))
    return out


def test_burst_arbitration_interleaves_two_clusters_by_hand():
    """Two clusters each start a phase of one 8-byte column at cycle 0; 2-byte channel: the column
    is 4 cycles, a grant (one 4-byte burst) 2 cycles; latency 3, so both can take the channel
    from cycle 3. Round robin: cluster 0 gets 3-4, cluster 1 5-6, cluster 0 7-8 (its beats end at
    9: ready 10, one 8-cycle PE item 10-18, end 19), cluster 1 9-10 (beats end at 11, ready 12,
    PE 12-20, end 21). Waits: cluster 0 from 5 to 7 (2), cluster 1 from 3 to 5 and 7 to 9 (4).
    With phase arbitration cluster 0 would hold the channel from 0 to 7 (its beats end at 7, its
    phase at 17) and cluster 1 would wait until 7: beats end at 14, phase end at 24."""
    cfg = stream_config(bandwidth_bytes_per_cycle=2, latency_cycles=3, arbitration="burst")
    assert grant_cycles(4, 2) == 2
    env = simpy.Environment()
    work = _work(cfg, 2)
    ch = BurstChannel(env, cfg, work)
    ends = {}

    def proc(i):
        yield ch.run(i, 0, 0)
        ends[i] = env.now
    for i in range(2):
        env.process(proc(i))
    env.run()
    assert ends == {0: 19, 1: 21}
    assert (ch.contention(0), ch.contention(1)) == (2, 4)
    assert [int(w.phases[0].dram_hold[0]) for w in work] == [9, 11]
    assert [int(w.phases[0].stats[pa.S_DRAM_DATA]) for w in work] == [9 - 1, 11 - 1]
    assert [int(w.phases[0].stats[pa.S_BUSY]) for w in work] == [19, 21]

    # the reference: two phases ticked together, their head columns sharing the channel
    tab = RefColumns(cfg, MATRIX.to_dense())
    phases = [RefPhase(cfg, tab, [(0, 0)]) for _ in range(2)]
    chan = RefChannel(cfg, 2)
    while any(p.end is None for p in phases):
        wants = {i for i, p in enumerate(phases) if p.end is None and p.pre()}
        got = chan.arbitrate(wants)
        for i, p in enumerate(phases):
            if p.end is None and p.post(i == got):
                chan.column_done(i)
    assert [p.end for p in phases] == [19, 21] and chan.wait == [2, 4]


def test_phase_arbitration_holds_the_channel_for_the_whole_transfer():
    """The same two phases with phase arbitration: each alone would end at 17 (beats end at 7,
    ready 8, PE 8-16, end 17) and holds the channel 7 cycles, so in the spatial engine the second
    one starts at 7 and ends at 24. Here: the unit's duration and hold."""
    cfg = stream_config(bandwidth_bytes_per_cycle=2, latency_cycles=3)
    assert fast_phase(cfg, [0]) == (17, 7, 6)
    assert ref_phase(cfg, [0]) == (17, 7, 6)
