"""EGRU vs DeltaGRU tables and paragraph, from a hand-made results frame."""

import numpy as np
import pandas as pd
import pytest

from accelsim.report import families as F


def _row(part, arch, kind, model, ws, ppl, energy, cycles, macs, theta=np.nan, base=1e7):
    return {"part": part, "status": "ok", "arch": arch, "trace.kind": kind, "trace.model": model,
            "trace.weight_sparsity": ws, "trace.theta_x": theta, "trace.perplexity": ppl,
            "tokens": 100, "macs": macs * 100, "cycles": cycles * 100, "dram_read_bytes": 0,
            "sram_read_bits.weights": 800, "sram_read_bits.metadata": 200,
            "energy_pj_per_token": energy, "baseline.kind": "dense",
            "baseline.energy_pj.total": base * 100, "baseline.cycles": 5000 * 100, "key": f"{arch}{model}{theta}"}


def _frame():
    rows = [
        _row("p", "a", "egru", "e-w0", 0.0, 140.0, 2.0e6, 900, 5e5),
        _row("p", "a", "delta", "d-w0", 0.0, 130.0, 3.5e6, 1200, 8e5, theta=0.0),
        _row("p", "a", "delta", "d-w0", 0.0, 141.0, 1.5e6, 700, 3e5, theta=0.1),   # matched, cheaper
        _row("p", "a", "delta", "d-w0", 0.0, 160.0, 1.0e6, 500, 2e5, theta=0.2),
        _row("p", "a", "egru", "e-w80", 0.8, 170.0, 1.0e6, 400, 1.2e5),
        _row("p", "a", "delta", "d-w80", 0.8, 169.0, 1.6e6, 600, 1.9e5, theta=0.05),  # matched, dearer
        _row("p", "b", "egru", "e-w80", 0.8, 170.0, 4.0e6, 4000, 6e5),
        _row("p", "b", "delta", "d-w80", 0.8, 190.0, 3.0e6, 3000, 4e5, theta=0.3),   # not matched
        _row("only-egru", "a", "egru", "e-w0", 0.0, 140.0, 2.0e6, 900, 5e5),
    ]
    return pd.DataFrame(rows)


def test_families_keeps_parts_with_both_kinds_and_prices_per_token():
    f = F.families(_frame())
    assert set(f["part"]) == {"p"} and len(f) == 8
    r = f[(f["family"] == "DeltaGRU") & (f["theta"] == 0.1)].iloc[0]
    assert r["cycles_per_token"] == 700 and r["macs_per_token"] == 3e5
    assert r["sram_bits_per_token"] == 10 and r["baseline_energy_pj_per_token"] == 1e7


def test_matched_picks_the_nearest_perplexity_and_says_whether_it_is_within_2_percent():
    m = F.families_matched(_frame()).set_index(["arch", "weight_sparsity"])
    a0 = m.loc[("a", 0.0)]
    assert a0["theta"] == 0.1 and a0["matched"]
    assert a0["delta_vs_egru_energy"] == pytest.approx(0.75)
    assert a0["perplexity_gap"] == pytest.approx(1 / 140)
    a80 = m.loc[("a", 0.8)]
    assert a80["matched"] and a80["delta_vs_egru_energy"] == pytest.approx(1.6)
    assert not m.loc[("b", 0.8)]["matched"]  # 190 vs 170: 11.8 % apart


def test_the_paragraph_says_where_the_answer_flips():
    text = F.families_text(F.families_matched(_frame()))
    assert "**a** (p): the answer flips: the EGRU is cheaper at weight sparsity 80% and the DeltaGRU at 0%" in text
    assert "DeltaGRU/EGRU energy 0.75x" in text and "DeltaGRU/EGRU energy 1.60x" in text
    assert "Not matched" in text and "b at weight sparsity 80% (EGRU 170.0, nearest DeltaGRU 190.0)" in text


def test_no_delta_points_no_tables():
    df = _frame()
    df = df[df["trace.kind"] == "egru"]
    assert F.families(df).empty and F.families_matched(df).empty and F.families_text(pd.DataFrame()) == ""


def test_figures_render(tmp_path):
    df = _frame()
    assert F.families_figure(F.families(df), tmp_path)[0].stat().st_size > 1000
    assert F.matched_figure(F.families_matched(df), tmp_path)[0].stat().st_size > 1000


def test_crossover_is_the_most_accurate_delta_point_at_least_as_cheap():
    f = F.families(_frame())
    c = F.crossovers(f).set_index(["arch", "weight_sparsity"])
    # arch a, 0 %: EGRU 2.0e6 pJ; DeltaGRU 1.5e6 at theta 0.1 (141) and 1.0e6 at 0.2 (160): 0.1 wins
    assert c.loc[("a", 0.0), "theta"] == 0.1 and c.loc[("a", 0.0), "delta_perplexity"] == 141.0
    # arch a, 80 %: the only DeltaGRU (1.6e6) is dearer than the EGRU (1.0e6): no crossover
    assert pd.isna(c.loc[("a", 0.8), "theta"])
    text = F.families_text(F.families_matched(_frame()), f)
    assert "0%: from theta 0.1 on, at perplexity 141.0 (+1% over the EGRU's 140.0)" in text
    assert "80%: never in the sweep (at theta 0.05, perplexity 169.0, still 1.60x the EGRU's energy)" in text


def test_below_the_egrus_best_perplexity_only_the_delta_network_is_there():
    df = _frame()
    text = F.families_text(F.families_matched(df), F.families(df))
    # arch a: EGRU best 140.0 (e-w0); DeltaGRU 130.0 (theta 0) at 3.5e6 pJ, the only point below
    assert ("Below the EGRU's best perplexity (140.0, e-w0) only the DeltaGRU reaches: down to 130.0 "
            "(d-w0, theta 0) at 3.5 uJ per token; its cheapest point below 140.0 costs 3.5 uJ per token, "
            "1.75x the EGRU's best.") in text
