"""Chip area (area_mm2) from the area table, leakage by area (energy.leakage: area), and the
shipped 16 nm table derived from the 45 nm one."""

from __future__ import annotations

import math

import pytest
import yaml

from accelsim.config import config_from_dict, load_config, load_energy_table, shipped_energy_tables
from accelsim.config.load import SHIPPED_TABLES
from accelsim.energy.area import COMPONENTS, chip_area, sram_efficiency
from accelsim.engine import simulate
from accelsim.errors import InputError
from accelsim.trace import load_trace, save_trace
from tests.conftest import REPO
from tests.reference.result_ref import assert_result_agrees, ref_area
from tests.reference.tracegen import random_trace

T45 = load_energy_table(SHIPPED_TABLES / "45nm.yaml")
T16 = load_energy_table(SHIPPED_TABLES / "16nm.yaml")
PTB = REPO / "workloads" / "ptb.npz"
CONFIGS = ("arch_a", "arch_b", "edgedrnn")

TINY = {"precision": {"weight_bits": 8, "value_bits": 16, "index_bits": 16, "accumulator_bits": 32},
        "pe": {"count": 2, "mac_lanes": 3, "fifo_depth": 4},
        "weight_sram": {"banks": 2, "bank_width_bits": 64, "capacity_bytes": 8192},
        "event_queue": {"depth": 16, "event_bits": 32}, "update_unit": {"lanes": 2},
        "weight_format": "csc", "clock_mhz": 500.0}


def _cfg(**over):
    d = yaml.safe_load(yaml.safe_dump(TINY))
    for k, v in over.items():
        if isinstance(v, dict):
            d.setdefault(k, {}).update(v)
        else:
            d[k] = v
    return config_from_dict(d, "<test>")


def test_area_by_hand():
    """One layer (n_in 2, H 4: 12 rows, 6 columns) on the 45 nm table, every component worked."""
    trace = random_trace(sizes=(2, 4), tokens=3, seed=1)
    a = chip_area(_cfg(), T45, trace)
    # SRAM of 8 KiB in banks of 4 KiB: efficiency 0.25 + (0.45 - 0.25) x log(8)/log(16) = 0.40
    assert sram_efficiency(T45.area, 4096) == pytest.approx(0.40, rel=1e-12)
    um2 = {
        "weight_sram": 65536 * 0.346 / 0.40,
        "pointer_table": 6 * 32 * 0.346 / 0.25,        # 6 pointer pairs, 24 bytes: clamped at 0.25
        "event_queue": 4 * 32 * 0.346 / 0.25,          # the recurrent queue only (one layer)
        "mac": 6 * (282 * 128 / 64 + 137),              # 8 x 16 multiply from int8, 32-bit add
        "accumulator": 12 * 2 * 2 * 32 * 4.522,         # rows x (input, recurrent) x double buffer
        "pe_fifo": 2 * 4 * 32 * 4.522,
        "update": 2 * (3 * 4000 + 3 * 3495 + 12 * 137 + 36) + 4 * 32 * 4.522,
        "dram_interface": 0.0,
    }
    assert list(a) == ["total", *COMPONENTS]
    for k, v in um2.items():
        assert a[k] == pytest.approx(v / 1e6, rel=1e-12), k
    assert a["total"] == pytest.approx(0.11834976, rel=1e-12)
    # leakage by area: SRAM arrays at 2.7 mW/mm2, the rest at 27, for cycles / 500 MHz
    r = simulate(_cfg(energy={"leakage": "area"}), trace, T45)
    sram = (um2["weight_sram"] + um2["pointer_table"] + um2["event_queue"]) / 1e6
    logic = (um2["mac"] + um2["accumulator"] + um2["pe_fifo"] + um2["update"]) / 1e6
    mw = sram * 2.7 + logic * 27.0
    assert mw == pytest.approx(1.807147584, rel=1e-12)
    assert r["energy_pj"]["leakage"] == pytest.approx(mw * 1e-3 * r["cycles"] / 500e6 * 1e12, rel=1e-12)
    flat = simulate(_cfg(), trace, T45)
    assert flat["energy_pj"]["leakage"] == r["cycles"] * 5.0 == flat["cycles"] * 5.0


def test_streamed_weights_have_no_weight_sram_but_a_dram_interface():
    trace = random_trace(sizes=(2, 4), tokens=3, seed=1)
    a = chip_area(_cfg(weight_storage="dram"), T45, trace)
    assert a["weight_sram"] == 0 and a["dram_interface"] == 2.0
    assert a["pointer_table"] == pytest.approx(6 * 32 * 0.346 / 0.25 / 1e6, rel=1e-12)


