"""`accelsim validate` on the measured EdgeDRNN cases with the shipped configs/edgedrnn.yaml."""

from __future__ import annotations

import csv
import json

import pytest

from tests.validate.casegen import shared_case


def test_edgedrnn_every_cycle_matches_the_rtl(cli, tmp_path, monkeypatch):
    case = shared_case("edgedrnn-tb")
    monkeypatch.chdir(tmp_path)  # the default config is found in the installation
    j, c, p = tmp_path / "m.json", tmp_path / "s.csv", tmp_path / "p.png"
    code, out, err = cli("validate", case, "--json", j, "--csv", c, "--plot", p, "--max-error", "0.5")
    assert code == 0, err + out
    m = json.loads(j.read_text())
    assert m["case"] == "edgedrnn-tb" and m["config"].endswith("configs/edgedrnn.yaml")
    assert m["layer_steps"] == 2000 and m["rtl_cycles"] == 189229
    assert abs(m["ratio"] - 1) < 0.005 and m["exact_fraction"] >= 0.99
    assert m["correlation"] > 0.99
    rows = list(csv.DictReader(c.open()))
    assert len(rows) == 2000
    assert sum(int(r["rtl_cycles"]) for r in rows) == 189229 - 2
    assert p.read_bytes()[:4] == b"\x89PNG"
    assert "edgedrnn" in out and "189,229" in out


def test_edgedrnn_half_rate_stream(cli, tmp_path):
    case = shared_case("edgedrnn-tb-p50")
    j = tmp_path / "m.json"
    code, out, err = cli("validate", case, "--head", "300", "--json", j)
    assert code == 0, err
    m = json.loads(j.read_text())
    assert m["layer_steps"] == 600 and m["rtl_cycles"] < 316293
    # the stream model is an average rate: totals agree closely, single layer-steps less so
    assert abs(m["ratio"] - 1) < 0.05 and m["correlation"] > 0.9
    code, out, _ = cli("validate", case, "--head", "300", "--max-error", "0")
    assert code == (0 if m["ratio"] == 1.0 else 1)
    # the whole case: +330 cycles of 316,293 (docs/validation.md)
    code, out, err = cli("validate", case, "--json", j, "--max-error", "1")
    assert code == 0, err + out
    m = json.loads(j.read_text())
    assert m["rtl_cycles"] == 316293 and m["sim_cycles"] == 316623
