"""What a sweep refuses, and what it says when points fail: one sweep per folder (a lock naming
its holder), one spec per store (unless --force-new), honest exit statuses, output paths checked
before anything runs, plain sweep names."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from accelsim.errors import InputError
from accelsim.sweep import load_spec, run_sweep
from accelsim.sweep.lock import FolderLock
from accelsim.sweep.store import ResultsStore
from tests.sweep.conftest import REPO, accelsim, write_spec

FAILING_AXES = [{"grid": {"pe.count": [4, 8], "include_decoder": [False, True]}}]


def stored(out) -> dict:
    with ResultsStore(out, create=False) as st:
        return {r["key"]: (r["status"], r["result"], r["error"]) for r in st.rows()}


# ----------------------------------------------------------------------------------------------
# one sweep at a time per folder


def _hold_lock_in_child(folder):
    """A separate process that takes the folder's lock and keeps it until killed."""
    code = ("import sys, time\n"
            "from accelsim.sweep.lock import FolderLock\n"
            f"FolderLock({str(folder)!r}, 'holder').acquire()\n"
            "print('locked', flush=True)\n"
            "time.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)),
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_sweep_into_a_busy_folder_is_refused_naming_the_holder(tmp_path):
    spec = write_spec(tmp_path, axes=[{"grid": {"pe.count": [4, 8]}}])
    out = tmp_path / "o"
    out.mkdir()
    holder = _hold_lock_in_child(out)
    try:
        code, stdout, err, _ = accelsim("sweep", spec, "--out", out, "--workers", "1", "--no-progress")
        assert code == 2 and err.count("\n") == 1, err
        assert "another sweep is writing into this folder" in err
        assert f"pid {holder.pid} on " in err and "sweep 'holder'" in err
        assert not (out / "results.sqlite").exists()  # refused before anything was written
    finally:
        holder.send_signal(signal.SIGKILL)  # dies holding the lock: the OS releases it
        holder.wait(timeout=30)
    # a lock left by a dead process does not block: the next sweep runs, and names itself in the file
    code, stdout, err, _ = accelsim("sweep", spec, "--out", out, "--workers", "1", "--no-progress")
    assert code == 0, err
    assert "sweep 'tiny'" in (out / ".lock").read_text() and f"pid {holder.pid} " not in (out / ".lock").read_text()


def test_the_lock_is_held_for_the_whole_sweep_and_released_after(tmp_path):
    spec = write_spec(tmp_path, axes=[{"grid": {"pe.count": [4]}}])
    out = tmp_path / "o"
    out.mkdir()
    with FolderLock(out, "someone"):
        with pytest.raises(InputError, match=rf"{out}: another sweep is writing into this folder \(pid {os.getpid()} "):
            run_sweep(spec, out, workers=1, progress=False)
    run_sweep(spec, out, workers=1, progress=False)  # free again
    with FolderLock(out, "after"):  # and the sweep released it when it ended
        pass


# ----------------------------------------------------------------------------------------------
# one spec per store


def test_same_name_other_axes_is_refused_and_force_new_keeps_the_stores_apart(tmp_path):
    first = write_spec(tmp_path, axes=[{"grid": {"pe.count": [4, 8]}}])
    run_sweep(first, tmp_path / "o", workers=1, progress=False)
    before = stored(tmp_path / "o")
    other = write_spec(tmp_path / "..", file=f"{tmp_path.name}-other.yaml",
                       axes=[{"grid": {"weight_sram.banks": [2, 16]}}])  # same name 'tiny', other axes
    with pytest.raises(InputError) as e:
        run_sweep(other, tmp_path / "o", workers=1, progress=False)
    msg = str(e.value)
    assert "holds the results of another version of sweep 'tiny'" in msg and str(first) in msg
    assert "--force-new" in msg and "\n" not in msg
    assert stored(tmp_path / "o") == before
    # --force-new: a fresh store for the new spec alone (no mixing), the old one kept aside
    df, s = run_sweep(other, tmp_path / "o", workers=1, progress=False, force_new=True, return_summary=True)
    assert sorted(df["axis.weight_sram.banks"]) == [2, 16] and "axis.pe.count" not in df
    with sqlite3.connect(tmp_path / "o" / "results.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM points").fetchone()[0] == 2
        meta = dict(db.execute("SELECT key, value FROM sweep"))
    assert meta["spec_path"] == str(other)  # the report names the spec that made these results
    assert meta["spec_model_sha256"] == load_spec(other).spec_sha256
    with sqlite3.connect(s.archived) as db:
        assert {k for (k,) in db.execute("SELECT key FROM points")} == set(before)


def test_a_spec_edited_only_in_comments_and_layout_is_the_same_spec(tmp_path):
    spec = write_spec(tmp_path, axes=[{"grid": {"pe.count": [4, 8]}}])
    run_sweep(spec, tmp_path / "o", workers=1, progress=False)
    data = yaml.safe_load(spec.read_text())
    spec.write_text("# a comment\n" + yaml.safe_dump(data, sort_keys=True, default_flow_style=True))
    df, s = run_sweep(spec, tmp_path / "o", workers=1, progress=False, return_summary=True)
    assert (s.skipped, s.ran) == (2, 0)


def test_cli_force_new(tmp_path):
    out = tmp_path / "o"
    write_spec(tmp_path, axes=[{"grid": {"pe.count": [4]}}])
    code, _, err, _ = accelsim("sweep", tmp_path / "tiny.yaml", "--out", out, "--workers", "1", "--no-progress")
    assert code == 0, err
    write_spec(tmp_path, axes=[{"grid": {"pe.count": [4, 8]}}])
    code, stdout, err, _ = accelsim("sweep", tmp_path / "tiny.yaml", "--out", out, "--workers", "1", "--no-progress")
    assert code == 2 and err.count("\n") == 1 and "--force-new" in err
    code, stdout, err, _ = accelsim("sweep", tmp_path / "tiny.yaml", "--out", out, "--workers", "1", "--no-progress",
                                    "--force-new")
    assert code == 0, err
    assert "the previous results are kept in" in stdout and "1 finished simulation(s) carried over" in stdout
    assert "(1 already stored, 1 run, 0 failed now)" in stdout


# ----------------------------------------------------------------------------------------------
# exit status


def test_exit_status_is_3_with_one_line_when_points_fail_and_retry_failed_still_works(tmp_path):
    spec = write_spec(tmp_path, axes=FAILING_AXES)
    out, export = tmp_path / "o", tmp_path / "r.csv"
    code, stdout, err, _ = accelsim("sweep", spec, "--out", out, "--workers", "1", "--no-progress", "--export", export)
    assert code == 3
    assert err.count("\n") == 1 and "2 of 4 design points failed" in err and "decoder" in err
    assert "--retry-failed" in err
    assert len(pd.read_csv(export)) == 4  # results (failures included) are still stored and exported
    code, stdout, err, _ = accelsim("sweep", spec, "--out", out, "--workers", "1", "--no-progress", "--retry-failed")
    assert code == 3 and "(2 already stored, 2 run, 2 failed now)" in stdout
    # a stored failure counts even when nothing ran now
    code, stdout, err, _ = accelsim("sweep", spec, "--out", out, "--workers", "1", "--no-progress")
    assert code == 3 and "0 run" in stdout


def test_exit_status_is_0_when_every_point_succeeded(tmp_path, cli):
    code, out, err = cli("sweep", write_spec(tmp_path, axes=[{"grid": {"pe.count": [4]}}]), "--out", tmp_path / "o",
                         "--workers", "1", "--no-progress")
    assert code == 0 and err == ""


def test_help_documents_the_exit_statuses(cli):
    code, out, _ = cli("sweep", "--help")
    assert code == 0
    assert "exit status" in out and "3  the sweep ran, but some design points are stored as failed" in out


# ----------------------------------------------------------------------------------------------
# output paths: refused before any point runs


@pytest.mark.parametrize("case", ["out-is-a-file", "export-is-a-folder", "export-unwritable", "export-is-the-spec",
                                  "export-bad-suffix", "out-unwritable"])
def test_bad_out_or_export_is_refused_before_anything_runs(tmp_path, cli, case):
    spec = write_spec(tmp_path, axes=[{"grid": {"pe.count": [4]}}])
    out = tmp_path / "o"
    args = ["sweep", spec, "--workers", "1", "--no-progress"]
    if case == "out-is-a-file":
        out.write_text("x")
        args += ["--out", out]
    elif case == "out-unwritable":
        out = "/proc/accelsim-sweep"
        args += ["--out", out]
    else:
        args += ["--out", out]
        export = {"export-is-a-folder": tmp_path, "export-unwritable": "/proc/accelsim.csv",
                  "export-is-the-spec": spec.with_suffix(".csv"), "export-bad-suffix": tmp_path / "r.xlsx"}[case]
        if case == "export-is-the-spec":
            spec = spec.rename(export)
            args[1] = spec
        args += ["--export", export]
    code, stdout, err = cli(*args)
    assert code == 2 and stdout == "" and err.count("\n") == 1, (code, stdout, err)
    assert "--out" in err or "--export" in err
    assert not (tmp_path / "o" / "results.sqlite").exists()  # nothing ran


# ----------------------------------------------------------------------------------------------
# names


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".", "x y", "", "a" * 101, "/abs"])
def test_name_must_be_a_plain_name(tmp_path, name):
    with pytest.raises(InputError) as e:
        load_spec(write_spec(tmp_path, name=name, file="s.yaml"))
    assert ": name: must be" in str(e.value) and "\n" not in str(e.value)


