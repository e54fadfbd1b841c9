"""The worked example of docs/architecture.md, number by number."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.config import config_from_dict
from accelsim.trace.format import CSC
from accelsim.units import pe_array as pa
from accelsim.units.update_unit import update_phases
from accelsim.units.weight_sram import column_tables
from tests.reference.model import RefColumns, ref_pe_phase


def example_config(fifo_depth=1):
    return config_from_dict({
        "pe": {"count": 2, "mac_lanes": 2, "fifo_depth": fifo_depth, "mac_latency_cycles": 2},
        "dispatcher": {"events_per_cycle": 1, "pointer_read_cycles": 1},
        "weight_sram": {"banks": 2, "bank_width_bits": 64, "read_latency_cycles": 1},
        "precision": {"weight_bits": 8, "index_bits": 16},
        "layout": "row_interleaved", "weight_format": "csc",
        "update_unit": {"lanes": 1, "latency_cycles": 2, "encoder_events_per_cycle": 1},
    })


def example_matrix():
    w = np.zeros((6, 4))
    w[[0, 2, 4, 5], 0] = [0.5, -1.0, 0.25, 2.0]   # column 0: rows 0, 2, 4, 5
    w[1, 1] = 1.5                                  # column 1: row 1
    return CSC.from_dense(w)


def run(cfg, cols):
    t = column_tables(cfg, example_matrix())
    stats = np.zeros(pa.N_STATS, np.int64)
    pe = np.zeros(cfg.pe.count, np.int64)
    banks = np.zeros(cfg.weight_sram.banks, np.int64)
    d, h = pa.pe_phase(np.array(cols, np.int64), t.bank_words, t.pe_work, t.weight_read_bits,
                       t.metadata_read_bits, t.dram_bytes, t.dram_cycles, t.conflict_cycles,
                       1, 1, 1, cfg.pe.fifo_depth, 2, 2, 100, stats, pe, banks,
                       *pa.plain_mechanisms(t.n_cols))
    return t, d, stats, pe, banks


def test_tables():
    t, *_ = run(example_config(), [0, 1])
    assert t.pe_work[0].tolist() == [3, 1] and t.pe_work[1].tolist() == [0, 1]
    assert t.bank_words[0].tolist() == [2, 2] and t.bank_words[1].tolist() == [0, 2]
    assert t.conflict_cycles.tolist()[:2] == [0, 1]


def test_phase_with_fifo_depth_1():
    _, d, s, pe, banks = run(example_config(1), [0, 1])
    assert banks.tolist() == [2, 4]
    assert d == 12
    assert s[pa.S_MACS] == 5 and pe.tolist() == [3, 2]
    assert s[pa.S_FIFO_FULL] == 4
    assert s[pa.S_BANK_CONFLICT] == 1 and s[pa.S_LOAD_IMBALANCE] == 0
    assert s[pa.S_WEIGHT_BITS] == 192 and s[pa.S_METADATA_BITS] == 256


def test_phase_with_fifo_depth_2():
    _, d, s, _, _ = run(example_config(2), [0, 1])
    assert d == 9 and s[pa.S_FIFO_FULL] == 0


@pytest.mark.parametrize("depth", [1, 2])
def test_reference_ticks_the_same(depth):
    cfg = example_config(depth)
    d, hold, st, pe = ref_pe_phase(cfg, RefColumns(cfg, example_matrix().to_dense()), [(0, 0), (1, 0)])
    assert (d, st["fifo_full"]) == ((12, 4) if depth == 1 else (9, 0))


def test_update_phase():
    dur = update_phases(np.array([0, 2], np.int64), np.array([0, 1], np.int64), 2, False, 1, 2, 1)
    assert dur.tolist() == [4]
