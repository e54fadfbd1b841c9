"""Invariants of one run: exact MAC counts, bounds, energy bookkeeping, determinism, scaling."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.config import load_config, load_energy_table
from accelsim.engine import simulate
from accelsim.result import to_json
from accelsim.trace.format import Events, Trace
from tests.reference.tracegen import random_trace

TABLE = load_energy_table("configs/energy/45nm.yaml")
ARCH_A = load_config("configs/arch_a.yaml")
ARCH_B = load_config("configs/arch_b.yaml")


def _cfg(base, **kw):
    return base.model_copy(update=kw)


def exact_macs(trace: Trace, skip_activity=True, skip_weights=True, decoder=False) -> int:
    """Brute force from the trace: sum over fetched columns of their nonzeros (or rows)."""
    total = 0
    T = trace.steps
    for i, l in enumerate(trace.layers):
        nnz = np.diff(l.weight.indptr)
        per_col = nnz if skip_weights else np.full_like(nnz, l.weight.shape[0])
        n_in, H = l.input_size, l.hidden_size
        for t in range(T):
            if i == 0 or not skip_activity:
                xcols = range(n_in)
            else:
                e = trace.layers[i - 1].events
                xcols = e.indices[e.indptr[t]:e.indptr[t + 1]]
            if not skip_activity:
                rcols = range(H)
            elif t == 0:
                rcols = []
            else:
                rcols = l.events.indices[l.events.indptr[t - 1]:l.events.indptr[t]]
            total += sum(int(per_col[j]) for j in xcols) + sum(int(per_col[n_in + j]) for j in rcols)
    if decoder:
        d = trace.decoder_weight
        nnz = np.diff(d.indptr) if skip_weights else np.full(d.shape[1], d.shape[0])
        e = trace.layers[-1].events
        for t in range(T):
            cols = e.indices[e.indptr[t]:e.indptr[t + 1]] if skip_activity else range(d.shape[1])
            total += sum(int(nnz[j]) for j in cols)
    return total


@pytest.mark.parametrize("base", [ARCH_A, ARCH_B], ids=["arch_a", "arch_b"])
@pytest.mark.parametrize("sa,sw", [(True, True), (True, False), (False, True), (False, False)])
@pytest.mark.parametrize("decoder", [False, True])
def test_macs_exact_and_bounds(base, sa, sw, decoder):
    tr = random_trace(sizes=(8, 12, 10), tokens=12, weight_density=0.3, activity=0.3,
                      decoder=decoder, seed=7)
    cfg = _cfg(base, skip_activity=sa, skip_weights=sw, include_decoder=decoder)
    r = simulate(cfg, tr, TABLE)
    assert r["macs"] == exact_macs(tr, sa, sw, decoder)
    dense = sum(12 * (l.input_size + l.hidden_size) * 3 * l.hidden_size for l in tr.layers)
    if decoder:
        dense += 12 * tr.decoder_weight.shape[0] * tr.decoder_weight.shape[1]
    assert r["macs_dense"] == dense
    if not sa and not sw:
        assert r["macs"] == r["macs_dense"]
    lanes = cfg.pe.count * cfg.pe.mac_lanes
    if cfg.mapping == "spatial":
        compute_bound = max(-(-l["macs"] // lanes) for l in r["per_layer"])
    else:
        compute_bound = -(-r["macs"] // lanes)
    assert r["cycles"] >= compute_bound
    assert r["cycles"] >= r["dram_read_bytes"] / cfg.dram.bandwidth_bytes_per_cycle
    e = r["energy_pj"]
    total = 0.0
    for k, v in e.items():
        if k != "total":
            total += v
    assert e["total"] == total
    assert r["energy_pj_per_token"] == e["total"] / r["tokens"]


def test_same_inputs_same_bytes():
    tr = random_trace(sizes=(6, 9, 7), tokens=10, decoder=True, seed=2)
    cfg = _cfg(ARCH_B, include_decoder=True)
    a = to_json(simulate(cfg, tr, TABLE, baseline=True))
    b = to_json(simulate(cfg, tr, TABLE, baseline=True))
    assert a == b


def _concat(tr: Trace) -> Trace:
    from dataclasses import replace
    layers = []
    for l in tr.layers:
        e = l.events
        indptr = np.concatenate([e.indptr, e.indptr[1:] + e.indptr[-1]])
        layers.append(replace(l, events=Events(indptr, np.concatenate([e.indices, e.indices]),
                                               np.concatenate([e.values, e.values]))))
    return replace(tr, meta=dict(tr.meta, tokens=2 * tr.steps), layers=tuple(layers),
                   token_ids=np.concatenate([tr.token_ids, tr.token_ids]))


@pytest.mark.parametrize("base", [ARCH_A, ARCH_B], ids=["arch_a", "arch_b"])
def test_trace_twice_takes_twice_the_cycles(base):
    tr = random_trace(sizes=(16, 24, 20), tokens=40, weight_density=0.3, activity=0.2, seed=5)
    one = simulate(base, tr, TABLE)
    two = simulate(base, _concat(tr), TABLE)
    assert two["macs"] == pytest.approx(2 * one["macs"], rel=0.02)
    assert 1.9 <= two["cycles"] / one["cycles"] <= 2.1


def test_baseline_keys_and_direction():
    tr = random_trace(sizes=(8, 12, 10), tokens=10, weight_density=0.2, activity=0.2, seed=9)
    r = simulate(ARCH_A, tr, TABLE, baseline=True)
    assert r["speedup_vs_dense"] > 1 and r["energy_reduction_vs_dense"] > 1
    assert r["baseline"]["macs"] == r["macs_dense"]


def test_result_has_every_documented_key():
    tr = random_trace(seed=1)
    r = simulate(ARCH_A, tr, TABLE, baseline=True)
    for k in ("cycles", "tokens", "latency_cycles", "latency_us", "tokens_per_s", "macs",
              "macs_dense", "sram_read_bits", "dram_read_bytes", "events", "stalls_cycles", "lost_work_cycles",
              "pe_work", "queue_peak", "energy_pj", "energy_pj_per_token", "ideal_reduction",
              "per_layer", "config", "trace", "speedup_vs_dense", "energy_reduction_vs_dense"):
        assert k in r, k
    assert set(r["latency_cycles"]) == {"mean", "p50", "p99"} == set(r["latency_us"])
    assert set(r["sram_read_bits"]) == {"weights", "metadata"}
    assert r["config"]["pe"]["count"] == 16  # fully resolved
    assert r["trace"] == {"path": "<random>", "sha256": "0" * 64}


def test_ideal_reduction_from_trace():
    tr = random_trace(sizes=(10, 10), tokens=50, weight_density=0.5, activity=0.5, seed=4)
    l = tr.layers[0]
    dens = l.weight.nnz / (30 * 20) * (int(l.events.indptr[-1]) / (50 * 10))
    assert simulate(ARCH_A, tr, TABLE)["ideal_reduction"] == pytest.approx(1 / dens)


def test_temporal_is_one_cluster_at_a_time():
    """Temporal mapping: busy time of the single cluster never exceeds the cycles."""
    tr = random_trace(sizes=(6, 8, 8), tokens=8, seed=3)
    r = simulate(ARCH_B, tr, TABLE)
    assert sum(l["busy_cycles"]["pe_array"] + l["busy_cycles"]["update_unit"]
               for l in r["per_layer"]) <= r["cycles"]
