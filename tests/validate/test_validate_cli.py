"""`accelsim validate` with a stand-in engine: the table, the files, --max-error, the config."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from accelsim.commands.validate_cmd import resolve_config
from tests.validate.casegen import write_case
from tests.validate.conftest import ARCH_B, REPO

KEYS = ["case", "config", "layer_steps", "rtl_cycles", "sim_cycles", "ratio", "exact_fraction",
        "mean_abs_error_pct", "p95_abs_error_pct", "correlation"]


def test_outputs(cli, tmp_path, fake_engine):
    fake = fake_engine(1.0)
    case = write_case(tmp_path / "mycase", steps=6)
    j, c, p = tmp_path / "o" / "m.json", tmp_path / "o" / "s.csv", tmp_path / "o" / "p.png"
    code, out, err = cli("validate", case, "--config", ARCH_B, "--json", j, "--csv", c, "--plot", p)
    assert code == 0, err
    assert fake.calls == 1
    assert "mycase" in out and "layer 0: mean cycles per step" in out and "total cycles" in out
    assert "correlation" in out and "exact" in out
    m = json.loads(j.read_text())
    assert list(m) == KEYS
    rtl = json.loads((case / "case.json").read_text())["rtl_cycles_total"]
    assert m["case"] == "mycase" and m["config"] == ARCH_B and m["layer_steps"] == 12
    assert m["rtl_cycles"] == m["sim_cycles"] == rtl and m["ratio"] == 1.0
    assert m["exact_fraction"] == 1.0 and m["mean_abs_error_pct"] == 0.0 and m["p95_abs_error_pct"] == 0.0
    assert m["correlation"] == pytest.approx(1.0)
    rows = list(csv.DictReader(c.open()))
    assert list(rows[0]) == ["t", "layer", "n_x", "n_h", "bias", "rtl_cycles", "sim_cycles", "error_pct"]
    assert len(rows) == 12 and [(r["t"], r["layer"]) for r in rows[:3]] == [("0", "0"), ("0", "1"), ("1", "0")]
    steps = list(csv.DictReader((case / "steps.csv").open()))
    assert [r["rtl_cycles"] for r in rows] == [r["cycles"] for r in steps] == [r["sim_cycles"] for r in rows]
    assert all(float(r["error_pct"]) == 0.0 for r in rows)
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [f for f in os.listdir(tmp_path / "o") if f.endswith(".tmp")]


def test_metrics_follow_the_engine(cli, tmp_path, fake_engine):
    fake_engine(1.1)
    case = write_case(tmp_path / "c", steps=6)
    j = tmp_path / "m.json"
    assert cli("validate", case, "--config", ARCH_B, "--json", j)[0] == 0
    m = json.loads(j.read_text())
    assert m["ratio"] == pytest.approx(1.1, abs=0.01) and m["ratio"] != 1.0
    assert m["mean_abs_error_pct"] == pytest.approx(10.0, abs=0.5) and m["exact_fraction"] < 1.0


@pytest.mark.parametrize("scale,limit,code", [(1.0, "0", 0), (1.1, "5", 1), (1.1, "20", 0),
                                              (0.9, "5", 1), (0.9, "10.5", 0)])
def test_max_error_exit_status(cli, tmp_path, fake_engine, scale, limit, code):
    fake_engine(scale)
    case = write_case(tmp_path / "c", steps=6)
    j = tmp_path / "m.json"
    got, out, err = cli("validate", case, "--config", ARCH_B, "--max-error", limit, "--json", j)
    assert got == code, err
    assert j.exists()  # the files are written either way
    assert ("more than --max-error" in out) == (code == 1)


def test_stream_probability_reaches_the_config(cli, tmp_path, fake_engine):
    fake = fake_engine()
    assert cli("validate", write_case(tmp_path / "a"), "--config", ARCH_B)[0] == 0
    assert cli("validate", write_case(tmp_path / "b", stream=0.5), "--config", ARCH_B)[0] == 0
    assert [c.dram.stream_efficiency for c in fake.configs] == [1.0, 0.5]


def test_head(cli, tmp_path, fake_engine):
    fake_engine()
    case = write_case(tmp_path / "c", steps=10)
    j, c = tmp_path / "m.json", tmp_path / "s.csv"
    assert cli("validate", case, "--config", ARCH_B, "--head", "3", "--json", j, "--csv", c)[0] == 0
    m = json.loads(j.read_text())
    steps = list(csv.DictReader((case / "steps.csv").open()))
    assert m["layer_steps"] == 6 and m["rtl_cycles"] == 2 + sum(int(r["cycles"]) for r in steps[:6])
    assert len(list(csv.DictReader(c.open()))) == 6


def test_config_lookup(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_config("configs/arch_b.yaml") == REPO / "configs" / "arch_b.yaml"
    assert resolve_config(None) == REPO / "configs" / "edgedrnn.yaml" or \
        resolve_config(None) == Path("configs/edgedrnn.yaml")
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "arch_b.yaml").write_text("x")
    assert resolve_config("configs/arch_b.yaml") == Path("configs/arch_b.yaml")
    assert resolve_config(str(tmp_path / "x.yaml")) == tmp_path / "x.yaml"


def test_help_describes_the_command(cli):
    code, out, _ = cli("validate", "--help")
    assert code == 0 and "--max-error" in out and "CASE_DIR" in out and "RTL" in out
