"""``delta:`` workloads: a trained GRU run over PTB as a delta network, traced on demand and cached
by a hash of everything that made the trace (model bytes, split, range, both thresholds); the
thresholds may be axes (``workload.theta_x`` / ``workload.theta_h``); bad input is one line,
exit status 2; the stored results say which points ran a delta network and with what.

The PTB folder here is PTB-shaped random text (the loader's line, word and vocabulary counts, no
PTB words): the tests need no data set and write none."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from accelsim.errors import InputError
from accelsim.sweep import load_spec, run_sweep
from accelsim.sweep.keys import canonical_json, sha256_text
from accelsim.sweep.spec import Workload
from accelsim.sweep.traces import generated_path
from tests.sweep.conftest import ARCH_A, TINY_SYNTH, accelsim, write_spec

# ptb.py's EXPECTED_COUNTS: (lines, words with one <eos> per line); 9,999 words + <eos> = 10,000
_COUNTS = {"train": (42_068, 929_589), "valid": (3_370, 73_760), "test": (3_761, 82_430)}
SIZES = (8, 16, 8)


@pytest.fixture(scope="module")
def fake_ptb(tmp_path_factory) -> Path:
    """A folder the PTB loader accepts: random words w0..w9998 in PTB's line and word counts."""
    folder = tmp_path_factory.mktemp("fake_ptb")
    rng = np.random.default_rng(0)
    vocab = np.array([f"w{i}" for i in range(9_999)])
    for split, (lines, tokens) in _COUNTS.items():
        ids = rng.integers(0, len(vocab), tokens - lines)
        if split == "train":
            ids[:len(vocab)] = rng.permutation(len(vocab))   # every word in the training vocabulary
        per, extra = divmod(tokens - lines, lines)
        cuts = np.cumsum([per + (i < extra) for i in range(lines)])[:-1]
        text = "\n".join(" " + " ".join(ws) + " " for ws in np.split(vocab[ids], cuts)) + "\n"
        (folder / f"ptb.{split}.txt").write_text(text)
    return folder


def _models(folder: Path) -> None:
    """g0.npz, g1.npz: tiny GRUs (the delta network's model); e0.npz: a tiny EGRU."""
    from accelsim.workloads.model_file import save_model
    from tests.workloads.conftest import tiny_model

    for seed in (0, 1):
        save_model(folder / f"g{seed}.npz", tiny_model(sizes=SIZES, vocab=10_000, seed=seed, cell="gru"))
    save_model(folder / "e0.npz", tiny_model(sizes=SIZES, vocab=10_000, seed=0))


def _spec(folder: Path, delta: dict, name: str = "dspec", **over) -> Path:
    if not (folder / "g0.npz").exists():   # once: a model saved again is other bytes (zip times)
        _models(folder)
    over.setdefault("axes", [{"grid": {"pe.count": [4]}}])
    return write_spec(folder, name=name, workloads=[{"name": "d", "delta": delta}], **over)


# ----------------------------------------------------------------------------------------------
# end to end


