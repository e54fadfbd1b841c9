"""Running sweeps: stored results identical across executors, resume, failures, store safety."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest
import yaml

from accelsim.errors import InputError
from accelsim.sweep import export_results, load_results, run_sweep
from accelsim.sweep.store import ResultsStore
from tests.sweep.conftest import ARCH_A, TINY_SYNTH, ptb_folder, write_spec

FAILING_AXES = [{"grid": {"pe.count": [4, 8], "include_decoder": [False, True]}},
                {"zip": {"workload.weight_sparsity": [0.5, 0.8], "weight_sram.banks": [4, 8]}}]


def stored(out) -> dict:
    """key -> (status, result JSON, error): what the store holds, compared byte for byte."""
    with ResultsStore(out, create=False) as st:
        return {r["key"]: (r["status"], r["result"], r["error"]) for r in st.rows()}


def test_two_workers_store_the_same_results_as_serial(tmp_path):
    spec = write_spec(tmp_path)
    serial = run_sweep(spec, tmp_path / "serial", workers=1, progress=False)
    pool = run_sweep(spec, tmp_path / "pool", workers=2, progress=False)
    assert len(serial) == 8 and (serial["status"] == "ok").all(), serial["error"].tolist()
    assert stored(tmp_path / "serial") == stored(tmp_path / "pool")
    cols = ["key", "cycles", "energy_pj.total", "energy_pj_per_token"]
    pd.testing.assert_frame_equal(serial[cols], pool[cols])
    # the store is keyed by config hash + trace hash: 8 distinct simulations, 2 distinct traces
    assert serial["key"].nunique() == 8 and serial["trace_sha256"].nunique() == 2
    assert (serial["cycles"] > 0).all()


def test_failing_point_is_recorded_and_the_rest_finish(tmp_path):
    df = run_sweep(write_spec(tmp_path, axes=FAILING_AXES), tmp_path / "o", workers=2,
                   progress=False)
    assert len(df) == 8
    bad = df[df["axis.include_decoder"]]
    good = df[~df["axis.include_decoder"]]
    assert (bad["status"] == "error").all() and (good["status"] == "ok").all()
    assert bad["error"].str.contains("decoder").all()
    assert good["cycles"].notna().all() and bad["cycles"].isna().all()


def test_rerun_skips_finished_points_and_retry_failed_reruns_errors(tmp_path):
    spec = write_spec(tmp_path, axes=FAILING_AXES)
    run_sweep(spec, tmp_path / "o", workers=1, progress=False)
    before = stored(tmp_path / "o")
    df, s = run_sweep(spec, tmp_path / "o", workers=1, progress=False, return_summary=True)
    assert (s.skipped, s.ran) == (8, 0) and stored(tmp_path / "o") == before
    df, s = run_sweep(spec, tmp_path / "o", workers=1, progress=False,
                      retry_failed=True, return_summary=True)
    assert (s.skipped, s.ran, s.failed) == (4, 4, 4)
    assert stored(tmp_path / "o") == before  # same errors again, nothing duplicated


def test_extending_a_sweep_with_force_new_runs_only_the_new_points(tmp_path):
    run_sweep(write_spec(tmp_path, axes=[{"grid": {"pe.count": [4, 8]}}]), tmp_path / "o", workers=1,
              progress=False)
    before = stored(tmp_path / "o")
    grown = write_spec(tmp_path, axes=[{"grid": {"pe.count": [4, 8, 16]}}])
    with pytest.raises(InputError, match="another version of sweep 'tiny'.*--force-new"):
        run_sweep(grown, tmp_path / "o", workers=1, progress=False)
    assert stored(tmp_path / "o") == before  # refused: nothing changed
    df, s = run_sweep(grown, tmp_path / "o", workers=1, progress=False, return_summary=True, force_new=True)
    assert (s.skipped, s.ran, s.carried) == (2, 1, 2) and sorted(df["axis.pe.count"]) == [4, 8, 16]
    # the previous store is kept, untouched, beside the fresh one
    archived = list((tmp_path / "o").glob("results-*.sqlite"))
    assert [str(a) for a in archived] == [s.archived]
    with sqlite3.connect(archived[0]) as db:
        assert {k for (k,) in db.execute("SELECT key FROM points")} == set(before)


def test_another_sweeps_folder_is_refused_and_left_alone(tmp_path):
    run_sweep(write_spec(tmp_path, name="first", axes=[{"grid": {"pe.count": [4]}}]), tmp_path / "o",
              workers=1, progress=False)
    before = stored(tmp_path / "o")
    with pytest.raises(InputError, match="holds the results of sweep 'first', not 'second'"):
        run_sweep(write_spec(tmp_path, name="second"), tmp_path / "o", workers=1)
    assert stored(tmp_path / "o") == before


def test_a_folder_with_a_foreign_file_as_store_is_refused(tmp_path):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "results.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(InputError, match="not an accelsim results store"):
        run_sweep(write_spec(tmp_path), tmp_path / "o", workers=1)
    assert (tmp_path / "o" / "results.sqlite").read_bytes() == b"not a database at all" * 100


def test_store_uses_wal_and_one_row_per_key(tmp_path):
    run_sweep(write_spec(tmp_path), tmp_path / "o", workers=1, progress=False)
    db = sqlite3.connect(tmp_path / "o" / "results.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    n, distinct = db.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM points").fetchone()
    assert n == distinct == 8


def test_unreachable_scheduler_is_an_input_error(tmp_path):
    import socket

    pytest.importorskip("distributed")  # the `dist` extra

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(InputError, match=f"--scheduler tcp://127.0.0.1:{port}: cannot reach a Dask scheduler"):
        run_sweep(write_spec(tmp_path), tmp_path / "o", scheduler=f"tcp://127.0.0.1:{port}",
                  connect_timeout_s=1.0)
    assert not (tmp_path / "o").exists()  # nothing written


def test_export_csv_and_parquet_round_trip(tmp_path):
    df = run_sweep(write_spec(tmp_path), tmp_path / "o", workers=1, progress=False)
    export_results(df, tmp_path / "r.csv")
    export_results(df, tmp_path / "r.parquet")
    csv = pd.read_csv(tmp_path / "r.csv")
    pq = pd.read_parquet(tmp_path / "r.parquet")
    assert list(csv["key"]) == list(df["key"]) == list(pq["key"])
    assert list(csv["cycles"]) == list(df["cycles"]) == list(pq["cycles"])
    with pytest.raises(InputError, match="must end in .csv or .parquet"):
        export_results(df, tmp_path / "r.xlsx")


def test_cli_sweep_then_export(tmp_path, cli):
    spec = write_spec(tmp_path)
    code, out, err = cli("sweep", spec, "--out", tmp_path / "o", "--workers", "1", "--export", tmp_path / "r.csv")
    assert code == 0, err
    assert "8 design points, 8 distinct simulations (0 already stored, 8 run" in out
    assert len(pd.read_csv(tmp_path / "r.csv")) == 8
    assert len(load_results(tmp_path / "o")) == 8


def test_points_that_resolve_to_the_same_simulation_run_once(tmp_path):
    spec = tmp_path / "dup.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "dup", "base": str(ARCH_A), "tokens": 16,
        "workloads": [{"name": "syn", "synth": TINY_SYNTH}],
        "parts": [{"name": "a", "axes": [{"grid": {"pe.count": [4, 16]}}]},
                  {"name": "b", "axes": [{"grid": {"skip_weights": [True, False]}}]}]}))
    df, s = run_sweep(spec, tmp_path / "o", workers=1, progress=False, return_summary=True)
    # arch_a has pe.count 16 and skip_weights true: a[1] and b[0] are the same simulation
    assert (s.points, s.unique, s.ran) == (4, 3, 3)
    assert list(df["part"]) == ["a", "a", "b", "b"] and df["key"].nunique() == 3
    assert df.loc[1, "key"] == df.loc[2, "key"] and df.loc[1, "cycles"] == df.loc[2, "cycles"]
    with sqlite3.connect(tmp_path / "o" / "results.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM points").fetchone()[0] == 3


def test_egru_workloads_trace_each_model_over_ptb_once(tmp_path):
    from accelsim.workloads.model_file import save_model
    from tests.workloads.conftest import tiny_model

    ptb = ptb_folder()
    if ptb is None:
        pytest.skip("PTB not found")
    for seed in (0, 1):
        save_model(tmp_path / f"m{seed}.npz", tiny_model(sizes=(8, 16, 8), vocab=10000, seed=seed))
    spec = write_spec(tmp_path, workloads=[{"name": "ptb", "egru": {"model": "m*.npz", "tokens": 40, "ptb": ptb}}],
                      axes=[{"grid": {"pe.count": [4, 8]}}])
    df, s = run_sweep(spec, tmp_path / "o", workers=1, progress=False, return_summary=True)
    assert s.ran == 4 and (df["status"] == "ok").all(), df["error"].tolist()
    assert sorted(set(df["workload"])) == ["ptb:m0", "ptb:m1"] and df["trace_sha256"].nunique() == 2
    assert df["trace.perplexity"].notna().all() and (df["trace.perplexity"] > 1).all()
    assert len(list((tmp_path / "o" / "traces").glob("egru-m*.npz"))) == 2
    # cached by content: a second sweep into the same folder generates nothing and runs nothing
    df2, s2 = run_sweep(spec, tmp_path / "o", workers=1, progress=False, return_summary=True)
    assert (s2.ran, s2.skipped) == (0, 4)


def test_workers_are_long_lived_and_load_kernels_from_numba_cache(tmp_path):
    from tests.sweep.fakes import pid_point

    # warm the on-disk cache first (as any earlier run would have)
    run_sweep(write_spec(tmp_path, name="warm", axes=[{"grid": {"pe.count": [4]}}]), tmp_path / "warm",
              workers=1, progress=False)
    df = run_sweep(write_spec(tmp_path), tmp_path / "o", workers=2, point_fn=pid_point, progress=False)
    assert len(df) == 8 and (df["status"] == "ok").all()
    # 8 points on 2 processes started once for the sweep, not one process per point
    assert df["worker_pid"].nunique() <= 2
    # and no worker compiled a kernel: they came from Numba's on-disk cache
    assert (df["numba_cache_misses"] == 0).all()


def test_a_sweep_runs_the_baseline_of_its_kind(tmp_path):
    """The stored result's ``baseline`` is the kind the spec asks for: the dense design by default
    (no metadata, every MAC), the same hardware with both skips off with ``no-skip``."""
    import json

    axes = [{"grid": {"pe.count": [4]}}]
    dense = run_sweep(write_spec(tmp_path, name="dense", axes=axes, baseline=True), tmp_path / "d",
                      workers=1, progress=False)
    noskip = run_sweep(write_spec(tmp_path, name="noskip", axes=axes, baseline=True,
                                  baseline_kind="no-skip"), tmp_path / "n", workers=1, progress=False)
    assert (dense["status"] == "ok").all() and (noskip["status"] == "ok").all()
    d = json.loads(next(iter(stored(tmp_path / "d").values()))[1])["baseline"]
    n = json.loads(next(iter(stored(tmp_path / "n").values()))[1])["baseline"]
    assert (d["kind"], d["weight_format"], d["sram_read_bits"]["metadata"]) == ("dense", "dense", 0)
    assert (n["kind"], n["weight_format"]) == ("no-skip", "csc") and n["sram_read_bits"]["metadata"] > 0
    assert d["macs"] == n["macs"] == int(dense["macs_dense"].iloc[0])
    assert dense["key"].iloc[0] != noskip["key"].iloc[0]
