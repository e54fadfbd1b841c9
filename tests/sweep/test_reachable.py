"""Workloads that cannot be read or made (no PTB folder, a trace or model file gone) are named at
once, by --dry-run and by the sweep, before any trace is generated; `sweep --ptb PATH` works."""

from __future__ import annotations

import pytest

from accelsim.errors import InputError
from accelsim.sweep import load_spec, run_sweep
from tests.sweep.conftest import REPO, TINY_SYNTH, accelsim, ptb_folder, write_spec

PAPER = REPO / "configs" / "sweeps" / "paper.yaml"


def _egru_spec(tmp_path, **egru):
    """A spec with a synthetic workload first and two tiny EGRU models on PTB."""
    from accelsim.workloads.model_file import save_model
    from tests.workloads.conftest import tiny_model

    for seed in (0, 1):
        save_model(tmp_path / f"m{seed}.npz", tiny_model(sizes=(8, 16, 8), vocab=10000, seed=seed))
    return write_spec(tmp_path, workloads=[{"name": "syn", "synth": dict(TINY_SYNTH)},
                                           {"name": "ptb", "egru": dict({"model": "m*.npz", "tokens": 40}, **egru)}],
                      axes=[{"grid": {"pe.count": [4, 8]}}])


def test_a_sweep_needing_ptb_without_it_fails_at_once_naming_ptb(tmp_path, monkeypatch):
    monkeypatch.delenv("ACCELSIM_PTB", raising=False)
    spec = _egru_spec(tmp_path)
    with pytest.raises(InputError) as e:
        run_sweep(spec, tmp_path / "o", workers=1, progress=False)
    msg = str(e.value)
    assert "workloads ptb:m0, ptb:m1: no PTB folder given: pass --ptb PATH or set ACCELSIM_PTB" in msg
    assert "\n" not in msg
    assert not (tmp_path / "o").exists()  # no store, and not one trace generated (the synthetic one included)


def test_cli_without_ptb_is_one_line_exit_2_and_generates_nothing(tmp_path):
    spec = _egru_spec(tmp_path)
    code, out, err, seconds = accelsim("sweep", spec, "--out", tmp_path / "o", "--workers", "1",
                                       env={"ACCELSIM_PTB": None})
    assert code == 2 and err.count("\n") == 1 and "--ptb PATH or set ACCELSIM_PTB" in err
    assert not (tmp_path / "o").exists()


def test_a_folder_that_is_not_ptb_fails_before_any_trace_is_generated(tmp_path):
    bogus = tmp_path / "notptb"
    bogus.mkdir()
    for name in ("train", "valid", "test"):
        (bogus / f"ptb.{name}.txt").write_text("hello world\n")
    spec = _egru_spec(tmp_path)
    with pytest.raises(InputError, match="not the PTB"):
        run_sweep(spec, tmp_path / "o", workers=1, progress=False, ptb=bogus)
    assert not (tmp_path / "o").exists()


def test_missing_ptb_files_are_named(tmp_path, monkeypatch):
    monkeypatch.delenv("ACCELSIM_PTB", raising=False)
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "ptb.train.txt").write_text("x\n")
    spec = load_spec(_egru_spec(tmp_path), ptb=tmp_path / "half")
    assert spec.unreachable() == [("ptb:m0", f"{tmp_path / 'half'} is not a PTB folder: ptb.valid.txt, ptb.test.txt "
                                             f"missing or unreadable (pass --ptb PATH or set ACCELSIM_PTB)"),
                                  ("ptb:m1", f"{tmp_path / 'half'} is not a PTB folder: ptb.valid.txt, ptb.test.txt "
                                             f"missing or unreadable (pass --ptb PATH or set ACCELSIM_PTB)")]
    spec = load_spec(_egru_spec(tmp_path), ptb=tmp_path / "nowhere")
    assert "PTB folder" in spec.unreachable()[0][1] and "not found" in spec.unreachable()[0][1]


def test_a_trace_or_model_file_gone_is_unreachable(tmp_path, monkeypatch):
    from accelsim.trace import save_trace
    from accelsim.trace.synth import synthesize

    monkeypatch.setenv("ACCELSIM_PTB", str(tmp_path))  # a folder; not what this test is about
    save_trace(tmp_path / "t.npz", synthesize(**TINY_SYNTH))
    spec = load_spec(write_spec(tmp_path, workloads=[{"name": "file", "trace": "t.npz"}],
                                axes=[{"grid": {"pe.count": [4]}}]))
    assert spec.unreachable() == []
    (tmp_path / "t.npz").unlink()
    assert spec.unreachable() == [("file", f"cannot read the trace file {tmp_path / 't.npz'}")]
    with pytest.raises(InputError, match=r"workload file: cannot read the trace file"):
        spec.check_reachable()


def test_dry_run_names_unreachable_workloads_and_writes_nothing(tmp_path):
    spec = _egru_spec(tmp_path)
    code, out, err, _ = accelsim("sweep", spec, "--dry-run", "--out", tmp_path / "o", env={"ACCELSIM_PTB": None})
    assert code == 2 and err.count("\n") == 1
    assert "workloads ptb:m0, ptb:m1: no PTB folder given: pass --ptb PATH or set ACCELSIM_PTB" in err
    lines = out.splitlines()
    assert sum("unreachable" in l for l in lines if " ptb:m" in l) == 4   # 2 models x 2 PE counts
    assert "6 design points: 2 todo (trace to generate), 4 unreachable" in lines[-1]
    assert not (tmp_path / "o").exists() and not (tmp_path / "traces").exists()


def test_paper_spec_dry_run_without_ptb_says_so_at_once(tmp_path):
    code, out, err, seconds = accelsim("sweep", PAPER, "--dry-run", env={"ACCELSIM_PTB": None}, cwd=tmp_path)
    assert code == 2 and err.count("\n") == 1 and seconds < 20
    assert "workloads ptb:egru-ptb-w0, ptb:egru-ptb-w50" in err and "--ptb PATH or set ACCELSIM_PTB" in err
    assert err.count("ptb:egru-ptb-w0,") == 1  # used by two parts, named once
    assert "169 design points" in out
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing generated


def test_paper_spec_dry_run_with_ptb_lists_every_point():
    ptb = ptb_folder()
    if ptb is None:
        pytest.skip("PTB not found")
    code, out, err, _ = accelsim("sweep", PAPER, "--dry-run", "--ptb", ptb, "--out", "/nonexistent/runs/paper",
                                 env={"ACCELSIM_PTB": None})
    assert code == 0 and err == "", err
    assert out.splitlines()[-1].startswith("sweep 'paper': 169 design points: ")
    assert "unreachable" not in out


def test_cli_ptb_option_runs_egru_workloads(tmp_path):
    ptb = ptb_folder()
    if ptb is None:
        pytest.skip("PTB not found")
    spec = _egru_spec(tmp_path)
    code, out, err, _ = accelsim("sweep", spec, "--out", tmp_path / "o", "--workers", "1", "--no-progress",
                                 "--ptb", ptb, env={"ACCELSIM_PTB": None})
    assert code == 0, err
    assert "6 design points, 6 distinct simulations (0 already stored, 6 run, 0 failed now)" in out
    assert len(list((tmp_path / "o" / "traces").glob("egru-m*.npz"))) == 2
