"""Inputs that broke a loader (found by fuzzing them, see benchmarks/RESULTS.md "Fuzzing"), each
now refused with one line that says where and what."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from accelsim.config import load_config, load_energy_table
from accelsim.errors import InputError
from accelsim.trace import load_trace, trace_from_arrays
from tests.fuzz import corpus as C


def _refused(load, path, *parts, within_s: float = 5.0) -> str:
    t0 = time.perf_counter()
    with pytest.raises(InputError) as e:
        load(path)
    assert time.perf_counter() - t0 < within_s
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{path}: "), msg
    for p in parts:
        assert p in msg, msg
    return msg


def _yaml(tmp_path, text: str, name: str = "c.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# --- YAML values PyYAML's constructors cannot build (config, energy table and spec loaders) ----


@pytest.mark.parametrize("value, what", [
    ("2001-13-45", "month must be in 1..12"),          # read as a date
    ("2001-02-30", "day is out of range for month"),
    ("2001-12-14 25:00:00", "hour must be in 0..23"),
    ("0000-01-01", "year 0 is out of range"),
    ("2001-12-14T21:59:43.1+99:99", "offset must be a timedelta"),
    ("!!int abc", "invalid literal"),
    ("!!int 0x", "invalid literal"),
    ("!!int ''", "string index out of range"),
    ("!!float abc", "could not convert"),
    ("!!bool maybe", "maybe"),
    ("!!timestamp x", "as a date"),
])
def test_a_value_yaml_cannot_build_is_refused_at_its_line(tmp_path, value, what):
    p = _yaml(tmp_path, f"name: x\nclock_mhz: {value}\n")
    msg = _refused(load_config, p, "not valid YAML at line 2, column 12: cannot read", what)
    assert "Traceback" not in msg


@pytest.mark.parametrize("text", ["9" * 4301, "-" + "1" * 5000, "0x" + "f" * 4000, "0b" + "1" * 15000,
                                  "1" + ":59" * 3000, "017" + "7" * 6000])
def test_an_integer_too_long_to_print_is_refused_where_it_is_written(tmp_path, text):
    # decimal: Python refuses to convert it; hex, binary, octal, base 60: it converts, and the
    # error line that shows the value could not print it
    p = _yaml(tmp_path, f"pe:\n  count: {text}\n")
    msg = _refused(load_config, p, "not valid YAML at line 2, column 10: cannot read an integer of more than "
                                   "4,300 digits")
    assert "set_int_max_str_digits" not in msg and len(msg) < 300


def test_an_integer_of_4300_digits_is_still_read(tmp_path):
    p = _yaml(tmp_path, f"pe:\n  count: {'9' * 4300}\n")
    _refused(load_config, p, "pe.count: must be at most 4,096", "...")   # the bound, with the value cut short


def test_a_billion_laughs_is_refused_quickly(tmp_path):
    # nine levels of ten aliases: 10^9 values once expanded, from 900 bytes of text; the error line
    # used to print the value (and a spec's meaning was serialised) by walking all of them
    lol = "&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"
    for i in range(1, 9):
        lol = f"&a{i} [" + ", ".join([lol] + [f"*a{i - 1}"] * 9) + "]"
    p = _yaml(tmp_path, f"name: {lol}\n")
    _refused(load_config, p, "not valid YAML at line 1", "aliases expand it to more than 1,000,000 values",
             within_s=2.0)


def test_a_value_that_holds_itself_is_refused(tmp_path):
    p = _yaml(tmp_path, "pe: &p {count: *p}\n")
    _refused(load_config, p, "not valid YAML at line 1, column 5", "refers to the value itself")


def test_aliases_that_repeat_values_a_little_still_load(tmp_path):
    p = _yaml(tmp_path, "pe: &p {count: 8}\nname: &n x\nlayout: row_interleaved\n")
    assert load_config(p).pe.count == 8


def test_an_unprintable_key_of_an_energy_table_is_named_short(tmp_path):
    # a key of 4,000 hex digits (an explicit key: a plain one is at most 1,024 characters) is an
    # integer of 4,816 digits: refused where it is written
    p = _yaml(tmp_path, "arithmetic:\n  ? 0x" + "f" * 4000 + "\n  : {add_pj: 1, mult_pj: 1}\n", "e.yaml")
    _refused(load_energy_table, p, "not valid YAML at line 2, column 5", "cannot read an integer of more than")


def test_a_long_value_in_an_error_line_is_cut_short(tmp_path):
    p = _yaml(tmp_path, f"clock_mhz: [{', '.join(['1'] * 5000)}]\n")
    msg = _refused(load_config, p, "clock_mhz:", "...")
    assert len(msg) < 300


def test_the_same_checks_cover_a_sweep_spec(tmp_path):
    from accelsim.sweep.spec import load_spec

    p = _yaml(tmp_path, "name: s\ntokens: 2001-13-45\n", "s.yaml")
    _refused(load_spec, p, "not valid YAML at line 2", "month must be in 1..12")
    lol = "&a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"
    for i in range(1, 9):
        lol = f"&a{i} [" + ", ".join([lol] + [f"*a{i - 1}"] * 9) + "]"
    p = _yaml(tmp_path, f"name: s\nbase: x.yaml\naxes:\n  - grid:\n      pe.count: {lol}\n", "s.yaml")
    _refused(load_spec, p, "aliases expand it to more than 1,000,000 values", within_s=2.0)


# --- traces -------------------------------------------------------------------------------------


def _arrays() -> dict:
    from accelsim.trace.synth import synthesize

    return synthesize(layers=[3, 4, 3], tokens=5, vocab_size=6, seed=0).to_arrays()


def test_meta_with_an_integer_of_thousands_of_digits_is_refused(tmp_path):
    a = _arrays()
    a["meta"] = np.array('{"format": "accelsim-trace", "version": 2, "tokens": ' + "9" * 5000 + "}")
    with pytest.raises(InputError, match=r"^<t>: meta: not valid JSON \(a number with too many digits\)$"):
        trace_from_arrays(a, "<t>")


def test_meta_nested_deeper_than_a_parser_goes_is_refused():
    a = _arrays()
    a["meta"] = np.array("[" * 100000)
    with pytest.raises(InputError, match=r"^<t>: meta: not valid JSON \(nested too deeply\)$"):
        trace_from_arrays(a, "<t>")


def test_a_layer_key_with_thousands_of_digits_is_a_layer_beyond_meta_layers(tmp_path):
    a = _arrays()
    key = "l" + "7" * 5000 + ".bias_x"
    a[key] = np.zeros(3, np.float32)
    with pytest.raises(InputError) as e:
        trace_from_arrays(a, "<t>")
    assert str(e.value) == f"<t>: {key[:77]}...: belongs to a layer beyond meta.layers (2 layers)"
    p = tmp_path / "t.npz"
    p.write_bytes(C.save_arrays(a))
    _refused(load_trace, p, "belongs to a layer beyond meta.layers")


@pytest.mark.parametrize("group", ["events", "weight"])
def test_pointers_whose_differences_overflow_are_refused_as_decreasing(group):
    # [0, 2^63-1, -2^63+k, n]: np.diff wraps to all >= 0, and the decreasing pointers used to
    # index past the end of the indices (IndexError)
    a = _arrays()
    ptr = a[f"l0.{group}.indptr"].copy()
    n = int(ptr[-1])
    ptr[1], ptr[2] = 2 ** 63 - 1, -2 ** 63 + n + 10
    ptr[3:] = n
    a[f"l0.{group}.indptr"] = ptr
    with pytest.raises(InputError, match=rf"^<t>: l0\.{group}\.indptr: must be non-decreasing \(decreases after "):
        trace_from_arrays(a, "<t>")


def test_a_trace_key_of_any_length_is_shown_short(tmp_path):
    a = _arrays()
    a["x" * 5000] = np.zeros(3)
    p = tmp_path / "t.npz"
    p.write_bytes(C.save_arrays(a))
    msg = _refused(load_trace, p, "unknown key")
    assert len(msg) < 300 and json.dumps(msg)
