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
            {"name": "ablation", "axes": [{"grid": {"skip_weights": [False, True], "skip_activity": [False, True]}}]},
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


def test_every_figure_is_written_and_non_empty(report):
    rep, _ = report
    assert set(rep.figures) == {"ablation", "sparsity_grid", "realised_vs_ideal", "energy_breakdown", "latency",
                                "pe_load", "pareto"}
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


def test_ablation_data_is_the_stored_numbers(report):
    rep, rows = report
    t = rep.tables["ablation"]
    assert list(t["design"]) == ["dense", "weight-only", "activity-only", "both"]
    for r in t.itertuples():
        res = rows[r.key]
        assert r.cycles_per_token == res["cycles"] / res["tokens"]
        assert r.macs_per_token == res["macs"] / res["tokens"]
        assert r.energy_pj_per_token == res["energy_pj_per_token"]
    dense = rows[t.iloc[0]["key"]]
    both = rows[t.iloc[3]["key"]]
    assert t.iloc[3]["mac_reduction"] == pytest.approx(dense["macs"] / both["macs"])
    assert t.iloc[3]["energy_reduction"] == pytest.approx(dense["energy_pj_per_token"] / both["energy_pj_per_token"])
    assert t.iloc[0]["mac_reduction"] == 1.0
    # the skips do what they say: fewer MACs with each, fewest with both
    m = t.set_index("design")["macs_per_token"]
    assert m["both"] < min(m["weight-only"], m["activity-only"]) <= max(m["weight-only"], m["activity-only"]) < m["dense"]
    assert (rep.out_dir / "data" / "ablation.csv").is_file()
    assert np.allclose(pd.read_csv(rep.out_dir / "data" / "ablation.csv")["cycles_per_token"], t["cycles_per_token"])


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
    assert len(t) == 4 and set(t["part"]) == {"grid"}
    for r in t.itertuples():
        assert r.speedup_vs_dense == rows[r.key]["speedup_vs_dense"]
        assert r.ideal_reduction == rows[r.key]["ideal_reduction"]
        assert r.speedup_share_of_ideal == pytest.approx(r.speedup_vs_dense / r.ideal_reduction)


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
    assert set(p["part"]) == {"archs"} and len(p) == 4  # the ablation's designs are not a front
    assert p["on_front"].any()
    for r in p.itertuples():
        assert (r.latency_us_mean, r.energy_pj_per_token) == (
            rows[r.key]["latency_us"]["mean"], rows[r.key]["energy_pj_per_token"])
    for part, sub in p.groupby("group"):
        v = sub[["latency_us_mean", "energy_pj_per_token"]].to_numpy()
        for (lat_i, e_i), front in zip(v, sub["on_front"]):
            dominated = ((v[:, 0] <= lat_i) & (v[:, 1] <= e_i) & ((v[:, 0] < lat_i) | (v[:, 1] < e_i))).any()
            assert front == (not dominated)


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
    # ablation: bar heights are the per-token figures of the four designs
    t = rep.tables["ablation"]
    fig = _drawn(monkeypatch, F.ablation_figure, t, tmp_path)
    heights = [[b.get_height() for b in ax.patches] for ax in fig.axes]
    assert heights[0] == list(t["macs_per_token"])
    assert heights[1] == list(t["cycles_per_token"])
    assert heights[2] == list(t["energy_pj_per_token"])
    # heatmap: the image is the speedup matrix (rows: activity sparsity, columns: weight sparsity)
    g = rep.tables["sparsity_grid"]
    fig = _drawn(monkeypatch, F.sparsity_heatmaps, g, tmp_path)
    img = fig.axes[0].images[0].get_array()
    assert np.array_equal(np.asarray(img), D.heatmap_matrix(g, "speedup_vs_dense").to_numpy())
    # Pareto: the scattered points are (latency, energy) of the table's designs
    p = rep.tables["pareto"]
    fig = _drawn(monkeypatch, F.pareto_figure, p, tmp_path)
    pts = np.concatenate([c.get_offsets() for c in fig.axes[0].collections if len(c.get_offsets())])
    assert sorted(map(tuple, pts)) == sorted(zip(p["latency_us_mean"], p["energy_pj_per_token"]))
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
    assert figures == sorted([f"{s}.png" for s in ("ablation", "sparsity_heatmaps", "realised_vs_ideal",
                                                   "energy_breakdown", "latency", "pe_load", "pareto")]
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
