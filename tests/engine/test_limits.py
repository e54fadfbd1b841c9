"""`config check` accepts exactly what `run` can simulate: the largest config the check takes
runs; a run whose estimated memory exceeds the machine's is refused before allocating."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from accelsim.config import config_from_dict, limits, load_config, resolve_energy_table
from accelsim.engine import prepare as prep
from accelsim.engine import simulate
from accelsim.errors import InputError
from accelsim.trace import save_trace
from accelsim.units.weight_sram import column_tables
from tests.conftest import REPO, tiny_trace
from tests.trace.test_format_v2 import v2_trace

L = limits

LARGEST = {
    "clock_mhz": L.MAX_CLOCK_MHZ,
    "precision": {"weight_bits": L.MAX_WORD_BITS, "value_bits": L.MAX_WORD_BITS,
                  "index_bits": L.MAX_WORD_BITS, "accumulator_bits": L.MAX_ACCUMULATOR_BITS},
    "pe": {"count": L.MAX_PES, "mac_lanes": L.MAX_MAC_LANES, "fifo_depth": L.MAX_FIFO_DEPTH,
           "mac_latency_cycles": L.MAX_PIPELINE_CYCLES},
    "dispatcher": {"events_per_cycle": L.MAX_PER_CYCLE, "pointer_read_cycles": L.MAX_PIPELINE_CYCLES},
    "weight_sram": {"banks": L.MAX_BANKS, "bank_width_bits": L.MAX_BANK_WIDTH_BITS,
                    "capacity_bytes": L.MAX_CAPACITY_BYTES, "read_latency_cycles": L.MAX_PIPELINE_CYCLES},
    "event_queue": {"depth": L.MAX_QUEUE_DEPTH, "event_bits": L.MAX_EVENT_BITS},
    "update_unit": {"lanes": L.MAX_UPDATE_LANES, "latency_cycles": L.MAX_PIPELINE_CYCLES,
                    "encoder_events_per_cycle": L.MAX_PER_CYCLE, "cycles_per_group": L.MAX_PIPELINE_CYCLES,
                    "fixed_cycles": L.MAX_LATENCY_CYCLES},
    "dram": {"bandwidth_bytes_per_cycle": L.MAX_BANDWIDTH_BYTES_PER_CYCLE, "latency_cycles": L.MAX_LATENCY_CYCLES,
             "burst_bytes": L.MAX_BURST_BYTES, "restart_bubble_cycles": L.MAX_LATENCY_CYCLES},
    "startup_cycles": L.MAX_LATENCY_CYCLES,
}
DELTA = {"event_scan": {"enabled": True, "elements_per_cycle": L.MAX_PER_CYCLE,
                        "start_cycles": L.MAX_LATENCY_CYCLES, "latency_cycles": L.MAX_PIPELINE_CYCLES,
                        "gap_cycles": L.MAX_LATENCY_CYCLES, "input_pad_multiple": L.MAX_PAD_MULTIPLE,
                        "end_marker_cycles": L.MAX_PIPELINE_CYCLES},
         "phases": "single", "bias_column": True, "weight_storage": "dram", "mapping": "temporal",
         "update_unit": {**LARGEST["update_unit"], "timing": "grouped"},
         "dram": {**LARGEST["dram"], "issue": "on_dispatch", "delivery": "cut_through",
                  "stream_efficiency": L.MIN_STREAM_EFFICIENCY}}


def _write(tmp_path, data) -> str:
    p = tmp_path / "largest.yaml"
    p.write_text(yaml.safe_dump(data))
    return str(p)


@pytest.mark.parametrize("extra", [{}, DELTA, {"skip_activity": False, "skip_weights": False,
                                               "weight_format": "bitmap", "layout": "blocked"}])
def test_the_largest_config_the_check_accepts_runs(cli, tmp_path, extra):
    cfg = _write(tmp_path, {**LARGEST, **extra})
    code, out, err = cli("config", "check", cfg)
    assert code == 0, err
    trace = tmp_path / "t.npz"
    save_trace(trace, v2_trace() if extra is DELTA else tiny_trace())
    code, out, err = cli("run", cfg, "--trace", trace, "--baseline", "--quiet")
    assert code == 0 and err == "", err
    r = simulate(load_config(cfg), tiny_trace(), resolve_energy_table(load_config(cfg), cfg))
    assert 0 < r["cycles"] < 2 ** 62 and np.isfinite(r["energy_pj"]["total"])


@pytest.mark.parametrize("field, value", [("pe.count", 10 ** 9), ("pe.fifo_depth", 10 ** 12)])
def test_run_refuses_what_the_check_refuses_in_one_line(cli, tmp_path, field, value):
    section, key = field.split(".")
    cfg = _write(tmp_path, {section: {key: value}})
    code, out, err = cli("run", cfg, "--trace", REPO / "workloads" / "ptb.npz", "--quiet")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"accelsim: error: {cfg}: {field}: must be at most ")


def test_a_run_needing_more_memory_than_available_is_refused_before_allocating(cli, tmp_path, monkeypatch):
    import importlib

    sim = importlib.import_module("accelsim.engine.simulate")   # the module, not the function

    trace = tmp_path / "t.npz"
    save_trace(trace, tiny_trace())
    cfg = load_config(REPO / "configs" / "arch_a.yaml")
    need = prep.estimate_run_bytes(cfg, tiny_trace(), 7)
    assert need > 4 * sum(a.nbytes for a in tiny_trace().to_arrays().values())  # the trace itself loads
    monkeypatch.setattr(limits, "available_memory", lambda: need - 1)
    monkeypatch.setattr(sim, "prepare", lambda *a: pytest.fail("allocated before the memory check"))
    code, out, err = cli("run", REPO / "configs" / "arch_a.yaml", "--trace", trace, "--quiet")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err == (f"accelsim: error: {trace}: simulating 7 tokens on arch_a needs about "
                   f"{limits.fmt_bytes(need)} of memory, more than the {limits.fmt_bytes(need - 1)} available "
                   f"on this machine; refused before allocating; simulate fewer --tokens, or fewer pe.count / "
                   f"weight_sram.banks\n")
    monkeypatch.undo()
    assert cli("run", REPO / "configs" / "arch_a.yaml", "--trace", trace, "--quiet")[0] == 0


def test_check_fit_gives_the_figure(monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 1)
    with pytest.raises(InputError, match=r"trace: simulating 3 tokens on unnamed needs about [0-9.]+ [KMG]iB of memory, more than the "
                                         r"1 byte available"):
        prep.check_fit(config_from_dict({}), tiny_trace(), 3)
    monkeypatch.setattr(limits, "available_memory", lambda: None)   # cannot tell: no check
    assert prep.check_fit(config_from_dict({}), tiny_trace(), 3) == 3


@pytest.mark.parametrize("pes, banks", [(16, 16), (4096, 4096), (4096, 1)])
def test_the_estimate_covers_the_per_column_tables_and_the_scratch(pes, banks):
    cfg = config_from_dict({"pe": {"count": pes, "fifo_depth": 64}, "weight_sram": {"banks": banks}})
    t = tiny_trace(sizes=(30, 50, 40), T=20)
    est = prep.estimate_run_bytes(cfg, t, 20)
    tables = max(sum(a.nbytes for a in vars(column_tables(cfg, l.weight)).values() if isinstance(a, np.ndarray))
                 for l in t.layers)
    assert est >= tables + pes * 64 * 8
