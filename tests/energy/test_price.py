"""Energy pricing: table look-ups, scaling rules and the bookkeeping of components."""

from __future__ import annotations

import pytest

from accelsim.config import load_config, load_energy_table
from accelsim.energy import arithmetic_pj, price, sram_read_64b_pj
from accelsim.energy.price import COMPONENTS

TABLE = load_energy_table("configs/energy/45nm.yaml")
ARCH_A = load_config("configs/arch_a.yaml")


def test_arithmetic_table_and_scaling():
    assert arithmetic_pj(TABLE, "int", "mult", 8, 8) == pytest.approx(0.2)
    assert arithmetic_pj(TABLE, "int", "add", 32) == pytest.approx(0.1)
    assert arithmetic_pj(TABLE, "int", "mult", 8, 16) == pytest.approx(0.4)     # 0.2 x 128/64
    assert arithmetic_pj(TABLE, "int", "add", 16) == pytest.approx(0.06)        # 0.03 x 16/8
    assert arithmetic_pj(TABLE, "fp", "mult", 16, 16) == pytest.approx(1.1)


def test_sram_interpolation():
    assert sram_read_64b_pj(TABLE, 8192) == pytest.approx(10.0)
    assert sram_read_64b_pj(TABLE, 16384) == pytest.approx(10.0 * 2 ** 0.5)   # log-log midpoint
    assert sram_read_64b_pj(TABLE, 1024) == 10.0 and sram_read_64b_pj(TABLE, 1 << 30) == 100.0


def test_price_by_hand():
    counts = dict(macs=1000, sram_weight_bits=6400, sram_metadata_bits=640, dram_read_bytes=80,
                  unit_updates=10, queue_events=4)
    e = price(counts, ARCH_A, TABLE, cycles=100)
    assert list(e) == ["total", *COMPONENTS]
    bank = sram_read_64b_pj(TABLE, 8 * 2 ** 20 / 16)
    assert e["mac"] == pytest.approx(1000 * (0.4 + 0.1))
    assert e["accumulator"] == pytest.approx(1000 * 2 * 32 / 64 * 1.0)
    assert e["sram_weights"] == pytest.approx(100 * bank)
    assert e["sram_metadata"] == pytest.approx(10 * bank)
    assert e["dram"] == pytest.approx(10 * 1950.0)
    assert e["update"] == pytest.approx(10 * (3 * 1.0 + 3 * 3.1 + 12 * 0.1 + 0.03))
    assert e["event_queue"] == pytest.approx(4 * 2 * 32 / 64 * 1.0)
    assert e["leakage"] == 500.0
    s = 0.0
    for k in COMPONENTS:
        s += e[k]
    assert e["total"] == s


def test_per_layer_price_has_no_leakage():
    e = price(dict(macs=1, sram_weight_bits=0, sram_metadata_bits=0, dram_read_bytes=0,
                   unit_updates=0, queue_events=0), ARCH_A, TABLE, cycles=None)
    assert "leakage" not in e
