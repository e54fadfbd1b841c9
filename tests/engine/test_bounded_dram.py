"""The bounded DRAM path on the shipped EdgeDRNN-like design (configs/arch_b.yaml: dense 8-bit
columns of 3H = 1,200 rows streamed from DRAM, 64-byte bursts, so every column of the PTB
trace's layers 0 and 1 is 1,216 bytes and of layer 2 640 bytes) over the shipped PTB trace."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from tests.conftest import REPO

PTB = REPO / "workloads" / "ptb.npz"


def arch_b(tmp_path, name="b.yaml", top=None, **dram):
    d = yaml.safe_load((REPO / "configs" / "arch_b.yaml").read_text())
    d["dram"].update(dram)
    d.update(top or {})
    p = tmp_path / name
    p.write_text(yaml.safe_dump(d))
    return p


def test_a_staging_buffer_smaller_than_one_column_is_refused_in_one_line(tmp_path):
    cfg = arch_b(tmp_path, staging_buffer_bytes=1215)
    out = subprocess.run([sys.executable, "-m", "accelsim", "run", str(cfg), "--trace", str(PTB),
                          "--tokens", "3"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == (
        "accelsim: error: dram.staging_buffer_bytes (1215) cannot hold one column: the largest, "
        "column 0 of layer 0, is 1216 bytes in DRAM (dense, whole 64-byte bursts); set it to at "
        "least 1216, or null for an unbounded buffer\n")


def test_the_refusal_names_the_largest_column_of_any_cluster(cli, tmp_path):
    """csc with 16-bit indices on the 80 %-pruned PTB model: 3 bytes per stored weight; the
    largest column is in layer 1, not in the first layer checked."""
    code, out, err = cli("run", arch_b(tmp_path, staging_buffer_bytes=1599, top={
        "weight_format": "csc", "skip_weights": True}), "--trace", PTB, "--tokens", "3")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "the largest, column 590 of layer 1, is 1600 bytes in DRAM (csc, whole 64-byte" in err


def test_one_column_of_staging_buffer_is_enough_to_run(cli, tmp_path):
    code, _, err = cli("run", arch_b(tmp_path, staging_buffer_bytes=1216), "--trace", PTB,
                       "--tokens", "3", "--quiet")
    assert code == 0, err


def _cycles(cli, tmp_path, tokens=20, top=None, **dram):
    out = tmp_path / "r.json"
    code, _, err = cli("run", arch_b(tmp_path, top=top, **dram), "--trace", PTB, "--tokens",
                       str(tokens), "--out", out, "--quiet")
    assert code == 0, err
    r = json.loads(out.read_text())
    return r["cycles"], r["stalls_cycles"], r["latency_cycles"]["mean"]


# 20 PTB tokens on arch_b (temporal mapping: one layer-step at a time). A column is 152 channel
# cycles (1,216 bytes at 8 per cycle) after a 40-cycle latency, and 150 cycles of MACs on the 8
# PEs (1,200 rows, one lane each). With room for one column the next is requested only once the
# PEs consumed the last: ~40 + 152 + 150 cycles per column instead of 152 back to back.
@pytest.mark.parametrize("staging, cycles, dram_data", [
    (None, 1_299_406, 1_305_845),     # unbounded (the default): today's figures
    (1216, 2_914_374, 4_516_359),     # one column
    (2432, 1_440_274, 1_586_255),     # two columns: latency and MACs mostly hidden
    (4864, 1_299_406, 1_305_845),     # four columns never wait for room on this design
])
def test_a_small_staging_buffer_runs_slower_than_a_large_one(cli, tmp_path, staging, cycles, dram_data):
    got, stalls, _ = _cycles(cli, tmp_path, staging_buffer_bytes=staging)
    assert (got, stalls["dram_data"]) == (cycles, dram_data)


def test_one_outstanding_request_exposes_the_latency_of_every_column(cli, tmp_path):
    assert _cycles(cli, tmp_path, max_outstanding=1)[0] == 1_668_326
    assert _cycles(cli, tmp_path, max_outstanding=2)[0] == 1_299_406   # 152 > 40: hidden


def test_burst_arbitration_overlaps_the_clusters_requests(cli, tmp_path):
    """Spatial mapping: the three layers' clusters share the channel. Phase arbitration hands it
    to one phase from its start to its last beat; burst arbitration interleaves the clusters'
    bursts and overlaps their latencies. The channel is the bottleneck, so the run takes about as
    long, but a token waits much less (mean latency), and with a one-column staging buffer the
    other clusters use the cycles a phase spends waiting for room."""
    spatial = {"mapping": "spatial"}
    phase = _cycles(cli, tmp_path, top=spatial)
    burst = _cycles(cli, tmp_path, top=spatial, arbitration="burst")
    assert (phase[0], phase[1]["dram_contention"], phase[2]) == (1_281_232, 2_301_329, 180_662.55)
    assert (burst[0], burst[1]["dram_contention"], burst[2]) == (1_283_880, 938_693, 111_904.95)
    assert _cycles(cli, tmp_path, top=spatial, staging_buffer_bytes=1216)[0] == 2_896_200
    assert _cycles(cli, tmp_path, top=spatial, staging_buffer_bytes=1216,
                   arbitration="burst")[0] == 2_050_954


def test_burst_arbitration_is_phase_arbitration_in_temporal_mapping(cli, tmp_path):
    """One layer-step at a time: the channel has one user, the two arbitrations agree."""
    assert _cycles(cli, tmp_path, arbitration="burst", staging_buffer_bytes=2432)[0] == 1_440_274