def test_a_delta_sweep_traces_runs_and_stores_what_made_each_point(tmp_path, fake_ptb):
    from accelsim.trace import load_trace

    spec = _spec(tmp_path, {"model": "g0.npz", "tokens": 40, "theta_h": 0.05, "ptb": str(fake_ptb)},
                 axes=[{"grid": {"workload.theta_x": [0, 0.5], "pe.count": [4]}}])
    df, s = run_sweep(spec, tmp_path / "o", workers=1, progress=False, return_summary=True)
    assert (s.points, s.ran) == (2, 2) and (df["status"] == "ok").all(), df["error"].tolist()
    traces = sorted((tmp_path / "o" / "traces").glob("*.npz"))
    assert [t.name[:9] for t in traces] == ["delta-g0-", "delta-g0-"]
    assert df["trace_sha256"].nunique() == 2 and df["key"].nunique() == 2

    # the stored rows say what made them: the model, both thresholds, and the trace's meta
    assert list(df["trace.kind"]) == ["delta", "delta"]
    assert list(df["trace.model"]) == ["g0.npz", "g0.npz"]
    assert list(df["trace.theta_x"]) == [0.0, 0.5] and list(df["trace.theta_h"]) == [0.05, 0.05]
    assert list(df["axis.workload.theta_x"]) == [0, 0.5] and list(df["axis.workload.theta_h"]) == [0.05, 0.05]
    assert list(df["axis.workload.model"]) == ["g0", "g0"] and list(df["axis.workload.tokens"]) == [40, 40]
    for _, row in df.iterrows():
        meta = load_trace(row["trace_path"]).meta
        assert meta["source"]["theta_x"] == row["trace.theta_x"] and meta["source"]["theta_h"] == 0.05
        assert row["trace.x_activity"] == meta["x_activity"] and row["trace.h_activity"] == meta["h_activity"]
        assert row["trace.perplexity"] == meta["perplexity"] and meta["perplexity"] > 1
        assert len(row["trace.x_activity"]) == len(row["trace.h_activity"]) == len(SIZES) - 1
    # theta_x 0 sends every input that moved; 0.5 fewer, on every layer
    x0, x5 = df["trace.x_activity"]
    assert all(b < a for a, b in zip(x0, x5)) and x0[0] == 1.0
    # the thresholds reach the simulation: fewer input columns sent, fewer cycles
    assert df["cycles"].iloc[1] < df["cycles"].iloc[0]

    # cached by content: a second sweep into the same folder generates and runs nothing
    _, s2 = run_sweep(spec, tmp_path / "o", workers=1, progress=False, return_summary=True)
    assert (s2.ran, s2.skipped) == (0, 2)
    assert sorted((tmp_path / "o" / "traces").glob("*.npz")) == traces


def test_the_sweep_traces_exactly_what_trace_delta_writes(tmp_path, fake_ptb):
    """The cached trace is byte for byte the one `accelsim trace delta` writes with the same
    model, split, range and thresholds (theta_x and theta_h each in its place)."""
    spec = _spec(tmp_path, {"model": "g1.npz", "split": "valid", "start": 7, "tokens": 40,
                            "theta_x": 0.1, "theta_h": 0.3})
    df = run_sweep(spec, tmp_path / "o", workers=1, progress=False, ptb=fake_ptb)
    assert (df["status"] == "ok").all(), df["error"].tolist()
    code, out, err, _ = accelsim("trace", "delta", "--model", tmp_path / "g1.npz", "--ptb", fake_ptb,
                                 "--split", "valid", "--start", "7", "--tokens", "40",
                                 "--theta-x", "0.1", "--theta-h", "0.3", "--out", tmp_path / "cli.npz")
    assert code == 0, err
    from accelsim.io import file_sha256

    assert df["trace_sha256"].iloc[0] == file_sha256(tmp_path / "cli.npz")
    assert df["trace.theta_x"].iloc[0] == 0.1 and df["trace.theta_h"].iloc[0] == 0.3