def test_spatial_and_temporal_clusters_and_the_decoder():
    """Spatial: a PE array, weight SRAM and pointer table per layer and for the decoder, one
    update unit per layer; temporal: one of each, the accumulators of the largest cluster."""
    trace = random_trace(sizes=(3, 4, 5), tokens=2, vocab=7, decoder=True, seed=3)
    sp = chip_area(_cfg(include_decoder=True), T45, trace)
    tp = chip_area(_cfg(include_decoder=True, mapping="temporal"), T45, trace)
    assert sp["mac"] == pytest.approx(3 * tp["mac"], rel=1e-12)
    assert sp["weight_sram"] == pytest.approx(3 * tp["weight_sram"], rel=1e-12)
    # accumulators: layer0 12 rows, layer1 15 rows (x 2 sums x 2 buffers), decoder 7 rows x 2
    assert sp["accumulator"] == pytest.approx((12 * 4 + 15 * 4 + 7 * 2) * 32 * 4.522 / 1e6, rel=1e-12)
    assert tp["accumulator"] == pytest.approx(15 * 4 * 32 * 4.522 / 1e6, rel=1e-12)
    # queues: into layer 1 and into the decoder (16 x 32 bits), recurrent queues of 4 and 5 events
    q = (2 * 16 * 32 + 4 * 32 + 5 * 32) * 0.346 / 0.25 / 1e6
    assert sp["event_queue"] == pytest.approx(q, rel=1e-12) and tp["event_queue"] == sp["event_queue"]
    for cfg in (_cfg(include_decoder=True), _cfg(include_decoder=True, mapping="temporal")):
        assert chip_area(cfg, T45, trace) == pytest.approx(ref_area(cfg, trace, T45), rel=1e-12)


@pytest.mark.parametrize("name", CONFIGS)
def test_total_is_the_sum_of_the_components(name):
    cfg = load_config(REPO / "configs" / f"{name}.yaml")
    r = simulate(cfg, load_trace(PTB), T45, tokens=5)
    a = r["area_mm2"]
    assert set(a) == {"total", *COMPONENTS} and a["total"] > 0
    s = 0.0
    for k in COMPONENTS:
        assert a[k] >= 0
        s += a[k]
    assert a["total"] == s and a["total"] == pytest.approx(math.fsum(a[k] for k in COMPONENTS), rel=1e-15)


def test_shipped_design_areas():
    """The figures the documentation quotes (45 nm table, the shipped PTB trace's model)."""
    trace = load_trace(PTB)
    got = {n: chip_area(load_config(REPO / "configs" / f"{n}.yaml"), T45, trace)["total"] for n in CONFIGS}
    assert got == pytest.approx({"arch_a": 106.5531, "arch_b": 3.1074, "edgedrnn": 2.9164}, abs=5e-5)


@pytest.mark.parametrize("field, values", [("pe.count", (8, 16, 32)),
                                           ("weight_sram.capacity_bytes", (1 << 20, 1 << 23, 1 << 25))])
def test_area_and_area_leakage_grow_with_pes_and_sram(field, values):
    section, key = field.split(".")
    base = load_config(REPO / "configs" / "arch_a.yaml").model_dump(mode="json")
    base["energy"]["leakage"] = "area"
    trace = random_trace(sizes=(20, 24, 16), tokens=6, weight_density=0.3, activity=0.3, seed=4)
    areas, leak_per_cycle = [], []
    for v in values:
        d = yaml.safe_load(yaml.safe_dump(base))
        d[section][key] = v
        r = simulate(config_from_dict(d, "<test>"), trace, T45)
        areas.append(r["area_mm2"]["total"])
        leak_per_cycle.append(r["energy_pj"]["leakage"] / r["cycles"])
    assert areas == sorted(areas) and len(set(areas)) == len(areas)
    assert leak_per_cycle == sorted(leak_per_cycle) and len(set(leak_per_cycle)) == len(values)


def test_area_leakage_agrees_with_the_reference_on_both_tables():
    trace = random_trace(sizes=(4, 5, 3), tokens=4, vocab=3, decoder=True, seed=6)
    for over in ({}, {"mapping": "temporal", "include_decoder": True},
                 {"weight_storage": "dram", "update_unit": {"lanes": 2, "nonlinearity": "pwl"}}):
        cfg = _cfg(energy={"leakage": "area"}, **over)
        for table in (T45, T16):
            assert_result_agrees(cfg, trace, table=table, baseline=True)


