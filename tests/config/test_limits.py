"""Bounds of the config fields, non-finite numbers and duplicate YAML keys: `config check` accepts
exactly what `run` can simulate, and refuses the rest with one line naming the file and field."""

import json
import math

import pytest
import yaml
from pydantic import BaseModel

from accelsim.config import ArchConfig, config_from_dict, limits, load_config
from accelsim.config.load import parse_yaml
from accelsim.errors import InputError
from tests.conftest import REPO


def _bounded_fields(model=ArchConfig, prefix=""):
    """(dotted name, upper bound) of every field with an upper bound."""
    for name, f in model.model_fields.items():
        ann = f.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from _bounded_fields(ann, f"{prefix}{name}.")
            continue
        for m in f.metadata:
            le = getattr(m, "le", None)
            if le is not None:
                yield f"{prefix}{name}", le


def _nested(dotted: str, value) -> dict:
    out = node = {}
    parts = dotted.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value
    return out


BOUNDED = dict(_bounded_fields())

# Every field that sizes memory or time (allocations in the units, per-step or per-event cycles).
SIZING = ["pe.count", "pe.mac_lanes", "pe.fifo_depth", "pe.mac_latency_cycles",
          "dispatcher.events_per_cycle", "dispatcher.pointer_read_cycles", "weight_sram.banks",
          "weight_sram.bank_width_bits", "weight_sram.capacity_bytes", "weight_sram.read_latency_cycles",
          "event_queue.depth", "event_queue.event_bits", "update_unit.lanes", "update_unit.latency_cycles",
          "update_unit.encoder_events_per_cycle", "update_unit.cycles_per_group", "update_unit.fixed_cycles",
          "event_scan.elements_per_cycle", "event_scan.start_cycles", "event_scan.latency_cycles",
          "event_scan.gap_cycles", "event_scan.input_pad_multiple", "event_scan.end_marker_cycles",
          "dram.bandwidth_bytes_per_cycle", "dram.latency_cycles", "dram.burst_bytes",
          "dram.restart_bubble_cycles", "dram.stream_efficiency", "dram.staging_buffer_bytes",
          "dram.max_outstanding", "clock_mhz", "startup_cycles",
          "precision.weight_bits", "precision.value_bits", "precision.index_bits",
          "precision.accumulator_bits"]


def test_every_field_that_sizes_memory_or_time_has_a_bound_stated_in_its_description():
    assert set(SIZING) <= set(BOUNDED), sorted(set(SIZING) - set(BOUNDED))
    doc = (REPO / "docs" / "config.md").read_text()
    for name, le in BOUNDED.items():
        row = next(l for l in doc.splitlines() if l.startswith(f"| `{name}` |"))
        shown = f"{le:,}" if isinstance(le, int) else f"{le:,.0f}" if le > 1 else None
        assert ("at most" in row or "to " in row) and (shown is None or shown in row), row


@pytest.mark.parametrize("name", sorted(n for n, le in BOUNDED.items() if isinstance(le, int)))
def test_a_bound_is_accepted_and_one_more_is_refused_with_its_reason(name):
    le = BOUNDED[name]
    ok = _nested(name, le)
    if name in ("precision.weight_bits", "precision.index_bits"):
        ok = {**ok, "weight_sram": {"bank_width_bits": 64}}
    if name == "precision.value_bits":
        ok = {**ok, "event_queue": {"event_bits": 64}}
    config_from_dict(ok, "c.yaml")
    with pytest.raises(InputError) as e:
        config_from_dict(_nested(name, le + (le if name in ("weight_sram.banks", "weight_sram.bank_width_bits",
                                                               "dram.burst_bytes") else 1)), "c.yaml")
    msg = str(e.value)
    assert msg.startswith(f"c.yaml: {name}: ") and "\n" not in msg
    assert f"at most {le:,}" in msg or f"less than or equal to {le}" in msg


@pytest.mark.parametrize("field, value", [("pe.count", 10 ** 9), ("pe.fifo_depth", 10 ** 12),
                                          ("weight_sram.banks", 2 ** 40), ("event_queue.depth", 10 ** 15),
                                          ("dram.latency_cycles", 10 ** 18), ("update_unit.lanes", 10 ** 9)])
def test_absurd_sizes_are_refused_by_config_check_and_by_run_in_one_line(cli, tmp_path, field, value):
    p = tmp_path / "big.yaml"
    p.write_text(yaml.safe_dump(_nested(field, value)))
    code, out, err = cli("config", "check", p)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"accelsim: error: {p}: {field}: must be at most ")
    code, out, err = cli("run", p, "--trace", REPO / "workloads" / "ptb.npz", "--tokens", "5", "--quiet")
    assert code == 2 and out == "" and err.count("\n") == 1 and f"{field}: must be at most" in err
    assert "Traceback" not in err and "MemoryError" not in err