def test_the_store_tells_a_delta_point_from_an_egru_point(tmp_path, fake_ptb):
    spec = write_spec(tmp_path, name="both", axes=[{"grid": {"pe.count": [4]}}], workloads=[
        {"name": "d", "delta": {"model": "g0.npz", "tokens": 40, "theta_x": 0.2, "theta_h": 0.1}},
        {"name": "e", "egru": {"model": "e0.npz", "tokens": 40}},
        {"name": "s", "synth": dict(TINY_SYNTH)}])
    _models(tmp_path)
    df = run_sweep(spec, tmp_path / "o", workers=1, progress=False, ptb=fake_ptb)
    assert (df["status"] == "ok").all(), df["error"].tolist()
    by = df.set_index("workload")
    assert by.loc["d", "trace.kind"] == "delta" and by.loc["e", "trace.kind"] == "egru"
    assert by.loc["s", "trace.kind"] == "synthetic"
    assert by.loc["d", "trace.model"] == "g0.npz" and by.loc["e", "trace.model"] == "e0.npz"
    assert by.loc["d", "trace.theta_x"] == 0.2 and pd.isna(by.loc["e", "trace.theta_x"])
    assert not isinstance(by.loc["e", "trace.x_activity"], list) and len(by.loc["d", "trace.h_activity"]) == 2
    assert by.loc["d", "axis.workload.theta_h"] == 0.1
    assert "axis.workload.theta_h" not in json.loads(_member_params_of(tmp_path / "o", "e"))
    # stored as JSON in points.trace_stats: what a report reads without this package
    with sqlite3.connect(tmp_path / "o" / "results.sqlite") as db:
        stats = json.loads(db.execute("SELECT trace_stats FROM points WHERE key = ?",
                                      (by.loc["d", "key"],)).fetchone()[0])
    assert (stats["kind"], stats["model"], stats["theta_x"], stats["theta_h"]) == ("delta", "g0.npz", 0.2, 0.1)
    assert stats["x_activity"] == by.loc["d", "trace.x_activity"]
    assert stats["perplexity"] == by.loc["d", "trace.perplexity"]


def _member_params_of(out: Path, workload: str) -> str:
    with sqlite3.connect(out / "results.sqlite") as db:
        return db.execute("SELECT params FROM members WHERE workload = ?", (workload,)).fetchone()[0]


# ----------------------------------------------------------------------------------------------
# identity


def _workload(tmp_path, **delta) -> Workload:
    spec = load_spec(_spec(tmp_path, dict({"model": "g0.npz", "theta_x": 0.1, "theta_h": 0.2}, **delta)),
                     ptb=tmp_path)
    (w,) = spec.workloads()
    return w


def test_the_cache_key_changes_with_each_threshold_and_what_made_the_trace(tmp_path):
    base = _workload(tmp_path)
    assert base.delta == {"model": str((tmp_path / "g0.npz").resolve()), "model_sha256": base.delta["model_sha256"],
                          "split": "test", "start": 0, "tokens": None, "ptb": str(tmp_path.absolute()),
                          "theta_x": 0.1, "theta_h": 0.2}
    assert base.delta_key() == sha256_text(canonical_json({"delta": {
        "model_sha256": base.delta["model_sha256"], "split": "test", "start": 0, "tokens": None,
        "theta_x": 0.1, "theta_h": 0.2}}))[:20]
    assert base.ident == "delta:" + base.delta_key() and base.kind == "delta" and base.is_generated
    assert generated_path("/c", base) == Path(f"/c/delta-g0-{base.delta_key()}.npz")
    keys = {"base": base.delta_key()}
    for what, over in [("theta_x", {"theta_x": 0.10001}), ("theta_h", {"theta_h": 0.3}),
                       ("swapped", {"theta_x": 0.2, "theta_h": 0.1}), ("split", {"split": "valid"}),
                       ("start", {"start": 1}), ("tokens", {"tokens": 5}), ("model", {"model": "g1.npz"})]:
        keys[what] = _workload(tmp_path, **over).delta_key()
    assert len(set(keys.values())) == len(keys), keys
    # the same parameters: the same key; the PTB folder and an int threshold are not another trace
    assert _workload(tmp_path).delta_key() == base.delta_key()
    assert _workload(tmp_path, ptb="elsewhere").delta_key() == base.delta_key()
    assert _workload(tmp_path, theta_x=0, theta_h=0.2).delta_key() == _workload(tmp_path, theta_x=0.0).delta_key()
    assert _workload(tmp_path, theta_x=-0.0).delta == _workload(tmp_path, theta_x=0.0).delta
    # the same parameters as an egru workload are another trace
    egru = Workload("e", egru={k: v for k, v in base.delta.items() if not k.startswith("theta")})
    assert egru.egru_key() != base.delta_key() and egru.ident.startswith("egru:")


