"""The --baseline runs: the dense design (default) and the same hardware with both skips off
(no-skip), their rule for where the dense weights live, and the figures they give."""

from __future__ import annotations

import pytest

from accelsim.config import config_from_dict, load_config, load_energy_table
from accelsim.engine import baseline_config, simulate
from accelsim.engine.simulate import dense_weights_fit
from accelsim.errors import InputError
from accelsim.trace import load_trace
from tests.conftest import REPO
from tests.reference.result_ref import assert_result_agrees, stored_bytes
from tests.reference.tracegen import random_trace

TABLE = load_energy_table(REPO / "configs" / "energy" / "45nm.yaml")
PTB = REPO / "workloads" / "ptb.npz"

# `accelsim run configs/NAME.yaml --trace workloads/ptb.npz --tokens 300 --baseline` before the
# dense baseline existed (the same hardware with both skips off): no-skip must give them still.
BEFORE = {  # computed by the engine at commit dbe6b90 (before the dense baseline) on this trace
    "arch_a": dict(cycles=546240, speedup=8.395494654364382, energy=4.562846169422391,
                   base_cycles=4585955, base_pj=4840335236.077925,
                   base_bits={"weights": 1240262400, "metadata": 2198956800}, base_dram=0),
    "arch_b": dict(cycles=19673272, speedup=4.007772575909081, energy=4.0499910316976315,
                   base_cycles=78846000, base_pj=153884829000.0,
                   base_bits={"weights": 0, "metadata": 0}, base_dram=625920000),
}


@pytest.fixture(scope="module")
def ptb():
    return load_trace(PTB)


def _run(name, trace, kind, tokens=300):
    cfg = load_config(REPO / "configs" / f"{name}.yaml")
    return simulate(cfg, trace, TABLE, tokens=tokens, baseline=True, baseline_kind=kind)


@pytest.mark.parametrize("name", ["arch_a", "arch_b"])
def test_no_skip_reproduces_the_figures_of_the_same_hardware_baseline(ptb, name):
    r = _run(name, ptb, "no-skip")
    want = BEFORE[name]
    b = r["baseline"]
    assert (b["kind"], b["weight_format"]) == ("no-skip", load_config(REPO / "configs" / f"{name}.yaml").weight_format)
    assert r["cycles"] == want["cycles"] and b["cycles"] == want["base_cycles"]
    assert b["sram_read_bits"] == want["base_bits"] and b["dram_read_bytes"] == want["base_dram"]
    assert b["macs"] == r["macs_dense"] == 612_000_000
    assert r["speedup_vs_dense"] == pytest.approx(want["speedup"], rel=1e-12)
    assert r["energy_reduction_vs_dense"] == pytest.approx(want["energy"], rel=1e-12)
    assert b["energy_pj"]["total"] == pytest.approx(want["base_pj"], rel=1e-12)


def test_the_dense_baseline_reads_no_metadata_and_does_every_mac(ptb):
    """arch_a (CSC on chip): the dense design stores 8-bit weights of every row (3H x (n_in + H)
    per layer, 8 MiB fits each layer), reads all of them every step and multiplies them all."""
    r = _run("arch_a", ptb, "dense")
    b = r["baseline"]
    assert (b["kind"], b["weight_format"], b["weight_storage"]) == ("dense", "dense", "sram")
    assert b["sram_read_bits"]["metadata"] == 0 and b["dram_read_bytes"] == 0
    assert b["macs"] == r["macs_dense"] == 612_000_000
    # every column of every layer, every token, in whole 64-bit words (8 weights) per bank: layers
    # (n_in, H) = (200, 400), (400, 400), (400, 200): 75 rows per bank (10 words) in the first two,
    # 37 or 38 (5 words) in the last
    assert b["sram_read_bits"]["weights"] == 300 * (600 * 16 * 10 + 800 * 16 * 10 + 600 * 16 * 5) * 64
    assert b["cycles"] == 4_586_858 and r["cycles"] == 546_240
    assert r["speedup_vs_dense"] == pytest.approx(4_586_858 / 546_240, rel=1e-12)
    assert r["energy_reduction_vs_dense"] == pytest.approx(6.466477138126893, rel=1e-9)
    # the dense design has no pointer table: less area than the CSC design
    assert b["area_mm2"]["pointer_table"] == 0 < r["area_mm2"]["pointer_table"]


