"""The report: every figure exists, is non-empty, and its plotted data equals the stored numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from accelsim.report import build_report
from accelsim.report import data as D
from accelsim.sweep import run_sweep
from accelsim.sweep.store import ResultsStore
from tests.sweep.conftest import ARCH_A, TINY_SYNTH

ARCH_B = ARCH_A.parent / "arch_b.yaml"


def report_spec(folder) -> str:
    spec = {
        "name": "report-test", "base": str(ARCH_A), "tokens": 32,
        "workloads": [{"name": "syn", "synth": TINY_SYNTH}],
        "parts": [
            {"name": "ablation", "baseline": True, "baseline_kind": "dense",
             "axes": [{"grid": {"skip_weights": [False, True], "skip_activity": [False, True]}}]},
            {"name": "ablation-no-skip", "baseline": True, "baseline_kind": "no-skip",
             "axes": [{"grid": {"skip_weights": [False, True], "skip_activity": [False, True]}}]},
            # formats on unstructured weights (2-bit runs: padding entries) and on 2:4-pruned weights
            {"name": "formats", "baseline": True,
             "axes": [{"zip": {"weight_format": ["csc", "csc_relative", "bitmap"], "precision.index_bits": [16, 2, 16]}}]},
            {"name": "formats-nm", "baseline": True,
             "workloads": [{"name": "syn24", "synth": {**TINY_SYNTH, "pruning": "2:4", "weight_sparsity": 0.5}}],
             "axes": [{"zip": {"weight_format": ["csc", "csc_relative", "bitmap", "nm"],
                               "precision.index_bits": [16, 2, 16, 16]}}]},
            {"name": "grid", "baseline": True,
             "axes": [{"grid": {"workload.weight_sparsity": [0.5, 0.8], "workload.activity_sparsity": [0.6, 0.9]}}]},
            {"name": "pruning", "axes": [{"grid": {"workload.pruning": ["unstructured", "column-balanced"],
                                                   "pe.count": [4, 8]}}]},
            {"name": "archs", "axes": [{"grid": {"base": [str(ARCH_A), str(ARCH_B)], "pe.count": [4, 8]}}]},
        ],
    }
    path = folder / "report.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return str(path)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    import tests.sweep.conftest as c

    point_fn = None
    if not c.HAVE_ENGINE:
        from tests.sweep.fakes import fake_point
        point_fn = fake_point
    tmp = tmp_path_factory.mktemp("report")
    run_sweep(report_spec(tmp), tmp / "runs", workers=1, point_fn=point_fn, progress=False)
    rep = build_report([tmp / "runs"], tmp / "out", pdf=True)
    with ResultsStore(tmp / "runs", create=False) as st:
        rows = {r["key"]: json.loads(r["result"]) for r in st.rows() if r["status"] == "ok"}
    return rep, rows


ALL_FIGURES = {"ablation", "ablation_baselines", "sparsity_grid", "realised_vs_ideal", "energy_breakdown",
               "area_breakdown", "latency", "pe_load", "pareto", "formats"}


def test_every_figure_is_written_and_non_empty(report):
    rep, _ = report
    assert set(rep.figures) == ALL_FIGURES
    for paths in rep.figures.values():
        assert {p.suffix for p in paths} == {".png", ".pdf"}
        for p in paths:
            assert p.stat().st_size > 5000
    md = rep.markdown.read_text()
    assert md.splitlines()[0] == "# accelsim report"
    assert "python -m accelsim sweep" in md and "python -m accelsim report" in md
    for p in rep.figures.values():
        assert f"]({p[0].relative_to(rep.out_dir).as_posix()})" in md
    assert "Not drawn" not in md


def _results(rep) -> pd.DataFrame:
    return rep.results[rep.results["status"] == "ok"]


def test_ablation_data_is_the_stored_numbers(report):
    rep, rows = report
    t = rep.tables["ablation"]
    # one group: the same four designs of the parts 'ablation' and 'ablation-no-skip' join
    assert t["group"].nunique() == 1
    assert list(t["design"]) == ["dense design", "no-skip", "weight-only", "activity-only", "both"]
    for r in t.iloc[1:].itertuples():
        res = rows[r.key]
        assert r.cycles_per_token == res["cycles"] / res["tokens"]
        assert r.macs_per_token == res["macs"] / res["tokens"]
        assert r.energy_pj_per_token == res["energy_pj_per_token"]
    # the dense design's row is the dense baseline's own run, stored with a point run against it
    dd = t.iloc[0]
    base = rows[dd["key"]]["baseline"]
    assert base["kind"] == "dense" and dd["weight_format"] == "dense"
    assert dd["cycles_per_token"] == base["cycles"] / rows[dd["key"]]["tokens"]
    assert dd["macs_per_token"] == base["macs"] / rows[dd["key"]]["tokens"]
    assert dd["energy_pj_per_token"] == base["energy_pj"]["total"] / rows[dd["key"]]["tokens"]
    assert dd["weight_storage"] == base["weight_storage"]
    by = t.set_index("design")
    ns = rows[by.loc["no-skip", "key"]]
    both = rows[by.loc["both", "key"]]
    assert by.loc["both", "mac_reduction_vs_no_skip"] == pytest.approx(ns["macs"] / both["macs"])
    assert by.loc["both", "speedup_vs_no_skip"] == pytest.approx(ns["cycles"] / both["cycles"])
    assert by.loc["both", "energy_reduction_vs_no_skip"] == pytest.approx(
        ns["energy_pj_per_token"] / both["energy_pj_per_token"])
    assert by.loc["dense design", "speedup_vs_no_skip"] == pytest.approx(ns["cycles"] / base["cycles"])
    assert by.loc["no-skip", "mac_reduction_vs_no_skip"] == 1.0
    assert by.loc["both", "ideal_reduction"] == both["ideal_reduction"]
    assert by[["ideal_reduction"]].drop(index="both").isna().all().all()
    # the skips do what they say: fewer MACs with each, fewest with both
    m = by["macs_per_token"]
    assert m["both"] < min(m["weight-only"], m["activity-only"]) <= max(m["weight-only"], m["activity-only"]) < m["no-skip"]
    # the dense design multiplies every weight: its MACs are the dense count
    assert m["dense design"] == rows[dd["key"]]["macs_dense"] / rows[dd["key"]]["tokens"]
    assert (rep.out_dir / "data" / "ablation.csv").is_file()
    assert np.allclose(pd.read_csv(rep.out_dir / "data" / "ablation.csv")["cycles_per_token"], t["cycles_per_token"])


def test_ablation_against_both_baselines(report):
    """Each design of the 2x2 against each baseline kind: the engine's own figures of the point run
    against that kind (the spec runs the same 2x2 in two parts, one per kind)."""
    rep, rows = report
    t = rep.tables["ablation_baselines"]
    assert list(t["baseline_kind"]) == ["dense"] * 4 + ["no-skip"] * 4
    assert list(t["design"]) == ["no-skip", "weight-only", "activity-only", "both"] * 2
    assert (t["source"] == "baseline run").all()
    df = _results(rep)
    parts_of = df.groupby("key")["part"].agg(set)  # a simulation may serve several parts
    for r in t.itertuples():
        res = rows[r.key]
        assert res["baseline"]["kind"] == r.baseline_kind
        assert ("ablation" if r.baseline_kind == "dense" else "ablation-no-skip") in parts_of[r.key]
        assert (r.speedup, r.energy_reduction) == (res["speedup_vs_dense"], res["energy_reduction_vs_dense"])
        assert r.baseline_cycles_per_token == res["baseline"]["cycles"] / res["tokens"]
    # the no-skip baseline is the 2x2's own no-skip corner: the stored figures equal the ratios to it
    a = rep.tables["ablation"].set_index("design")
    ns = t[t["baseline_kind"] == "no-skip"].set_index("design")
    for d in ("no-skip", "weight-only", "activity-only", "both"):
        assert ns.loc[d, "speedup"] == pytest.approx(a.loc[d, "speedup_vs_no_skip"], rel=1e-12)
        assert ns.loc[d, "energy_reduction"] == pytest.approx(a.loc[d, "energy_reduction_vs_no_skip"], rel=1e-12)
    assert ns.loc["no-skip", "speedup"] == 1.0
    # against the dense design the combined design's speedup is the dense design's cycles / its cycles
    dn = t[t["baseline_kind"] == "dense"].set_index("design")
    assert dn.loc["both", "speedup"] == pytest.approx(
        a.loc["dense design", "cycles_per_token"] / a.loc["both", "cycles_per_token"])
    assert dn.loc["both", "ideal_reduction"] == a.loc["both", "ideal_reduction"]
    # the words say which baseline every figure uses, with the numbers of the table
    md = rep.markdown.read_text()
    assert f"the combined design is {_xs(dn.loc['both', 'speedup'])} faster" in md
    assert f"{_xs(dn.loc['both', 'energy_reduction'])} more energy-efficient, against no-skip" in md
    assert "Every reduction here (`*_vs_no_skip`) is vs the group's no-skip corner" in md


def _xs(v: float) -> str:
    from accelsim.report.build import _x

    return _x(v)


def test_ablation_without_baseline_runs_uses_the_no_skip_corner(report):
    """Results with no point run against a baseline still give the 2x2 vs no-skip (its own corner)
    and nothing vs the dense design."""
    rep, rows = report
    df = _results(rep)
    df = df[df["part"] == "ablation"].copy()
    df["speedup_vs_dense"] = np.nan
    df["energy_reduction_vs_dense"] = np.nan
    df["baseline.kind"] = None
    t = D.ablation_baselines(df)
    assert set(t["baseline_kind"]) == {"no-skip"} and (t["source"] == "no-skip corner").all()
    a = D.ablation(df).set_index("design")
    assert "dense design" not in a.index
    both = t.set_index("design").loc["both"]
    assert both["speedup"] == pytest.approx(rows[a.loc["no-skip", "key"]]["cycles"] / rows[a.loc["both", "key"]]["cycles"])


def test_heatmap_data_is_the_stored_speedups(report):
    rep, rows = report
    g = rep.tables["sparsity_grid"]
    assert sorted(set(g["weight_sparsity"])) == [0.5, 0.8] and sorted(set(g["activity_sparsity"])) == [0.6, 0.9]
    assert len(g) == 4 and (g["sparsity_source"] == "nominal").all()
    for r in g.itertuples():
        assert r.speedup_vs_dense == rows[r.key]["speedup_vs_dense"]
        assert r.energy_reduction_vs_dense == rows[r.key]["energy_reduction_vs_dense"]
        assert r.ideal_reduction == rows[r.key]["ideal_reduction"]
    m = D.heatmap_matrix(g, "speedup_vs_dense")
    assert m.shape == (2, 2)
    r = g[(g["weight_sparsity"] == 0.8) & (g["activity_sparsity"] == 0.9)].iloc[0]
    assert m.loc[0.9, 0.8] == r.speedup_vs_dense


def test_realised_vs_ideal_data(report):
    rep, rows = report
    t = rep.tables["realised_vs_ideal"]
    assert len(t[t["part"] == "grid"]) == 4
    assert set(t["part"]) == {"grid", "ablation", "ablation-no-skip", "formats", "formats-nm"}
    for r in t.itertuples():
        assert r.speedup_vs_dense == rows[r.key]["speedup_vs_dense"]
        assert r.ideal_reduction == rows[r.key]["ideal_reduction"]
        assert r.baseline_kind == rows[r.key]["baseline"]["kind"]
        assert r.speedup_share_of_ideal == pytest.approx(r.speedup_vs_dense / r.ideal_reduction)
    assert list(t[t["part"] == "ablation-no-skip"]["baseline_kind"]) == ["no-skip"]
    g = rep.tables["sparsity_grid"]
    assert (g["baseline_kind"] == "dense").all() and g["group"].str.endswith("vs dense").all()
    # every speedup figure says which baseline it is against
    md = rep.markdown.read_text()
    sec = md.split("## Weight sparsity x activity sparsity")[1].split("\n## ")[0]
    assert "are vs `dense`: the dense design" in sec
    sec = md.split("## Realised vs ideal reduction")[1].split("\n## ")[0]
    assert "`dense`: the dense design" in sec and "`no-skip`: the no-skip baseline (the same hardware" in sec


def test_breakdown_latency_pe_load_pareto_data(report):
    rep, rows = report
    b = rep.tables["energy_breakdown"]
    comps = [c for c in b.columns if c not in ("part", "design", "key", "total")]
    assert comps and np.allclose(b[comps].sum(axis=1), b["total"], rtol=1e-9)
    for r in b.itertuples():
        assert r.total == rows[r.key]["energy_pj_per_token"]
    lat = rep.tables["latency"]
    for r in lat.itertuples():
        assert (r.latency_us_p50, r.latency_us_p99) == (rows[r.key]["latency_us"]["p50"], rows[r.key]["latency_us"]["p99"])
    assert (lat["latency_us_p99"] >= lat["latency_us_p50"]).all()
    pe = rep.tables["pe_load"]
    assert set(pe["pruning"]) == {"unstructured", "column-balanced"} and len(pe) == 4
    for r in pe.itertuples():
        layers = rows[r.key]["per_layer"]
        assert r.pe_work_max == sum(l["pe_work"]["max"] for l in layers)
        assert r.pe_work_mean == pytest.approx(sum(l["pe_work"]["mean"] for l in layers))
        assert r.imbalance == pytest.approx(r.pe_work_max / r.pe_work_mean)
        assert r.load_imbalance_lost_cycles_per_token == (
            rows[r.key]["lost_work_cycles"]["load_imbalance"] / rows[r.key]["tokens"])
    # column-balanced pruning (balance groups = 16 >= PEs here) leaves no PE busier than the mean
    assert list(pe[pe["pruning"] == "column-balanced"]["imbalance"]) == pytest.approx([1.0, 1.0])
    assert (pe[pe["pruning"] == "unstructured"]["imbalance"] > 1.0).all()
    p = rep.tables["pareto"]
    # the ablation's designs and the formats' are not a front (figures of their own)
    assert set(p["part"]) == {"archs"} and len(p) == 4
    assert p["on_front"].any()
    for r in p.itertuples():
        assert (r.latency_us_mean, r.energy_pj_per_token) == (
            rows[r.key]["latency_us"]["mean"], rows[r.key]["energy_pj_per_token"])


def _dominated(v: np.ndarray, i: int) -> bool:
    return any(all(v[j] <= v[i]) and any(v[j] < v[i]) for j in range(len(v)) if j != i)


def test_pareto_over_latency_energy_and_area(report):
    rep, rows = report
    p = rep.tables["pareto"]
    assert (p["objectives"] == "latency_us, energy_pj_per_token, area_mm2").all()
    for r in p.itertuples():
        res = rows[r.key]
        assert r.area_mm2 == res["area_mm2"]["total"] > 0
        assert r.tokens_per_s == res["tokens_per_s"]
        assert r.perf_per_mm2 == pytest.approx(res["tokens_per_s"] / res["area_mm2"]["total"], rel=1e-12)
        # tokens/s per W = tokens per joule
        assert r.power_w == pytest.approx(res["energy_pj_per_token"] * 1e-12 * res["tokens_per_s"], rel=1e-12)
        assert r.perf_per_watt == pytest.approx(1e12 / res["energy_pj_per_token"], rel=1e-9)
    for _, sub in p.groupby("group"):
        v = sub[["latency_us_mean", "energy_pj_per_token", "area_mm2"]].to_numpy(float)
        assert list(sub["on_front"]) == [not _dominated(v, i) for i in range(len(v))]
    # the smallest chip is never dominated: area is an objective
    assert p.loc[p["area_mm2"].idxmin(), "on_front"]
    # arch_b (streamed weights, 8 PEs of one lane) and arch_a differ in area: both architectures compared
    assert p.groupby("arch")["area_mm2"].mean().nunique() == 2
    md = rep.markdown.read_text()
    best = p.loc[p["perf_per_mm2"].idxmax()]
    assert f"Most tokens/s per mm^2: {best['design']} ({best['perf_per_mm2']:,.0f})" in md


def test_area_breakdown_is_the_stored_area(report):
    rep, rows = report
    a = rep.tables["area_breakdown"]
    comps = [c for c in a.columns if c not in ("part", "design", "key", "total")]
    assert {"weight_sram", "pointer_table", "mac", "update"} <= set(comps)
    assert np.allclose(a[comps].sum(axis=1), a["total"], rtol=1e-9)
    for r in a.itertuples():
        stored = rows[r.key]["area_mm2"]
        assert r.total == stored["total"]
        for c in comps:
            assert getattr(r, c) == stored[c]
    # the same designs as the energy breakdown, a design of the second ablation part only once
    b = rep.tables["energy_breakdown"]
    assert list(a["key"]) == list(b["key"])
    assert "ablation-no-skip" not in set(a["part"]) and "ablation" in set(a["part"])
    # bigger PE arrays take more MAC area
    archs = a[a["part"] == "archs"]
    macs = dict(zip(archs["design"], archs["mac"]))
    assert macs["arch_a pe.count=8"] > macs["arch_a pe.count=4"]


def _formats_by(t: pd.DataFrame, group_part: str) -> pd.DataFrame:
    return t[t["part"] == group_part].set_index("format")


def test_formats_table_is_the_stored_numbers(report):
    rep, rows = report
    t = rep.tables["formats"]
    assert list(t["part"].unique()) == ["formats", "formats-nm"]  # the archs part varies more than the format
    u, nm = _formats_by(t, "formats"), _formats_by(t, "formats-nm")
    assert list(u.index) == ["csc 16-bit", "csc_relative 2-bit", "bitmap"]
    assert list(nm.index) == ["csc 16-bit", "csc_relative 2-bit", "bitmap", "nm 2:4"]
    assert (t["reference"] == "csc 16-bit").all()
    assert nm["pruning"].iloc[0] == "2:4" and nm["weight_sparsity"].iloc[0] == pytest.approx(0.5, abs=0.02)
    for r in t.itertuples():
        res = rows[r.key]
        tok = res["tokens"]
        assert r.metadata_pj_per_token == res["energy_pj"]["sram_metadata"] / tok
        assert r.energy_pj_per_token == res["energy_pj_per_token"]
        assert r.metadata_bits_per_token == res["sram_read_bits"]["metadata"] / tok
        assert r.macs_per_token == res["macs"] / tok
        assert r.weight_bytes_stored == sum(l["weight_bytes_stored"] for l in res["per_layer"])
        assert r.area_mm2 == res["area_mm2"]["total"]
        assert (r.speedup_vs_baseline, r.energy_reduction_vs_baseline) == (
            res["speedup_vs_dense"], res["energy_reduction_vs_dense"])
        assert r.baseline_kind == res["baseline"]["kind"] == "dense"
        assert r.metadata_share == pytest.approx(r.metadata_pj_per_token / r.energy_pj_per_token)
    for f in (u, nm):
        ref = f.loc["csc 16-bit"]
        assert f["energy_vs_csc"].tolist() == pytest.approx(
            (ref["energy_pj_per_token"] / f["energy_pj_per_token"]).tolist(), rel=1e-12)
        assert f["csc_metadata_recovered"].tolist() == pytest.approx(
            ((ref["energy_pj_per_token"] - f["energy_pj_per_token"]) / ref["metadata_pj_per_token"]).tolist(), rel=1e-12)
        assert ref["energy_vs_csc"] == 1.0 and ref["csc_metadata_recovered"] == 0.0
    # what the formats are: nm reads no pointers (in these tiny columns a bank's positions and its
    # CSC indices both fit one word); 2-bit runs overflow: padding entries, more MACs than CSC
    assert nm.loc["nm 2:4", "metadata_bits_per_token"] < nm.loc["csc 16-bit", "metadata_bits_per_token"]
    assert u.loc["csc_relative 2-bit", "macs_per_token"] > u.loc["csc 16-bit", "macs_per_token"]
    assert nm.loc["nm 2:4", "macs_per_token"] >= nm.loc["csc 16-bit", "macs_per_token"]  # zeros fill groups
    # N:M is not run on the unstructured weights, and the table says why
    skipped = D.nm_not_run(t)
    assert list(skipped["part"]) == ["formats"] and list(skipped["pruning"]) == ["unstructured"]


def test_formats_paragraph_numbers_match_the_table(report):
    from accelsim.report.build import _formats_text

    rep, _ = report
    t = rep.tables["formats"]
    text = _formats_text(t)
    md = rep.markdown.read_text()
    assert text and text in md
    assert text.startswith("How much of the metadata penalty is the format's fault?")
    recovered = []
    for g, sub in t.groupby("group", sort=False):
        line = next(l for l in text.splitlines() if l.startswith(f"- **{g}**"))
        ref = sub[sub["format"] == "csc 16-bit"].iloc[0]
        best = sub.loc[sub["energy_pj_per_token"].idxmin()]
        assert f"metadata reads cost {ref['metadata_pj_per_token']:.3g} pJ per token, " \
               f"{100 * ref['metadata_share']:.0f}% of its {ref['energy_pj_per_token']:.3g} pJ per token" in line
        for r in sub.itertuples():
            if r.format != "csc 16-bit":
                assert f"{r.format} {r.energy_vs_csc:.2f}x" in line
        if best["format"] != "csc 16-bit":
            assert f"The cheapest, {best['format']}, saves {100 * best['csc_metadata_recovered']:.0f}% of" in line
            assert f"It still spends {best['metadata_pj_per_token']:.3g} pJ per token on metadata" in line
            recovered.append(best["csc_metadata_recovered"])
        else:
            assert "No other format run here is cheaper" in line
            recovered.append(0.0)
        assert f"{_xs(ref['energy_reduction_vs_baseline'])} with csc 16-bit" in line
    assert f"(from {100 * min(recovered):.0f}% to {100 * max(recovered):.0f}% over the 2 sets of weights)" in text
    assert "N:M (`nm`) is not run on the other 1 set(s) of weights (unstructured: 1): they are not N:M-pruned" in text
    # the table's caption too says why nm is missing
    sec = md.split("## Weight formats on the same weights")[1].split("\n## ")[0]
    assert "N:M is not run on the 1 set(s) of weights pruned unstructured: they are not N:M-structured." in sec


def test_report_cli_and_bad_input(report, cli, tmp_path):
    rep, _ = report
    code, out, err = cli("report", rep.out_dir.parent / "runs", "--out", tmp_path / "r")
    assert code == 0, err
    assert "report:" in out and (tmp_path / "r" / "report.md").is_file()
    code, out, err = cli("report", tmp_path / "nothing-here", "--out", tmp_path / "r2")
    assert code == 2 and "no such results folder" in err and err.count("\n") == 1
    assert not (tmp_path / "r2").exists()


def _drawn(monkeypatch, fn, table, tmp_path):
    """Draw ``table`` with figure function ``fn`` and return the matplotlib Figure it drew."""
    from accelsim.report import figures as F

    captured = {}

    def keep(fig, out_dir, name, pdf):
        captured["fig"] = fig
        return []

    monkeypatch.setattr(F, "_save", keep)
    fn(table, tmp_path)
    return captured["fig"]


def test_figures_plot_exactly_the_tables(report, monkeypatch, tmp_path):
    from accelsim.report import figures as F

    rep, rows = report
    # ablation: bar heights are the per-token figures of the dense design and the four designs
    t = rep.tables["ablation"]
    fig = _drawn(monkeypatch, F.ablation_figure, t, tmp_path)
    heights = [[b.get_height() for b in ax.patches] for ax in fig.axes]
    assert heights[0] == list(t["macs_per_token"])
    assert heights[1] == list(t["cycles_per_token"])
    assert heights[2] == list(t["energy_pj_per_token"])
    # the 2x2 against both baselines: speedups, then energy reductions, one bar per design and kind
    tb = rep.tables["ablation_baselines"]
    fig = _drawn(monkeypatch, F.ablation_baselines_figure, tb, tmp_path)
    assert [b.get_height() for b in fig.axes[0].patches] == list(tb["speedup"])
    assert [b.get_height() for b in fig.axes[1].patches] == list(tb["energy_reduction"])
    # area: stacked bars, their widths the components of each design
    a = rep.tables["area_breakdown"]
    fig = _drawn(monkeypatch, F.area_breakdown_figure, a, tmp_path)
    comps = [c for c in a.columns if c not in ("part", "design", "key", "total")]
    widths = sorted(b.get_width() for ax in fig.axes for b in ax.patches)
    assert widths == pytest.approx(sorted(a[comps].to_numpy().ravel()))
    # formats: energy per token relative to the group's CSC (then the hatched metadata share)
    ft = rep.tables["formats"]
    fig = _drawn(monkeypatch, F.formats_figure, ft, tmp_path)
    drawn = [b.get_height() for b in fig.axes[0].patches if b.get_facecolor()[3] > 0]
    groups = list(dict.fromkeys(ft["group"]))
    expect = []
    for f in dict.fromkeys(ft["format"]):
        for g in groups:
            sub = ft[ft["group"] == g].set_index("format")
            expect.append(sub.loc[f, "energy_pj_per_token"] / sub.loc["csc 16-bit", "energy_pj_per_token"]
                          if f in sub.index else np.nan)
    assert drawn == pytest.approx(expect, nan_ok=True)
    # heatmap: the image is the speedup matrix (rows: activity sparsity, columns: weight sparsity)
    g = rep.tables["sparsity_grid"]
    fig = _drawn(monkeypatch, F.sparsity_heatmaps, g, tmp_path)
    img = fig.axes[0].images[0].get_array()
    assert np.array_equal(np.asarray(img), D.heatmap_matrix(g, "speedup_vs_dense").to_numpy())
    # Pareto: the scattered points are (latency, energy), then (area, energy) of the table's designs
    p = rep.tables["pareto"]
    fig = _drawn(monkeypatch, F.pareto_figure, p, tmp_path)
    pts = np.concatenate([c.get_offsets() for c in fig.axes[0].collections if len(c.get_offsets())])
    assert sorted(map(tuple, pts)) == sorted(zip(p["latency_us_mean"], p["energy_pj_per_token"]))
    pts = np.concatenate([c.get_offsets() for c in fig.axes[1].collections if len(c.get_offsets())])
    assert sorted(map(tuple, pts)) == sorted(zip(p["area_mm2"], p["energy_pj_per_token"]))
    # latency: p50 and p99 bars
    lat = rep.tables["latency"]
    fig = _drawn(monkeypatch, F.latency_figure, lat, tmp_path)
    widths = sorted(b.get_width() for ax in fig.axes for b in ax.patches)
    assert widths == sorted(list(lat["latency_us_p50"]) + list(lat["latency_us_p99"]))


def test_report_replaces_an_earlier_report_and_nothing_else(report, cli, tmp_path):
    """A second report into a folder leaves no figure of the first: what a report writes is removed
    before writing (here the PDFs of an earlier --pdf run); other files stay."""
    rep, _ = report
    out = tmp_path / "r"
    (out / "figures").mkdir(parents=True)
    (out / "data").mkdir()
    stale = [out / "figures" / "ablation.pdf", out / "figures" / "sparsity_heatmaps.pdf"]
    rewritten = [out / "figures" / "pareto.png", out / "data" / "stalls.csv", out / "report.md"]
    for p in stale + rewritten:
        p.write_bytes(b"from an earlier report")
    mine = [out / "notes.txt", out / "figures" / "mine.png", out / "figures" / "ablation.svg",
            out / "data" / "mine.csv"]
    for p in mine:
        p.write_text("not the report's")
    code, _, err = cli("report", rep.out_dir.parent / "runs", "--out", out)
    assert code == 0, err
    for p in stale:
        assert not p.exists(), p
    for p in rewritten:
        assert p.read_bytes() != b"from an earlier report", p
    for p in mine:
        assert p.read_text() == "not the report's", p
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == sorted([f"{s}.png" for s in ("ablation", "ablation_baselines", "sparsity_heatmaps",
                                                   "realised_vs_ideal", "energy_breakdown", "area_breakdown",
                                                   "latency", "pe_load", "pareto", "formats")]
                             + ["mine.png", "ablation.svg"])
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]  # no temporary files


def test_a_failed_report_keeps_the_earlier_one(report, cli, tmp_path):
    """Results that cannot be read stop the report before the earlier one is removed."""
    out = tmp_path / "r"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "pareto.png").write_bytes(b"earlier")
    (out / "report.md").write_text("earlier")
    code, _, err = cli("report", tmp_path / "nothing-here", "--out", out)
    assert code == 2 and "no such results folder" in err
    assert (out / "report.md").read_text() == "earlier"
    assert (out / "figures" / "pareto.png").read_bytes() == b"earlier"