def test_egru_cache_names_are_unchanged():
    """An EGRU workload's trace keeps the name it had before delta workloads existed (caches of
    earlier sweeps are reused)."""
    w = Workload("e", egru={"model": "/m/egru-ptb-w80.npz", "model_sha256": "ab" * 32, "split": "test",
                            "start": 0, "tokens": 5000, "ptb": "/data/ptb"})
    assert w.egru_key() == "d183fbc9b893a9439e57"   # computed before delta workloads existed
    assert generated_path("/c", w) == Path("/c/egru-egru-ptb-w80-d183fbc9b893a9439e57.npz")


def test_a_spec_without_delta_workloads_means_what_it_meant(tmp_path):
    """The spec's identity (a store refuses another version of its spec) does not gain a 'delta'
    key: a folder of an earlier run of the same spec is the same sweep."""
    from accelsim.sweep.spec import SpecModel, canonical_json_lenient

    _models(tmp_path)
    path = write_spec(tmp_path, name="old", workloads=[{"name": "e", "egru": {"model": "e0.npz"}},
                                                       {"name": "s", "synth": dict(TINY_SYNTH)}],
                      axes=[{"grid": {"pe.count": [4, 8]}}])
    raw = yaml.safe_load(path.read_text())
    dumped = SpecModel.model_validate(raw).model_dump(mode="json", exclude={"baseline_kind"})
    for w in dumped["workloads"]:
        del w["delta"]
    expect = dict(dumped, name="old", resolved_bases=[str(ARCH_A.resolve())],
                  resolved_files=[str((tmp_path / "e0.npz").resolve())])
    assert load_spec(path, ptb=tmp_path).spec_sha256 == sha256_text(canonical_json_lenient(expect))


# ----------------------------------------------------------------------------------------------
# thresholds as axes


def test_theta_axes_make_one_trace_per_value(tmp_path):
    spec = load_spec(_spec(tmp_path, {"model": "g*.npz"}, axes=[
        {"grid": {"workload.theta_x": [0.0, 0.25], "workload.theta_h": [0.5]}},
        {"random": {"samples": 2, "seed": 3, "fields": {"pe.count": [4, 8]}}}]), ptb=tmp_path)
    pts = spec.points
    assert len(pts) == 2 * 2 * 2    # 2 models x 2 theta_x x 2 samples
    got = [(p.workload.name, p.workload.delta["theta_x"], p.workload.delta["theta_h"]) for p in pts]
    assert got == [("d:g0", 0.0, 0.5)] * 2 + [("d:g0", 0.25, 0.5)] * 2 + [("d:g1", 0.0, 0.5)] * 2 + \
                  [("d:g1", 0.25, 0.5)] * 2
    assert len({p.workload.ident for p in pts}) == 4
    assert pts[0].label().startswith("d:g0 workload.theta_x=0 workload.theta_h=0.5 pe.count=")
    # an axis value that is no threshold is refused when its point is made
    bad = _spec(tmp_path, {"model": "g0.npz", "theta_h": 0.1}, name="bad",
                axes=[{"zip": {"workload.theta_x": [0.1, -0.5]}}])
    with pytest.raises(InputError, match=r"bad\.yaml: axes: workload\.theta_x: must be a finite number >= 0 "
                                         r"\(got -0\.5\)$"):
        load_spec(bad, ptb=tmp_path)


