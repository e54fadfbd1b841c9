"""Sweep specs that broke the spec loader (found by fuzzing it): each is now refused with one line;
the exception it used to raise is named beside it."""

from __future__ import annotations

import shutil

import pytest

from accelsim.errors import InputError
from tests.conftest import REPO

HEAD = "base: arch_a.yaml\nworkloads: [{synth: {layers: [4, 6], tokens: 5}}]\n"

CASES = {
    # one part of a spec makes no design point (random samples: 0, or an empty grid list) while
    # another does: the probe divides by the empty part's size
    "empty_part": (ZeroDivisionError, HEAD + "parts:\n  - name: one\n  - name: two\n"
                                             "    axes: [{random: {samples: 0, fields: {clock_mhz: [100]}}}]\n"),
    # a YAML set as an axis value: the config cache keys on it
    "set_value": (TypeError, HEAD + "axes: [{grid: {pe.count: [!!set {8}]}}]\n"),
    # uniform bounds whose difference is beyond a float
    "uniform_range": (OverflowError, HEAD + "axes: [{random: {samples: 1, fields: {clock_mhz: "
                                            "{uniform: [-1.0e+308, 1.0e+308]}}}}]\n"),
    # randint bounds beyond 64 bits
    "randint_bounds": (ValueError, HEAD + "axes: [{random: {samples: 1, fields: {pe.count: "
                                          "{randint: [0, 100000000000000000000000]}}}}]\n"),
    # binary data that is not UTF-8 under a synth parameter: the spec's meaning is serialised as JSON
    "binary_value": (UnicodeDecodeError, "base: arch_a.yaml\nworkloads: [{synth: {layers: [4, 6], tokens: 5, "
                                         "seed: !!binary /w==}}]\n"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_spec_is_refused_with_one_line(tmp_path, case):
    from accelsim.sweep.spec import load_spec

    _, text = CASES[case]
    shutil.copy(REPO / "configs" / "arch_a.yaml", tmp_path / "arch_a.yaml")
    p = tmp_path / "s.yaml"
    p.write_text(text)
    try:
        load_spec(p, check_points=False)
    except InputError as e:
        assert "\n" not in str(e)
        return
    raise AssertionError(f"{case}: loaded; expected a one-line refusal")
