"""`accelsim run --steps FILE.csv`: one row per (layer, step, phase), consistent times."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from accelsim.config import load_config
from accelsim.trace import save_trace
from tests.reference.tracegen import random_trace

REPO = Path(__file__).resolve().parents[2]
CONFIGS = {name: str(REPO / "configs" / f"{name}.yaml") for name in ("arch_a", "arch_b", "edgedrnn")}
COLUMNS = ["t", "layer", "phase", "start", "end", "cycles"]
PE_PHASES = {"x", "r", "xr", "decoder"}


@pytest.fixture
def trace_file(tmp_path):
    p = tmp_path / "t.npz"
    save_trace(p, random_trace(sizes=(6, 8, 5), tokens=9, decoder=True, seed=11))
    return p


def _no_overlap(rows: pd.DataFrame) -> bool:
    rows = rows.sort_values(["start", "end"])
    return bool((rows["start"].to_numpy()[1:] >= rows["end"].to_numpy()[:-1]).all())


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_steps_csv(cli, tmp_path, trace_file, name):
    cfg_path = CONFIGS[name]
    if not Path(cfg_path).exists():
        pytest.skip(f"{cfg_path} not found")
    cfg = load_config(cfg_path)
    steps, out = tmp_path / "o" / "steps.csv", tmp_path / "r.json"
    code, stdout, err = cli("run", cfg_path, "--trace", trace_file, "--steps", steps, "--out", out, "--quiet")
    assert code == 0, err
    r = json.loads(out.read_text())
    df = pd.read_csv(steps)
    assert list(df.columns) == COLUMNS
    T, L = 9, 2
    assert set(df["phase"]) <= PE_PHASES | {"update"}
    # one row per (layer, step, phase), every layer at every step, the same phases each time
    assert not df.duplicated(["t", "layer", "phase"]).any()
    layers = df[df["phase"] != "decoder"]
    assert sorted(set(layers["layer"])) == list(range(L)) and sorted(set(layers["t"])) == list(range(T))
    phases = layers.groupby(["t", "layer"])["phase"].apply(frozenset)
    assert len(phases) == T * L and phases.nunique() == 1
    assert "update" in phases.iloc[0]
    assert len(df) == T * L * len(phases.iloc[0]) + (T if cfg.include_decoder else 0)
    # times
    assert (df["end"] - df["start"] == df["cycles"]).all() and (df["cycles"] >= 0).all()
    assert df["start"].min() >= cfg.startup_cycles
    assert df["end"].max() <= r["cycles"]
    # within a layer-step the PE phases come in order, and the update follows them
    for (t, l), g in layers.groupby(["t", "layer"]):
        pe = g[g["phase"] != "update"].sort_values("start")
        assert _no_overlap(pe)
        assert g[g["phase"] == "update"]["start"].iloc[0] >= pe["end"].max()
    # a cluster's PE array runs one phase at a time; so does its update unit
    clusters = [df] if cfg.mapping == "temporal" else [g for _, g in df.groupby("layer")]
    for c in clusters:
        assert _no_overlap(c[c["phase"].isin(PE_PHASES)])
        for _, u in c[c["phase"] == "update"].groupby("layer"):
            assert _no_overlap(u)
    # layer-steps of one layer follow each other
    for _, g in layers.groupby("layer"):
        first = g.groupby("t")["start"].min().to_numpy()
        assert (first[1:] >= first[:-1]).all()


def test_steps_and_tokens(cli, tmp_path, trace_file):
    steps = tmp_path / "steps.csv"
    code, _, err = cli("run", CONFIGS["arch_a"], "--trace", trace_file, "--tokens", "4", "--steps", steps)
    assert code == 0, err
    df = pd.read_csv(steps)
    assert sorted(set(df["t"])) == [0, 1, 2, 3] and len(df) == 4 * 2 * 3


def test_steps_with_baseline_same_result(cli, tmp_path, trace_file):
    a, b, steps = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "s.csv"
    code, stdout, err = cli("run", CONFIGS["arch_b"], "--trace", trace_file, "--baseline", "--out", a,
                            "--steps", steps)
    assert code == 0, err
    assert "speedup vs dense" in stdout
    code, _, err = cli("run", CONFIGS["arch_b"], "--trace", trace_file, "--baseline", "--out", b)
    assert code == 0, err
    ra, rb = json.loads(a.read_text()), json.loads(b.read_text())
    assert "speedup_vs_dense" in ra and "baseline" in ra
    assert ra == rb  # recording the timeline changes nothing in the result
    assert pd.read_csv(steps)["end"].max() == ra["cycles"]


@pytest.mark.parametrize("where", ["folder", "under_a_file"])
def test_steps_path_unwritable(cli, tmp_path, trace_file, where):
    if where == "folder":
        target = tmp_path / "d"
        target.mkdir()
    else:
        (tmp_path / "f").write_text("x")
        target = tmp_path / "f" / "steps.csv"
    out = tmp_path / "r.json"
    code, _, err = cli("run", CONFIGS["arch_a"], "--trace", trace_file, "--steps", target, "--out", out)
    assert code == 2 and err.startswith("accelsim: error: ") and err.count("\n") == 1
    assert "--steps" in err and not out.exists()