def test_a_delta_workload_model_gone_or_without_ptb_is_unreachable(tmp_path, monkeypatch):
    monkeypatch.delenv("ACCELSIM_PTB", raising=False)
    spec = load_spec(_spec(tmp_path, {"model": "g0.npz", "theta_x": 0.1, "theta_h": 0.1}))
    assert spec.unreachable() == [("d", "no PTB folder given: pass --ptb PATH or set ACCELSIM_PTB to the "
                                        "folder holding ptb.train.txt, ptb.valid.txt, ptb.test.txt")]
    monkeypatch.setenv("ACCELSIM_PTB", str(tmp_path))   # a folder without the PTB files
    spec = load_spec(_spec(tmp_path, {"model": "g0.npz", "theta_x": 0.1, "theta_h": 0.1}))
    assert [w for w, _ in spec.unreachable()] == ["d"] and "is not a PTB folder" in spec.unreachable()[0][1]
    spec = load_spec(_spec(tmp_path, {"model": "g0.npz", "theta_x": 0.1, "theta_h": 0.1}), ptb=tmp_path / "p")
    (tmp_path / "g0.npz").unlink()
    assert ("d", f"cannot read the model file {(tmp_path / 'g0.npz').resolve()}") in spec.unreachable()


def test_the_workers_refuse_a_model_of_the_other_kind(tmp_path, fake_ptb):
    """The spec checks the model's kind up front; trace generation checks it again (a file
    replaced by a model of the other kind fails on its hash first, but never runs the wrong
    inference)."""
    from accelsim.io import file_sha256
    from accelsim.sweep.traces import make_delta, make_egru

    _models(tmp_path)
    common = {"split": "test", "start": 0, "tokens": 5, "ptb": str(fake_ptb)}
    e0 = dict(common, model=str(tmp_path / "e0.npz"), model_sha256=file_sha256(tmp_path / "e0.npz"))
    g0 = dict(common, model=str(tmp_path / "g0.npz"), model_sha256=file_sha256(tmp_path / "g0.npz"))
    with pytest.raises(InputError, match=r"e0\.npz: holds a model of kind egru; give it as an 'egru' workload"):
        make_delta(dict(e0, theta_x=0.1, theta_h=0.1), str(tmp_path / "d.npz"))
    with pytest.raises(InputError, match=r"g0\.npz: holds a model of kind gru; give it as a 'delta' workload"):
        make_egru(g0, str(tmp_path / "e.npz"))
    assert not (tmp_path / "d.npz").exists() and not (tmp_path / "e.npz").exists()


# ----------------------------------------------------------------------------------------------
# bad input: one line, exit status 2, nothing written

