"""Functional units on hand-checked cases."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.config import config_from_dict
from accelsim.errors import InputError
from accelsim.trace.format import CSC
from accelsim.units import pe_array as pa
from accelsim.units.update_unit import update_phases
from accelsim.units.weight_sram import column_tables, owner_of_rows


def cfg(**kw):
    base = {"pe": {"count": 4, "mac_lanes": 1}, "weight_sram": {"banks": 4, "bank_width_bits": 64},
            "precision": {"weight_bits": 8, "index_bits": 16}}
    base.update(kw)
    return config_from_dict(base)


def test_layouts():
    rows = np.arange(10)
    assert owner_of_rows("row_interleaved", rows, 10, 4).tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]
    assert owner_of_rows("blocked", rows, 10, 4).tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]


def _one_column(rows, n_rows=24):
    w = np.zeros((n_rows, 1))
    w[rows, 0] = 1.0
    return CSC.from_dense(w)


def test_csc_words_and_bits():
    # 9 nonzeros all in bank 0 (rows 0, 4, ... 32 interleaved over 4 banks)
    t = column_tables(cfg(weight_format="csc"), _one_column(list(range(0, 36, 4)), 36))
    assert t.bank_words[0].tolist() == [2 + 3, 0, 0, 0]   # ceil(9/8) values + ceil(9/4) indices
    assert t.weight_read_bits[0] == 2 * 64 and t.metadata_read_bits[0] == 3 * 64 + 32
    assert t.conflict_cycles[0] == 5 - 2                    # 5 words on one bank vs ceil(5/4)


def test_bitmap_and_dense_words():
    t = column_tables(cfg(weight_format="bitmap"), _one_column([0, 1], 24))
    assert t.bank_words[0].tolist() == [2, 2, 1, 1]         # bitmap word each + one value word
    assert t.metadata_read_bits[0] == 4 * 64 + 16
    t = column_tables(cfg(weight_format="dense"), _one_column([0], 24))
    assert t.bank_words[0].tolist() == [1, 1, 1, 1] and t.metadata_read_bits[0] == 0
    assert t.pe_work[0].tolist() == [1, 0, 0, 0]


def test_skip_weights_off_multiplies_every_row():
    t = column_tables(cfg(skip_weights=False), _one_column([0], 24))
    assert t.pe_work[0].tolist() == [6, 6, 6, 6]


def test_dram_column_bytes():
    c = cfg(weight_storage="dram", weight_format="csc", dram={"burst_bytes": 16, "bandwidth_bytes_per_cycle": 4})
    t = column_tables(c, _one_column([0, 1, 2], 24))
    assert t.dram_bytes[0] == 16            # 3 x 24 bits = 9 bytes -> one 16-byte burst
    assert t.dram_cycles[0] == 4 and t.bank_words[0].sum() == 0
    assert t.metadata_read_bits[0] == 32         # the pointer pair from the on-chip pointer table


def test_word_narrower_than_a_weight_is_refused():
    with pytest.raises(InputError, match="weight_bits"):
        column_tables(cfg(precision={"weight_bits": 16, "index_bits": 8}, weight_sram={"bank_width_bits": 8}),
                      _one_column([0]))


def _phase(c, w, cols, dram_latency=100):
    t = column_tables(c, w)
    s = np.zeros(pa.N_STATS, np.int64)
    pe = np.zeros(c.pe.count, np.int64)
    d, h = pa.pe_phase(np.array(cols, np.int64), t.bank_words, t.pe_work, t.weight_read_bits,
                       t.metadata_read_bits, t.dram_bytes, t.dram_cycles, t.conflict_cycles,
                       c.dispatcher.events_per_cycle, c.dispatcher.pointer_read_cycles,
                       c.weight_sram.read_latency_cycles, c.pe.fifo_depth, c.pe.mac_lanes,
                       c.pe.mac_latency_cycles, dram_latency, s, pe, np.zeros(c.weight_sram.banks, np.int64),
                       *pa.plain_mechanisms(t.n_cols))
    return d, h, s


def test_single_event_cycles():
    # one PE, 2 lanes, 5 MACs: dispatch 0, banks from 1, 1 word -> ready 3, MACs 3..5, +2 drain
    c = cfg(pe={"count": 1, "mac_lanes": 2, "mac_latency_cycles": 2}, weight_sram={"banks": 1},
            weight_format="dense", precision={"weight_bits": 8})
    d, h, s = _phase(c, _one_column([0, 1, 2, 3, 4], 8), [0])
    assert (d, h) == (8, 0) and s[pa.S_MACS] == 5


def test_empty_batch_is_free():
    d, h, s = _phase(cfg(), _one_column([0]), [])
    assert (d, h) == (0, 0) and s.sum() == 0


def test_dram_stream_times():
    # 2 columns of 16 bytes each at 4 B/cycle after 10 cycles of latency: data at 14 and 18
    c = cfg(weight_storage="dram", pe={"count": 1, "mac_lanes": 8, "fifo_depth": 4, "mac_latency_cycles": 1},
            weight_sram={"banks": 1, "read_latency_cycles": 1},
            dram={"burst_bytes": 16, "bandwidth_bytes_per_cycle": 4})
    w = np.zeros((8, 2))
    w[:3, :] = 1
    d, h, s = _phase(c, CSC.from_dense(w), [0, 1], dram_latency=10)
    assert h == 18                          # channel held until the last burst arrived
    assert d == 18 + 1 + 1 + 1              # read latency, one MAC cycle, one drain
    assert s[pa.S_DRAM_BYTES] == 32 and s[pa.S_DRAM_DATA] == (14 - 1) + (18 - 2)


def test_update_unit_encoder_rate():
    # H=8, U=4 -> 2 groups, latency 3: results at 3 (units 0-3) and 4 (units 4-7)
    ptr = np.array([0, 4], np.int64)
    units = np.array([0, 1, 2, 5], np.int64)
    assert update_phases(ptr, units, 8, False, 4, 3, 1).tolist() == [7]   # emits at 3,4,5,6
    assert update_phases(ptr, units, 8, False, 4, 3, 2).tolist() == [5]   # emits at 3,3,4,4
    assert update_phases(ptr, units, 8, True, 4, 3, 8).tolist() == [5]    # dense: all 8 units