def _table_without_area(tmp_path):
    t = yaml.safe_load((SHIPPED_TABLES / "45nm.yaml").read_text())
    del t["area"]
    t["name"] = "no-area"
    (tmp_path / "na.yaml").write_text(yaml.safe_dump(t))
    return tmp_path / "na.yaml"


def test_a_table_without_area_gives_no_area_and_refuses_area_leakage(cli, tmp_path):
    table = load_energy_table(_table_without_area(tmp_path))
    trace = random_trace(sizes=(2, 3), tokens=2, seed=0)
    r = simulate(_cfg(), trace, table, baseline=True)
    assert r["area_mm2"] is None and r["baseline"]["area_mm2"] is None
    with pytest.raises(InputError, match="energy.leakage is 'area' but the energy table no-area has no area section"):
        simulate(_cfg(energy={"leakage": "area"}), trace, table)
    save_trace(tmp_path / "t.npz", trace)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("energy_table: na.yaml\nenergy: {leakage: area}\n")
    for argv in (("config", "check", cfg), ("run", cfg, "--trace", tmp_path / "t.npz", "--quiet")):
        code, out, err = cli(*argv)
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert err.startswith(f"accelsim: error: {cfg}: energy.leakage is 'area' but the energy table "
                              f"no-area has no area section"), err
    cfg.write_text("energy: {leakage: size}\n")
    code, out, err = cli("config", "check", cfg)
    assert code == 2 and err.count("\n") == 1 and "energy.leakage: unknown value; expected one of 'flat' or 'area'" in err


def test_the_16nm_table_is_the_45nm_table_scaled_by_its_stated_factors():
    """Energies x E, areas x A, leakage per mm2 x E / A (Stillmaker and Baas 2017, the header
    of 16nm.yaml), DRAM energy, SRAM efficiencies and the DRAM interface kept; 4 digits."""
    assert "16nm" in shipped_energy_tables()
    E = (0.2958 * 0.8 ** 2 - 0.1241 * 0.8 + 0.03024) / (1.018 * 0.9 ** 2 - 0.3107 * 0.9 + 0.1539)
    A = 0.19
    assert E == pytest.approx(0.17210, abs=5e-6)

    def r4(x):
        return float(f"{x:.4g}")

    a, b = T45, T16
    for k, e in a.arithmetic.items():
        assert (b.arithmetic[k].add_pj, b.arithmetic[k].mult_pj) == (r4(e.add_pj * E), r4(e.mult_pj * E))
        ea, eb = a.area.arithmetic[k], b.area.arithmetic[k]
        assert (eb.add_um2, eb.mult_um2) == (r4(ea.add_um2 * A), r4(ea.mult_um2 * A))
    assert [(p.size_bytes, p.read_64b_pj) for p in b.sram_read] == \
        [(p.size_bytes, r4(p.read_64b_pj * E)) for p in a.sram_read]
    for f in ("register_access_64b_pj", "nonlinearity_pj", "compare_pj", "leakage_pj_per_cycle"):
        assert getattr(b, f) == r4(getattr(a, f) * E), f
    assert b.dram_read_64b_pj == a.dram_read_64b_pj
    for f in ("sram_cell_um2", "register_bit_um2", "nonlinearity_um2", "compare_um2"):
        assert getattr(b.area, f) == r4(getattr(a.area, f) * A), f
    assert b.area.sram_array_efficiency == a.area.sram_array_efficiency
    assert b.area.dram_interface_mm2 == a.area.dram_interface_mm2
    for f in ("sram", "logic"):
        assert getattr(b.area.leakage_mw_per_mm2, f) == r4(getattr(a.area.leakage_mw_per_mm2, f) * E / A)


def test_16nm_is_selectable_and_smaller(tmp_path):
    trace = random_trace(sizes=(6, 8, 5), tokens=4, seed=2)
    p = tmp_path / "c.yaml"
    p.write_text((REPO / "configs" / "arch_a.yaml").read_text().replace("energy_table: 45nm", "energy_table: 16nm"))
    from accelsim.config import resolve_energy_table
    cfg = load_config(p)
    table = resolve_energy_table(cfg, p)
    assert table.name == "16nm"
    r16 = simulate(cfg, trace, table)
    r45 = simulate(cfg, trace, T45)
    assert r16["cycles"] == r45["cycles"]
    assert r16["area_mm2"]["total"] < 0.25 * r45["area_mm2"]["total"]
    assert r16["energy_pj"]["total"] < r45["energy_pj"]["total"]
    assert r16["energy_table"] == "16nm"