def test_the_dense_baseline_streams_weights_that_do_not_fit(ptb):
    """arch_b (temporal, 256 KiB): the dense weights of all layers (2.04 MB) do not fit, so the
    dense design streams them from DRAM, as arch_b itself does."""
    r = _run("arch_b", ptb, "dense")
    b = r["baseline"]
    assert (b["weight_format"], b["weight_storage"]) == ("dense", "dram")
    assert b["sram_read_bits"] == {"weights": 0, "metadata": 0} and b["dram_read_bytes"] == 625_920_000
    assert b["macs"] == r["macs_dense"]


def _tiny(**over):
    d = {"pe": {"count": 2}, "weight_sram": {"banks": 2, "bank_width_bits": 64, "capacity_bytes": 1 << 20},
         "event_queue": {"depth": 4}, "update_unit": {"lanes": 2}}
    d.update(over)
    return config_from_dict(d, "<test>")


def test_where_the_dense_weights_live_follows_the_capacity_rule():
    """Spatial: each layer's dense weights against capacity_bytes; temporal: all together. The
    footprint is the dense format's (every row, whole 64-bit words per bank, no pointer)."""
    trace = random_trace(sizes=(5, 6, 4), tokens=3, weight_density=0.3, seed=8)
    # dense: every row, 8 values per 64-bit word. Layer 0: 18 rows (9 per bank: 2 words per bank)
    # x 11 columns; layer 1: 12 rows (6 per bank: 1 word) x 10 columns
    need = [11 * 2 * 2 * 8, 10 * 2 * 1 * 8]
    cfg = _tiny()
    dense = cfg.model_copy(update={"weight_format": "dense"})
    assert need == [stored_bytes(dense, l.weight.to_dense()) for l in trace.layers] == [352, 160]
    for cap, spatial, temporal in [(352, "sram", "dram"), (351, "dram", "dram"), (512, "sram", "sram"),
                                   (511, "sram", "dram")]:
        for mapping, want in (("spatial", spatial), ("temporal", temporal)):
            c = _tiny(mapping=mapping, weight_storage="dram",
                      weight_sram={"banks": 2, "bank_width_bits": 64, "capacity_bytes": cap})
            assert baseline_config(c, trace).weight_storage == want, (cap, mapping)
            assert dense_weights_fit(c.model_copy(update={"weight_format": "dense"}), trace) == (want == "sram")
            got = assert_result_agrees(c, trace, baseline=True, variant=False)
            assert got["baseline"]["weight_storage"] == want
            assert got["baseline"]["sram_read_bits"]["metadata"] == 0
            assert got["baseline"]["macs"] == got["macs_dense"]
            assert (got["baseline"]["dram_read_bytes"] > 0) == (want == "dram")


def test_the_dense_baseline_keeps_the_rest_of_the_hardware():
    """Only the format, the skips and (by the capacity rule) the weight storage change."""
    trace = random_trace(sizes=(6, 5), tokens=2, seed=1)
    for name, storage in (("arch_a", set()), ("edgedrnn", {"weight_storage"})):
        cfg = load_config(REPO / "configs" / f"{name}.yaml").model_copy(
            update={"skip_weights": True, "weight_format": "csc"})
        base = baseline_config(cfg, trace, "dense")
        assert base.weight_storage == "sram"     # 90 bytes of dense weights fit either SRAM
        assert {k for k in type(cfg).model_fields if getattr(base, k) != getattr(cfg, k)} == \
            {"weight_format", "skip_activity", "skip_weights"} | storage
        nos = baseline_config(cfg, trace, "no-skip")
        assert {k for k in type(cfg).model_fields if getattr(nos, k) != getattr(cfg, k)} == \
            {"skip_activity", "skip_weights"}


@pytest.mark.parametrize("kind", ["dense", "no-skip"])
def test_both_kinds_agree_with_the_reference(kind):
    for name in ("arch_a", "arch_b", "edgedrnn"):
        cfg = load_config(REPO / "configs" / f"{name}.yaml")
        trace = random_trace(sizes=(5, 6, 4), tokens=4, decoder=True, seed=2, v2=name == "edgedrnn")
        got = assert_result_agrees(cfg, trace, baseline=True, baseline_kind=kind)
        assert got["baseline"]["kind"] == kind


def test_an_unknown_kind_is_refused():
    trace = random_trace(sizes=(2, 2), tokens=1, seed=0)
    with pytest.raises(InputError, match="baseline kind 'sparse' is unknown; expected one of dense, no-skip"):
        simulate(_tiny(), trace, TABLE, baseline=True, baseline_kind="sparse")
