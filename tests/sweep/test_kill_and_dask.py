"""A sweep killed with SIGKILL resumes with every point exactly once; a Dask cluster stores the
same results as local processes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from accelsim.sweep import run_sweep
from accelsim.sweep.store import ResultsStore
from tests.sweep.conftest import REPO, TINY_SYNTH, write_spec

N_KILL = 24


def _count(db_path) -> int:
    try:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT COUNT(*) FROM points").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def _stored(out) -> dict:
    with ResultsStore(out, create=False) as st:
        return {r["key"]: (r["status"], r["result"]) for r in st.rows()}


def test_kill_9_mid_sweep_then_resume_has_every_point_once(tmp_path):
    # Points must take long enough for the kill to land mid-way: bigger layers than the tiny ones.
    synth = dict(TINY_SYNTH, layers=[32, 128, 128], tokens=500)
    spec = write_spec(tmp_path, workloads=[{"name": "syn", "synth": synth}], tokens=500,
                      axes=[{"grid": {"pe.count": [2, 4, 8, 16], "weight_sram.banks": [2, 4, 8],
                                      "skip_weights": [False, True]}}])
    out = tmp_path / "o"
    code = (f"from accelsim.sweep import run_sweep\n"
            f"if __name__ == '__main__':\n"
            f"    run_sweep({str(spec)!r}, {str(out)!r}, workers=2, progress=False)\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = out / "results.sqlite"
    deadline = time.time() + 90
    try:
        while time.time() < deadline and _count(db) < 3 and proc.poll() is None:
            time.sleep(0.005)
        done_at_kill = _count(db)
        assert proc.poll() is None, f"sweep ended before the kill: {proc.stderr.read().decode()[-500:]}"
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its worker processes, mid-flight
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)
    assert 3 <= done_at_kill < N_KILL
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    partial = _stored(out)
    assert all(status == "ok" and result for status, result in partial.values())
    df, s = run_sweep(spec, out, workers=2, progress=False, return_summary=True)
    assert s.skipped == len(partial) and s.ran == N_KILL - len(partial)
    assert len(df) == N_KILL and df["key"].is_unique and (df["status"] == "ok").all()
    resumed = _stored(out)
    assert {k: resumed[k] for k in partial} == partial  # stored points untouched
    # and the resumed store equals an uninterrupted run
    run_sweep(spec, tmp_path / "fresh", workers=1, progress=False)
    assert _stored(tmp_path / "fresh") == resumed


@pytest.mark.slow
def test_dask_local_cluster_stores_the_same_results_as_local_processes(tmp_path):
    distributed = pytest.importorskip("distributed")
    spec = write_spec(tmp_path)
    run_sweep(spec, tmp_path / "local", workers=2, progress=False)
    old = signal.signal(signal.SIGALRM, lambda *a: (_ for _ in ()).throw(TimeoutError("dask test over 120 s")))
    signal.alarm(120)
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=None, silence_logs=40) as cluster:
            assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
            df, s = run_sweep(spec, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False,
                              return_summary=True)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert (s.executor, s.workers, s.ran) == ("dask", 2, 8)
    assert (df["status"] == "ok").all()
    assert _stored(tmp_path / "dask") == _stored(tmp_path / "local")
