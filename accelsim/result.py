"""One run's result: a JSON-ready dict (keys documented in docs/results.md).

Built from the units' action counts and the engine's timeline; energy is priced here, after the
run. Same inputs, same dict, same bytes (``to_json``): no wall-clock times or host details.
"""

from __future__ import annotations

import json

import numpy as np

from accelsim.config.energy import EnergyTable
from accelsim.config.load import resolved_dict
from accelsim.config.schema import ArchConfig
from accelsim.energy import price
from accelsim.energy.area import chip_area
from accelsim.engine.prepare import ClusterWork
from accelsim.engine.schedule import STALL_CAUSES, Timeline
from accelsim.trace.format import Trace
from accelsim.units import pe_array as pa

# measured waits inside a phase (the dispatcher blocked, a column waiting for its bursts)
UNIT_STALLS = {"fifo_full": pa.S_FIFO_FULL, "dram_data": pa.S_DRAM_DATA}
STALL_KEYS = STALL_CAUSES + tuple(UNIT_STALLS)
# work above a perfect spread, not waiting time (it may overlap other work): reported apart
LOST_WORK = {"bank_conflict": pa.S_BANK_CONFLICT, "load_imbalance": pa.S_LOAD_IMBALANCE}


def _stat(w: ClusterWork, slot: int) -> int:
    return int(sum(int(p.stats[slot]) for p in w.phases))


def _cluster_counts(w: ClusterWork, tokens: int) -> dict:
    return {
        "macs": _stat(w, pa.S_MACS),
        "sram_weight_bits": _stat(w, pa.S_WEIGHT_BITS),
        "sram_metadata_bits": _stat(w, pa.S_METADATA_BITS),
        "dram_read_bytes": _stat(w, pa.S_DRAM_BYTES),
        "unit_updates": tokens * w.hidden_size,
        "queue_events": 0,  # filled from the timeline
    }


def _summary(x: np.ndarray) -> dict:
    x = np.asarray(x, dtype=np.float64)
    return {"mean": float(x.mean()), "p50": float(np.percentile(x, 50)),
            "p99": float(np.percentile(x, 99))}


def _pe_work(pe: np.ndarray) -> dict:
    return {"mean": float(pe.mean()), "max": int(pe.max())}


def ideal_reduction(trace: Trace) -> float | None:
    """1 / ((1 - s_w)(1 - s_a)) with the trace's overall weight and activity sparsity."""
    nnz = sum(l.weight.nnz for l in trace.layers)
    entries = sum(l.weight.shape[0] * l.weight.shape[1] for l in trace.layers)
    events = sum(int(l.events.indptr[-1]) for l in trace.layers)
    slots = trace.steps * sum(l.hidden_size for l in trace.layers)
    dens = (nnz / entries) * (events / slots)
    return None if dens == 0 else 1.0 / dens  # None: no weights or no events (unbounded)


def build_result(config: ArchConfig, trace: Trace, table: EnergyTable, work: list[ClusterWork],
                 tl: Timeline, tokens: int, config_source: str | None = None) -> dict:
    per_layer = []
    totals = dict.fromkeys(("macs", "sram_weight_bits", "sram_metadata_bits", "dram_read_bytes",
                            "unit_updates", "queue_events"), 0)
    stall_tot = dict.fromkeys(STALL_KEYS, 0)
    lost_tot = dict.fromkeys(LOST_WORK, 0)
    pe_all = []
    busy = {"pe_array": 0, "update_unit": 0, "dram": 0}
    for i, w in enumerate(work):
        c = _cluster_counts(w, tokens)
        c["queue_events"] = tl.queue_pushes[i]
        for k in totals:
            totals[k] += c[k]
        stalls = {k: int(tl.stalls[i][k]) for k in STALL_CAUSES}
        stalls.update({k: _stat(w, s) for k, s in UNIT_STALLS.items()})
        for k in STALL_KEYS:
            stall_tot[k] += stalls[k]
        lost = {k: _stat(w, s) for k, s in LOST_WORK.items()}
        for k in LOST_WORK:
            lost_tot[k] += lost[k]
        pe = sum(p.pe_macs for p in w.phases)
        pe_all.append(pe)
        b = {"pe_array": _stat(w, pa.S_BUSY),
             "update_unit": 0 if w.update_cycles is None else int(w.update_cycles.sum()),
             "dram": int(sum(int(p.dram_hold.sum()) for p in w.phases))}
        for k in busy:
            busy[k] += b[k]
        per_layer.append({
            "name": w.name,
            "events": w.trace_events,
            "column_events": _stat(w, pa.S_EVENTS),
            "macs": c["macs"],
            "macs_dense": w.macs_dense,
            "sram_read_bits": {"weights": c["sram_weight_bits"], "metadata": c["sram_metadata_bits"]},
            "dram_read_bytes": c["dram_read_bytes"],
            "sram_words_per_bank": [int(x) for x in sum(p.bank_words for p in w.phases)],
            "weight_bytes_stored": w.stored_bytes,
            "stalls_cycles": stalls,
            "lost_work_cycles": lost,
            "busy_cycles": b,
            "pe_work": _pe_work(pe),
            "queue_peak": {"input": int(tl.queue_peak[i]), "recurrent": int(tl.recurrent_queue_peak[i])},
            "queue_events": c["queue_events"],
            "queue_bits": c["queue_events"] * config.event_queue.event_bits,
            "energy_pj": price(c, config, table, cycles=None),
        })
    cycles = tl.cycles
    lat = tl.token_end - tl.token_start
    seconds = cycles / (config.clock_mhz * 1e6)
    area = chip_area(config, table, trace)
    energy = price(totals, config, table, cycles=cycles, area_mm2=area)
    # temporal mapping: one PE array serves every layer, so its PEs' work adds up across layers
    pe_cat = sum(pe_all) if config.mapping == "temporal" else np.concatenate(pe_all)
    result = {
        "cycles": int(cycles),
        "tokens": int(tokens),
        "latency_cycles": _summary(lat),
        "latency_us": {k: v / config.clock_mhz for k, v in _summary(lat).items()},
        "tokens_per_s": float(tokens / seconds) if seconds > 0 else float("inf"),
        "macs": int(totals["macs"]),
        "macs_dense": int(sum(w.macs_dense for w in work)),
        "sram_read_bits": {"weights": int(totals["sram_weight_bits"]),
                           "metadata": int(totals["sram_metadata_bits"])},
        "dram_read_bytes": int(totals["dram_read_bytes"]),
        "events": {w.name: w.trace_events for w in work if w.update_cycles is not None},
        "stalls_cycles": stall_tot,
        "lost_work_cycles": lost_tot,
        "busy_cycles": busy,
        "pe_work": _pe_work(pe_cat),
        "queue_peak": int(max(max(tl.queue_peak), max(tl.recurrent_queue_peak))),
        "queue_bits": int(totals["queue_events"] * config.event_queue.event_bits),
        "energy_pj": energy,
        "energy_pj_per_token": energy["total"] / tokens,
        "ideal_reduction": ideal_reduction(trace),
        "area_mm2": area,
        "per_layer": per_layer,
        "config": resolved_dict(config),
        "config_source": config_source,
        "energy_table": table.name,
        "trace": {"path": trace.path, "sha256": trace.sha256},
    }
    return result


def to_json(result: dict) -> str:
    """Deterministic JSON text (same result, same bytes)."""
    return json.dumps(result, indent=2, allow_nan=True) + "\n"
