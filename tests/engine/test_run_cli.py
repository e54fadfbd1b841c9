"""`accelsim run`: the table, --out JSON, --baseline, --check-values, and every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accelsim.config import load_config
from accelsim.engine import check_values as cv
from accelsim.trace import save_trace
from tests.reference.tracegen import random_trace

REPO = Path(__file__).resolve().parents[2]
ARCH_A = str(REPO / "configs" / "arch_a.yaml")
ARCH_B = str(REPO / "configs" / "arch_b.yaml")


@pytest.fixture
def trace_file(tmp_path):
    p = tmp_path / "t.npz"
    save_trace(p, random_trace(sizes=(6, 8, 5), tokens=9, decoder=True, seed=11))
    return p


def test_run_prints_table_and_writes_json(cli, trace_file, tmp_path):
    out = tmp_path / "r.json"
    code, stdout, err = cli("run", ARCH_A, "--trace", trace_file, "--out", out, "--baseline")
    assert code == 0, err
    assert "cycles" in stdout and "speedup vs dense" in stdout
    r = json.loads(out.read_text())
    assert r["tokens"] == 9 and r["trace"]["path"] == str(trace_file)
    assert len(r["trace"]["sha256"]) == 64 and "speedup_vs_dense" in r
    code, _, _ = cli("run", ARCH_A, "--trace", trace_file, "--out", tmp_path / "r2.json", "--baseline")
    assert (tmp_path / "r2.json").read_bytes() == out.read_bytes()


def test_run_tokens_and_check_values(cli, trace_file, tmp_path):
    code, stdout, err = cli("run", ARCH_B, "--trace", trace_file, "--tokens", "4", "--check-values")
    assert code == 0, err
    assert stdout.count("ok ") >= 4 and "FAIL" not in stdout


def _bad(cli, tmp_path, *argv):
    out = tmp_path / "never.json"
    code, stdout, err = cli("run", *argv, "--out", out)
    assert code == 2
    assert err.startswith("accelsim: error: ") and err.count("\n") == 1, err
    assert not out.exists()
    return err


def test_tokens_beyond_trace(cli, trace_file, tmp_path):
    assert "beyond the trace" in _bad(cli, tmp_path, ARCH_A, "--trace", trace_file, "--tokens", "10")


def test_tokens_zero(cli, trace_file, tmp_path):
    assert "--tokens" in _bad(cli, tmp_path, ARCH_A, "--trace", trace_file, "--tokens", "0")


def test_zero_length_trace(cli, tmp_path):
    p = tmp_path / "empty.npz"
    save_trace(p, random_trace(tokens=0))
    assert "zero-length" in _bad(cli, tmp_path, ARCH_A, "--trace", p)


def test_decoder_asked_but_absent(cli, tmp_path):
    p = tmp_path / "nodec.npz"
    save_trace(p, random_trace(decoder=False))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(Path(ARCH_A).read_text().replace("include_decoder: false", "include_decoder: true")
                   .replace("energy/45nm.yaml", str(REPO / "configs" / "energy" / "45nm.yaml")))
    assert "decoder" in _bad(cli, tmp_path, cfg, "--trace", p)


def test_sram_too_small_is_an_error(cli, trace_file, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(Path(ARCH_A).read_text().replace("capacity_bytes: 8388608", "capacity_bytes: 64")
                   .replace("energy/45nm.yaml", str(REPO / "configs" / "energy" / "45nm.yaml")))
    err = _bad(cli, tmp_path, cfg, "--trace", trace_file)
    assert "capacity_bytes" in err and "weight_storage: dram" in err


def test_unknown_format(cli, trace_file, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(Path(ARCH_A).read_text().replace("weight_format: csc", "weight_format: coo"))
    assert "weight_format" in _bad(cli, tmp_path, cfg, "--trace", trace_file)


def test_word_too_narrow_for_weights(cli, trace_file, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(Path(ARCH_A).read_text().replace("bank_width_bits: 64", "bank_width_bits: 8")
                   .replace("energy/45nm.yaml", str(REPO / "configs" / "energy" / "45nm.yaml")))
    assert "index_bits" in _bad(cli, tmp_path, cfg, "--trace", trace_file)


def test_missing_trace(cli, tmp_path):
    assert "no such file" in _bad(cli, tmp_path, ARCH_A, "--trace", tmp_path / "nope.npz")


# ------------------------------------------------------------------------------- value check


@pytest.mark.parametrize("fmt", ["dense", "csc", "bitmap"])
@pytest.mark.parametrize("sa,sw", [(True, True), (False, False), (True, False)])
def test_check_values_passes_for_every_format(fmt, sa, sw):
    cfg = load_config(ARCH_A).model_copy(update={"weight_format": fmt, "skip_activity": sa,
                                                 "skip_weights": sw, "include_decoder": True,
                                                 "layout": "blocked"})
    lines = cv.check_values(cfg, random_trace(sizes=(5, 7, 6), tokens=6, decoder=True, seed=2))
    assert lines and not any(l.startswith("FAIL") for l in lines)


def test_check_values_catches_a_wrong_fetch(monkeypatch):
    """A format that loses its last stored value must be caught."""
    real = cv._encode_decode

    def lossy(fmt, col, rows, values, bank_rows, n_cols):
        c, r, v = real(fmt, col, rows, values, bank_rows, n_cols)
        return c[:-1], r[:-1], v[:-1]

    monkeypatch.setattr(cv, "_encode_decode", lossy)
    cfg = load_config(ARCH_A)
    lines = cv.check_values(cfg, random_trace(sizes=(5, 7), tokens=4, weight_density=0.9, seed=2))
    assert any(l.startswith("FAIL") for l in lines)


def test_check_values_says_what_ptb_cannot_check():
    from dataclasses import replace
    tr = replace(random_trace(sizes=(5, 7), tokens=3, seed=2), token_ids=None)
    lines = cv.check_values(load_config(ARCH_A), tr)
    assert any("not checkable" in l for l in lines)
    assert not any(l.startswith("FAIL") for l in lines)


@pytest.mark.parametrize("config", [ARCH_A, ARCH_B])
def test_shipped_configs_on_a_synthetic_trace(cli, tmp_path, config):
    from accelsim.trace.synth import synthesize
    p = tmp_path / "s.npz"
    save_trace(p, synthesize(layers=[24, 40, 40, 24], tokens=30, vocab_size=50, decoder=True, seed=1))
    out = tmp_path / "r.json"
    code, stdout, err = cli("run", config, "--trace", p, "--baseline", "--out", out)
    assert code == 0, err
    r = json.loads(out.read_text())
    assert r["macs"] < r["macs_dense"] and r["cycles"] > 0 and r["speedup_vs_dense"] > 1
    assert "energy per token" in stdout and "dependency" in stdout


def test_progress_callback_counts_tokens():
    from accelsim.config import load_energy_table
    from accelsim.engine import simulate
    seen = []
    tr = random_trace(sizes=(4, 5), tokens=7, seed=3)
    for name in (ARCH_A, ARCH_B):
        seen.clear()
        simulate(load_config(name), tr, load_energy_table(REPO / "configs/energy/45nm.yaml"),
                 progress=seen.append)
        assert seen == list(range(1, 8))


def test_no_events_means_unbounded_ideal_reduction():
    from accelsim.config import load_energy_table
    from accelsim.engine import simulate
    r = simulate(load_config(ARCH_A), random_trace(activity=0.0, seed=1),
                 load_energy_table(REPO / "configs/energy/45nm.yaml"))
    assert r["ideal_reduction"] is None and r["macs"] > 0   # layer 0's dense input still runs


def test_baseline_kind_on_the_command_line(cli, trace_file, tmp_path):
    """--baseline-kind implies --baseline and names the kind in the table and the JSON; an unknown
    kind is one line and exit 2, before anything runs."""
    for kind, label in (("dense", "speedup vs dense baseline (dense weights in SRAM)"),
                        ("no-skip", "speedup vs no-skip baseline (same hardware, both skips off)")):
        out = tmp_path / f"{kind}.json"
        code, stdout, err = cli("run", ARCH_A, "--trace", trace_file, "--baseline-kind", kind, "--out", out)
        assert code == 0, err
        assert label in stdout and f"energy reduction vs {kind} baseline" in stdout
        assert json.loads(out.read_text())["baseline"]["kind"] == kind
    code, stdout, _ = cli("run", ARCH_A, "--trace", trace_file, "--baseline", "--out", tmp_path / "d2.json")
    assert (tmp_path / "d2.json").read_bytes() == (tmp_path / "dense.json").read_bytes()
    assert "area, mm^2 (45nm table)" in stdout
    err = _bad(cli, tmp_path, ARCH_A, "--trace", trace_file, "--baseline-kind", "sparse")
    assert "--baseline-kind: unknown kind 'sparse'; expected one of dense, no-skip" in err