def test_a_traversing_name_writes_nothing_outside(tmp_path, cli):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    spec = write_spec(work, name="../../x", file="s.yaml", axes=[{"grid": {"pe.count": [4]}}])
    old = os.getcwd()
    os.chdir(work)
    try:
        code, out, err = cli("sweep", spec, "--workers", "1", "--no-progress")
    finally:
        os.chdir(old)
    assert code == 2 and "name: must be a plain name" in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b", "s.yaml"]


def test_plain_names_and_the_file_name_default(tmp_path):
    assert load_spec(write_spec(tmp_path, name="paper-2.v1_x", axes=[{"grid": {"pe.count": [4]}}])).name == "paper-2.v1_x"
    assert load_spec(write_spec(tmp_path, name=None, file="from-file.yaml",
                                axes=[{"grid": {"pe.count": [4]}}])).name == "from-file"
    with pytest.raises(InputError, match="the file name 'bad name' is not a plain name"):
        load_spec(write_spec(tmp_path, name=None, file="bad name.yaml", axes=[{"grid": {"pe.count": [4]}}]))


def test_spec_keys_and_types_are_checked_by_the_pydantic_model(tmp_path):
    from pydantic import BaseModel

    from accelsim.sweep.spec import SpecModel

    assert issubclass(SpecModel, BaseModel)
    assert {"name", "base", "tokens", "baseline", "baseline_kind", "workloads", "axes",
            "parts"} == set(SpecModel.model_fields)
    cases = [({"tokens": "5"}, "tokens: must be an integer (got '5')"),
             ({"baseline": "yes"}, "baseline: must be true or false (got 'yes')"),
             ({"baseline_kind": "sparse"}, "baseline_kind: must be one of 'dense' or 'no-skip' (got 'sparse')"),
             ({"parts": []}, "parts: expected a non-empty list of sub-sweeps"),
             ({"workloads": [{"name": "a", "egru": {"model": "m.npz", "split": "dev"}}]},
              "workloads[0].egru.split: must be one of 'train', 'valid' or 'test' (got 'dev')"),
             ({"workloads": [{"name": "a", "egru": {"split": "test"}}]}, "workloads[0].egru.model: missing: the exported EGRU model"),
             ({"parts": [{"name": "p"}, {"name": "p"}]}, "parts[1].name: must be a distinct name")]
    for over, message in cases:
        with pytest.raises(InputError) as e:
            load_spec(write_spec(tmp_path, **over))
        assert message in str(e.value), (over, str(e.value))