@pytest.mark.parametrize("text, field", [
    ("clock_mhz: .inf\n", "clock_mhz"), ("clock_mhz: -.inf\n", "clock_mhz"), ("clock_mhz: .nan\n", "clock_mhz"),
    ("dram:\n  stream_efficiency: .nan\n", "dram.stream_efficiency"),
    ("dram:\n  stream_efficiency: .inf\n", "dram.stream_efficiency"),
])
def test_non_finite_numbers_are_refused(cli, tmp_path, text, field):
    p = tmp_path / "inf.yaml"
    p.write_text(text)
    code, out, err = cli("config", "check", p)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"accelsim: error: {p}: {field}: ")


@pytest.mark.parametrize("value, ok", [(1e-9, False), (0.0009, False), (0.001, True), (0.5, True),
                                       (0.123456, True), (1 / 3, False), (1.0, True)])
def test_stream_efficiency_is_a_fraction_the_exact_stream_time_can_hold(value, ok):
    data = {"dram": {"stream_efficiency": value}}
    if ok:
        assert config_from_dict(data).dram.stream_efficiency == value
    else:
        with pytest.raises(InputError, match="dram.stream_efficiency: "):
            config_from_dict(data, "c.yaml")


def test_clock_bounds_keep_every_figure_of_a_result_finite(tmp_path):
    """The slowest and the fastest clock the check accepts give a strict-JSON result."""
    from accelsim.config import resolve_energy_table
    from accelsim.engine import simulate
    from accelsim.result import to_json
    from tests.conftest import tiny_trace

    for clock in (limits.MIN_CLOCK_MHZ, limits.MAX_CLOCK_MHZ):
        cfg = config_from_dict({"clock_mhz": clock})
        r = simulate(cfg, tiny_trace(), resolve_energy_table(cfg, None), baseline=True)
        json.loads(to_json(r), parse_constant=lambda c: pytest.fail(f"non-finite {c} in the result"))
        assert math.isfinite(r["tokens_per_s"]) and r["tokens_per_s"] > 0


def test_widths_that_do_not_fit_a_bank_word_are_refused_by_the_check():
    with pytest.raises(InputError, match=r"precision.index_bits \(64\) must fit in one SRAM word: "
                                         r"weight_sram.bank_width_bits is 32"):
        config_from_dict({"precision": {"index_bits": 64}, "weight_sram": {"bank_width_bits": 32}}, "c.yaml")


# duplicate keys


@pytest.mark.parametrize("text, key, line, first", [
    ("pe:\n  count: 8\npe:\n  count: 32\n", "pe", 3, 1),
    ("pe:\n  count: 8\n  mac_lanes: 2\n  count: 32\n", "count", 4, 2),
    ("name: a\nclock_mhz: 100\nname: b\n", "name", 3, 1),
])
def test_duplicate_yaml_keys_are_refused_naming_the_key_and_the_file(cli, tmp_path, text, key, line, first):
    p = tmp_path / "dup.yaml"
    p.write_text(text)
    assert yaml.safe_load(text)  # plain PyYAML keeps the last value silently
    code, out, err = cli("config", "check", p)
    assert code == 2 and out == ""
    assert err == (f"accelsim: error: {p}: duplicate key '{key}' at line {line} (first given at line "
                   f"{first}); give each field once\n")


def test_the_yaml_reader_is_still_safe_load():
    text = "base: &b {count: 8, mac_lanes: 2}\npe:\n  <<: *b\n  count: 16\nxs: [1, 2.5, yes, null]\n"
    assert parse_yaml(text, "f.yaml") == yaml.safe_load(text)   # merge keys may be overridden
    with pytest.raises(InputError, match="not valid YAML"):
        parse_yaml("x: !!python/object/apply:os.system ['true']\n", "f.yaml")
    from accelsim.config.load import UniqueKeyLoader
    assert issubclass(UniqueKeyLoader, yaml.SafeLoader)   # safe constructors only: never runs code
    for path in sorted(REPO.glob("configs/**/*.yaml")):  # every shipped YAML loads as before
        assert parse_yaml(path.read_text(), str(path)) == yaml.safe_load(path.read_text()), path


def test_shipped_configs_are_within_the_bounds():
    for path in sorted(REPO.glob("configs/*.yaml")):
        load_config(path)