_OK = {"model": "g0.npz", "theta_x": 0.1, "theta_h": 0.1}
ERROR_CASES = {
    "missing model": ({"delta": dict(_OK, model="nope.npz")},
                      "workloads[0].delta.model: no model file matches {dir}/nope.npz"),
    "glob matching nothing": ({"delta": dict(_OK, model="deltagru-*.npz")},
                              "workloads[0].delta.model: no model file matches {dir}/deltagru-*.npz"),
    "EGRU model to delta": ({"delta": dict(_OK, model="e0.npz")},
                            "workloads[0].delta.model: {dir}/e0.npz holds an EGRU model; 'delta' workloads "
                            "run GRU models (give it as an 'egru' workload)"),
    "EGRU model in a delta glob": ({"delta": dict(_OK, model="*0.npz")},
                                   "workloads[0].delta.model: {dir}/e0.npz holds an EGRU model;"),
    "GRU model to egru": ({"egru": {"model": "g0.npz"}},
                          "workloads[0].egru.model: {dir}/g0.npz holds a GRU model; 'egru' workloads run "
                          "EGRU models (give it as a 'delta' workload)"),
    "not a model file": ({"delta": dict(_OK, model="d.yaml")},
                         "workloads[0].delta.model: {dir}/d.yaml is not an accelsim model file (not a readable .npz)"),
    "negative theta_x": ({"delta": dict(_OK, theta_x=-0.1)},
                         "workloads[0].delta.theta_x: must be a finite number >= 0 (got -0.1)"),
    "infinite theta_h": ({"delta": dict(_OK, theta_h=math.inf)},
                         "workloads[0].delta.theta_h: must be a finite number >= 0 (got inf)"),
    "NaN theta_x": ({"delta": dict(_OK, theta_x=math.nan)},
                    "workloads[0].delta.theta_x: must be a finite number >= 0 (got nan)"),
    "text theta": ({"delta": dict(_OK, theta_h="0.1")}, "workloads[0].delta.theta_h: must be a number (got '0.1')"),
    "unknown key": ({"delta": dict(_OK, thetax=0.1)}, "workloads[0].delta.thetax: unknown key; did you mean 'theta_x'?"),
    "no model": ({"delta": {"theta_x": 0.1, "theta_h": 0.1}},
                 "workloads[0].delta.model: missing: the exported GRU model (.npz, e.g. "
                 "workloads/models/deltagru-ptb-w80.npz)"),
    "no theta": ({"delta": {"model": "g0.npz", "theta_x": 0.1}},
                 "workloads: workload 'd': delta.theta_h is missing: give it (a number >= 0, e.g. 0.1) or "
                 "an axis workload.theta_h"),
    "bad split": ({"delta": dict(_OK, split="dev")},
                  "workloads[0].delta.split: must be one of 'train', 'valid' or 'test' (got 'dev')"),
    "two sources": ({"delta": _OK, "egru": {"model": "e0.npz"}}, "workloads[0]: give exactly one of 'trace'"),
    "theta axis on an egru workload": ({"egru": {"model": "e0.npz"}, "axes": [{"grid": {"workload.theta_x": [0.1]}}]},
                                       "axes: workload.theta_x: workload 'd' is an EGRU model; workload.theta_x "
                                       "sets the threshold of 'delta' workloads"),
    "synthetic axis on a delta workload": ({"delta": _OK, "axes": [{"grid": {"workload.seed": [1]}}]},
                                           "axes: workload.seed: workload 'd' is a GRU run as a delta network; its "
                                           "workload.* axes are workload.theta_x, workload.theta_h"),
    "unknown axis on a delta workload": ({"delta": _OK, "axes": [{"grid": {"workload.theta_z": [1]}}]},
                                         "axes: workload.theta_z: unknown key; did you mean 'theta_x'?"),
    "bad theta axis value": ({"delta": _OK, "axes": [{"grid": {"workload.theta_h": [0.1, "x"]}}]},
                             "axes: workload.theta_h: must be a finite number >= 0 (got 'x')"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_bad_delta_input_is_one_line_and_exit_2(tmp_path, case, fake_ptb):
    body, expect = ERROR_CASES[case]
    _models(tmp_path)
    body = dict(body)
    axes = body.pop("axes", [{"grid": {"pe.count": [4]}}])
    spec = write_spec(tmp_path, name="d", workloads=[dict({"name": "d"}, **body)], axes=axes)
    expect = f"{spec}: " + expect.format(dir=tmp_path)
    code, out, err, _ = accelsim("sweep", spec, "--dry-run", "--ptb", fake_ptb, "--out", tmp_path / "o")
    assert code == 2 and err.count("\n") == 1, (code, err)
    assert err.startswith("accelsim: error: " + expect), err
    assert not (tmp_path / "o").exists() and not (tmp_path / "traces").exists()


def test_dry_run_checks_ptb_for_delta_workloads_up_front(tmp_path):
    spec = _spec(tmp_path, dict(_OK), axes=[{"grid": {"pe.count": [4, 8]}}])
    code, out, err, _ = accelsim("sweep", spec, "--dry-run", "--out", tmp_path / "o", env={"ACCELSIM_PTB": None})
    assert code == 2 and err.count("\n") == 1
    assert "workload d: no PTB folder given: pass --ptb PATH or set ACCELSIM_PTB" in err
    assert out.splitlines()[-1] == "sweep 'dspec': 2 design points: 2 unreachable"
    code, out, err, _ = accelsim("sweep", spec, "--dry-run", "--out", tmp_path / "o",
                                 env={"ACCELSIM_PTB": str(tmp_path)})   # a folder without PTB's files
    assert code == 2 and "is not a PTB folder: ptb.train.txt, ptb.valid.txt, ptb.test.txt missing" in err
    assert not (tmp_path / "o").exists()
