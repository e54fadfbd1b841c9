"""Compare the fast engine's result with the cycle-stepped reference, figure by figure."""

from __future__ import annotations

import numpy as np

from accelsim.engine.prepare import check_fit, prepare
from accelsim.engine.schedule import run_schedule
from tests.reference.model import Reference
from tests.reference.result_ref import assert_result_agrees


def engine_figures(cfg, trace):
    tokens = check_fit(cfg, trace, None)
    work = prepare(cfg, trace)
    tl = run_schedule(cfg, work, tokens)
    from accelsim.units import pe_array as pa
    per = []
    for i, w in enumerate(work):
        s = sum(p.stats for p in w.phases)
        pe = sum(p.pe_macs for p in w.phases)
        stalls = {k: int(v) for k, v in tl.stalls[i].items()}
        stalls.update(fifo_full=int(s[pa.S_FIFO_FULL]), dram_data=int(s[pa.S_DRAM_DATA]),
                      bank_conflict=int(s[pa.S_BANK_CONFLICT]),
                      load_imbalance=int(s[pa.S_LOAD_IMBALANCE]))
        per.append(dict(
            name=w.name, events=w.trace_events, column_events=int(s[pa.S_EVENTS]),
            macs=int(s[pa.S_MACS]), sram_weights=int(s[pa.S_WEIGHT_BITS]),
            sram_metadata=int(s[pa.S_METADATA_BITS]), dram_read_bytes=int(s[pa.S_DRAM_BYTES]),
            stalls=stalls,
            busy={"pe_array": int(s[pa.S_BUSY]),
                  "update_unit": 0 if w.update_cycles is None else int(w.update_cycles.sum()),
                  "dram": int(sum(int(p.dram_hold.sum()) for p in w.phases))},
            pe_max=int(pe.max()), pe_sum=int(pe.sum()),
            queue_peak={"input": int(tl.queue_peak[i]), "recurrent": int(tl.recurrent_queue_peak[i])},
            queue_events=int(tl.queue_pushes[i]),
            bank_words=[int(x) for x in sum(p.bank_words for p in w.phases)]))
    return dict(cycles=tl.cycles, latency=tl.token_end - tl.token_start, per_layer=per)


def assert_agree(cfg, trace, result=True, baseline=True):
    """Cycles, latency and every per-layer count agree with the reference; with ``result`` also
    the whole result document of ``simulate`` and its energy (tests/reference/result_ref.py), with
    ``baseline`` its ``--baseline`` keys too."""
    fast = engine_figures(cfg, trace)
    ref = Reference(cfg, trace).run()
    assert fast["cycles"] == ref["cycles"], (fast["cycles"], ref["cycles"])
    np.testing.assert_array_equal(fast["latency"], ref["latency"])
    assert len(fast["per_layer"]) == len(ref["per_layer"])
    for f, r in zip(fast["per_layer"], ref["per_layer"]):
        assert f == r, (f, r)
    if result:
        assert_result_agrees(cfg, trace, ref, baseline=baseline)
    return fast, ref
