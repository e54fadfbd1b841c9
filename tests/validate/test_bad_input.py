"""Every kind of bad case folder or argument: one line naming the file, exit status 2, no traceback,
nothing written, no simulation started."""

from __future__ import annotations

import numpy as np
import pytest

from tests.validate.casegen import csv_lines, edit_json, edit_npz, write_csv_lines
from tests.validate.conftest import ARCH_B


def _bad(cli, tmp_path, case, *extra, json_name="never.json"):
    out = tmp_path / json_name
    code, stdout, err = cli("validate", case, "--config", ARCH_B, "--json", out, *extra)
    assert code == 2, (code, stdout, err)
    assert err.startswith("accelsim: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert not out.exists()
    return err


# ------------------------------------------------------------------------------- the folder


def test_missing_folder(cli, tmp_path, no_engine):
    err = _bad(cli, tmp_path, tmp_path / "nope")
    assert "nope" in err and "no such folder" in err


def test_a_file_instead_of_a_folder(cli, tmp_path, case_dir, no_engine):
    assert "not a folder" in _bad(cli, tmp_path, case_dir / "case.json")


@pytest.mark.parametrize("name", ["case.json", "steps.csv", "events.npz"])
def test_missing_file(cli, tmp_path, case_dir, no_engine, name):
    (case_dir / name).unlink()
    err = _bad(cli, tmp_path, case_dir)
    assert f"{name}: no such file" in err


# ------------------------------------------------------------------------------- case.json


def test_bad_json(cli, tmp_path, case_dir, no_engine):
    (case_dir / "case.json").write_text('{"name": "x",')
    err = _bad(cli, tmp_path, case_dir)
    assert "case.json" in err and "not valid JSON" in err


def test_json_not_an_object(cli, tmp_path, case_dir, no_engine):
    (case_dir / "case.json").write_text("[1, 2]")
    assert "JSON object" in _bad(cli, tmp_path, case_dir)


@pytest.mark.parametrize("key", ["name", "layers", "steps", "stream", "rtl_cycles_total"])
def test_missing_key(cli, tmp_path, case_dir, no_engine, key):
    edit_json(case_dir, lambda m: m.pop(key))
    err = _bad(cli, tmp_path, case_dir)
    assert "case.json" in err and f"{key}: missing key" in err


def test_startup_cycles_is_optional(case_dir):
    """Without startup_cycles the start-up is what the total holds beyond the rows."""
    from accelsim.validate.case import load_case
    ref = load_case(case_dir)
    edit_json(case_dir, lambda m: m.pop("startup_cycles"))
    assert load_case(case_dir).startup_cycles == ref.startup_cycles
    edit_json(case_dir, lambda m: m.__setitem__("rtl_cycles_total", 1))
    with pytest.raises(Exception, match="less than the sum of the cycles"):
        load_case(case_dir)


@pytest.mark.parametrize("key,value,words", [
    ("steps", "1000", "steps: must be a positive integer"),
    ("steps", 0, "steps: must be a positive integer"),
    ("steps", 12.0, "steps: must be a positive integer"),
    ("rtl_cycles_total", -5, "rtl_cycles_total: must be a positive integer"),
    ("startup_cycles", -1, "startup_cycles: must be a non-negative integer"),
    ("startup_cycles", True, "startup_cycles: must be a non-negative integer"),
    ("name", 3, "name: must be a non-empty string"),
    ("layers", [], "layers: must be a non-empty list"),
    ("layers", {"input_size": 8}, "layers: must be a non-empty list"),
])
def test_wrong_type(cli, tmp_path, case_dir, no_engine, key, value, words):
    edit_json(case_dir, lambda m: m.__setitem__(key, value))
    err = _bad(cli, tmp_path, case_dir)
    assert "case.json" in err and words in err


def test_layer_size_wrong_type(cli, tmp_path, case_dir, no_engine):
    edit_json(case_dir, lambda m: m["layers"][1].__setitem__("hidden_size", "16"))
    assert "layers[1].hidden_size: must be a positive integer" in _bad(cli, tmp_path, case_dir)


def test_layers_do_not_chain(cli, tmp_path, case_dir, no_engine):
    edit_json(case_dir, lambda m: m["layers"][1].__setitem__("input_size", 24))
    err = _bad(cli, tmp_path, case_dir)
    assert "layers[1].input_size" in err and "layer 0's hidden_size 16" in err


@pytest.mark.parametrize("value", ["sometimes", "0.5", 0, 0.0, -0.5, 1.5, True, None, [0.5]])
def test_bad_stream(cli, tmp_path, case_dir, no_engine, value):
    edit_json(case_dir, lambda m: m.__setitem__("stream", value))
    err = _bad(cli, tmp_path, case_dir)
    assert "case.json: stream:" in err and "every_cycle" in err


def test_total_disagrees_with_rows(cli, tmp_path, case_dir, no_engine):
    edit_json(case_dir, lambda m: m.__setitem__("rtl_cycles_total", m["rtl_cycles_total"] + 1))
    err = _bad(cli, tmp_path, case_dir)
    assert "rtl_cycles_total" in err and "disagrees" in err


# ------------------------------------------------------------------------------- steps.csv


def test_missing_column(cli, tmp_path, case_dir, no_engine):
    lines = csv_lines(case_dir)
    lines[0] = lines[0].replace("n_h", "nh")
    write_csv_lines(case_dir, lines)
    err = _bad(cli, tmp_path, case_dir)
    assert "steps.csv" in err and "missing column(s) n_h" in err


def test_row_count_mismatch(cli, tmp_path, case_dir, no_engine):
    write_csv_lines(case_dir, csv_lines(case_dir)[:-1])
    err = _bad(cli, tmp_path, case_dir)
    assert "steps.csv" in err and "rows, expected steps x layers" in err


def test_duplicate_layer_step(cli, tmp_path, case_dir, no_engine):
    lines = csv_lines(case_dir)
    lines[4] = lines[2]  # (t=0, layer=1) twice, (t=1, layer=1) missing
    write_csv_lines(case_dir, lines)
    err = _bad(cli, tmp_path, case_dir)
    assert "steps.csv: line" in err and "(t=0, layer=1) appears 2 times" in err


def test_step_out_of_range(cli, tmp_path, case_dir, no_engine):
    lines = csv_lines(case_dir)
    f = lines[1].split(",")
    f[0] = "100000"
    lines[1] = ",".join(f)
    write_csv_lines(case_dir, lines)
    err = _bad(cli, tmp_path, case_dir)
    assert "steps.csv: line 2: column t" in err


def test_not_an_integer(cli, tmp_path, case_dir, no_engine):
    lines = csv_lines(case_dir)
    lines[3] = lines[3].rsplit(",", 1)[0] + ",12.5"
    write_csv_lines(case_dir, lines)
    assert "steps.csv: line 4: column cycles: must be an integer" in _bad(cli, tmp_path, case_dir)


def test_negative_cycles(cli, tmp_path, case_dir, no_engine):
    lines = csv_lines(case_dir)
    lines[5] = lines[5].rsplit(",", 1)[0] + ",-3"
    write_csv_lines(case_dir, lines)
    assert "steps.csv: line 6: column cycles: must not be negative" in _bad(cli, tmp_path, case_dir)


def test_n_x_disagrees_with_events(cli, tmp_path, case_dir, no_engine):
    lines = csv_lines(case_dir)
    f = lines[3].split(",")  # t=1, layer=0
    f[2] = str(int(f[2]) + 1)
    lines[3] = ",".join(f)
    write_csv_lines(case_dir, lines)
    err = _bad(cli, tmp_path, case_dir)
    assert "steps.csv: t=1 layer=0: n_x" in err and "l0.x.indptr" in err


def test_bias_disagrees_with_events(cli, tmp_path, case_dir, no_engine):
    edit_npz(case_dir, lambda a: a["l1.bias"].__setitem__(0, 0))
    err = _bad(cli, tmp_path, case_dir)
    assert "t=0 layer=1: bias" in err and "l1.bias" in err


# ------------------------------------------------------------------------------- events.npz


@pytest.mark.parametrize("key", ["l0.x.indptr", "l1.h.indices", "l1.bias"])
def test_missing_npz_key(cli, tmp_path, case_dir, no_engine, key):
    edit_npz(case_dir, lambda a: a.pop(key))
    err = _bad(cli, tmp_path, case_dir)
    assert f"events.npz: {key}: missing key" in err


def test_wrong_dtype(cli, tmp_path, case_dir, no_engine):
    edit_npz(case_dir, lambda a: a.__setitem__("l0.h.indices", a["l0.h.indices"].astype(np.int32)))
    assert "events.npz: l0.h.indices: dtype must be int64 (got int32)" in _bad(cli, tmp_path, case_dir)


def test_bias_wrong_dtype(cli, tmp_path, case_dir, no_engine):
    edit_npz(case_dir, lambda a: a.__setitem__("l0.bias", a["l0.bias"].astype(np.int64)))
    assert "events.npz: l0.bias: dtype must be uint8" in _bad(cli, tmp_path, case_dir)


def test_indptr_wrong_length(cli, tmp_path, case_dir, no_engine):
    edit_npz(case_dir, lambda a: a.__setitem__("l1.x.indptr", a["l1.x.indptr"][:-1]))
    assert "events.npz: l1.x.indptr: must have" in _bad(cli, tmp_path, case_dir)


def test_indptr_not_monotone(cli, tmp_path, case_dir, no_engine):
    def edit(a):
        p = a["l0.h.indptr"]
        p[3] = p[4] + 1
    edit_npz(case_dir, edit)
    assert "events.npz: l0.h.indptr: must be non-decreasing" in _bad(cli, tmp_path, case_dir)


def test_index_out_of_range(cli, tmp_path, case_dir, no_engine):
    def edit(a):
        a["l0.x.indices"][-1] = 8  # layer 0's input has 8 elements
    edit_npz(case_dir, edit)
    err = _bad(cli, tmp_path, case_dir)
    assert "events.npz: l0.x.indices" in err and "[0, 8)" in err and "found 8" in err


def test_indices_unsorted(cli, tmp_path, case_dir, no_engine):
    def edit(a):
        p, i = a["l1.x.indptr"], a["l1.x.indices"]
        t = int(np.argmax(np.diff(p) >= 2))
        i[p[t]], i[p[t] + 1] = i[p[t] + 1], i[p[t]]
    edit_npz(case_dir, edit)
    assert "sorted and unique" in _bad(cli, tmp_path, case_dir)


def test_not_an_npz(cli, tmp_path, case_dir, no_engine):
    (case_dir / "events.npz").write_text("hello")
    assert "events.npz: not a .npz archive" in _bad(cli, tmp_path, case_dir)


def test_truncated_npz(cli, tmp_path, case_dir, no_engine):
    data = (case_dir / "events.npz").read_bytes()
    (case_dir / "events.npz").write_bytes(data[: len(data) // 2])
    assert "events.npz" in _bad(cli, tmp_path, case_dir)


def test_pickled_npz_refused(cli, tmp_path, case_dir, no_engine):
    def edit(a):
        a["l0.x.indptr"] = np.array([{"a": 1}], dtype=object)
    edit_npz(case_dir, edit)
    assert "object array" in _bad(cli, tmp_path, case_dir)


# ------------------------------------------------------------------------------- arguments


def test_json_path_is_a_folder(cli, tmp_path, synthetic_case, no_engine):
    (tmp_path / "out").mkdir()
    code, _, err = cli("validate", synthetic_case, "--config", ARCH_B, "--json", tmp_path / "out")
    assert code == 2 and err.count("\n") == 1 and "--json" in err and "is a folder" in err


@pytest.mark.parametrize("opt,name", [("--json", "m.json"), ("--csv", "s.csv"), ("--plot", "p.png")])
def test_output_under_a_file_is_unwritable(cli, tmp_path, synthetic_case, no_engine, opt, name):
    (tmp_path / "afile").write_text("x")
    target = tmp_path / "afile" / name
    code, _, err = cli("validate", synthetic_case, "--config", ARCH_B, opt, target)
    assert code == 2 and err.count("\n") == 1 and opt in err and "cannot write" in err
    assert (tmp_path / "afile").read_text() == "x"


def test_plot_must_be_png(cli, tmp_path, synthetic_case, no_engine):
    err = _bad(cli, tmp_path, synthetic_case, "--plot", tmp_path / "p.pdf")
    assert "--plot" in err and ".png" in err


def test_same_file_twice(cli, tmp_path, synthetic_case, no_engine):
    err = _bad(cli, tmp_path, synthetic_case, "--csv", tmp_path / "never.json")
    assert "different files" in err


@pytest.mark.parametrize("extra,words", [(["--max-error", "-1"], "--max-error"),
                                         (["--max-error", "nan"], "--max-error"),
                                         (["--head", "0"], "--head"),
                                         (["--head", "13"], "beyond the case")])
def test_bad_numbers(cli, tmp_path, synthetic_case, no_engine, extra, words):
    assert words in _bad(cli, tmp_path, synthetic_case, *extra)


def test_missing_config(cli, tmp_path, synthetic_case, no_engine):
    out = tmp_path / "never.json"
    code, _, err = cli("validate", synthetic_case, "--config", tmp_path / "nope.yaml", "--json", out)
    assert code == 2 and err.count("\n") == 1 and "nope.yaml: no such file" in err
    assert not out.exists()
