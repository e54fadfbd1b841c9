"""Sweep spec -> design points: deterministic expansion, and one-line errors for bad specs."""

from __future__ import annotations

import pytest
import yaml

from accelsim.errors import InputError
from accelsim.sweep import load_spec
from tests.sweep.conftest import ARCH_A, TINY_SYNTH, write_spec


def test_grid_zip_random_expand_in_order(tmp_path):
    spec = load_spec(write_spec(tmp_path, axes=[
        {"grid": {"pe.count": [4, 8], "skip_weights": [False, True]}},
        {"zip": {"workload.weight_sparsity": [0.5, 0.8, 0.9], "weight_sram.banks": [4, 8, 16]}},
        {"random": {"samples": 3, "seed": 7, "fields": {"clock_mhz": {"uniform": [200, 800]},
                                                        "pe.mac_lanes": [1, 2, 4]}}}]))
    assert len(spec.points) == 2 * 2 * 3 * 3
    p0, p1, last = spec.points[0], spec.points[1], spec.points[-1]
    assert p0.params["pe.count"] == 4 and p0.params["skip_weights"] is False
    assert p0.config["pe"]["count"] == 4 and p0.config["weight_sram"]["banks"] == 4
    assert p0.workload.synth["weight_sparsity"] == 0.5
    # the last axis block varies fastest
    assert p1.params["pe.count"] == 4 and p1.params["clock_mhz"] != p0.params["clock_mhz"]
    assert last.params["pe.count"] == 8 and last.params["skip_weights"] is True
    assert last.config["weight_sram"]["banks"] == 16 and last.workload.synth["weight_sparsity"] == 0.9
    # unchanged fields keep the base config's values (arch_a: 8 MiB SRAM)
    assert last.config["weight_sram"]["capacity_bytes"] == 8388608
    assert [p.index for p in spec.points] == list(range(36))


def test_random_is_seeded_and_within_bounds(tmp_path):
    axes = [{"random": {"samples": 20, "seed": 3, "fields": {"clock_mhz": {"loguniform": [100, 1000]},
                                                              "pe.count": {"randint": [2, 6]}}}}]
    a = load_spec(write_spec(tmp_path, axes=axes))
    b = load_spec(write_spec(tmp_path, axes=axes))
    va = [(p.params["clock_mhz"], p.params["pe.count"]) for p in a.points]
    assert va == [(p.params["clock_mhz"], p.params["pe.count"]) for p in b.points]
    assert all(100 <= c <= 1000 and 2 <= n <= 6 for c, n in va)
    assert len({n for _, n in va}) > 1
    axes[0]["random"]["seed"] = 4
    c = load_spec(write_spec(tmp_path, axes=axes))
    assert [p.params["clock_mhz"] for p in c.points] != [x for x, _ in va]


def test_parts_and_base_axis(tmp_path):
    arch_b = ARCH_A.parent / "arch_b.yaml"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({
        "name": "multi", "base": str(ARCH_A), "tokens": 8,
        "workloads": [{"name": "syn", "synth": TINY_SYNTH}],
        "parts": [
            {"name": "ablation", "axes": [{"grid": {"skip_weights": [False, True], "skip_activity": [False, True]}}]},
            {"name": "archs", "baseline": True, "axes": [{"grid": {"base": [str(ARCH_A), str(arch_b)]}}]},
        ]}))
    spec = load_spec(path)
    assert [p.part for p in spec.points] == ["ablation"] * 4 + ["archs"] * 2
    assert [p.config["name"] for p in spec.points[4:]] == ["arch_a", "arch_b"]
    assert spec.points[5].config_source.endswith("arch_b.yaml") and spec.points[5].baseline
    assert not spec.points[0].baseline


@pytest.mark.parametrize("axes, message", [
    ([{"grid": {"pe.cont": [4]}}], "axes: pe.cont: unknown field; did you mean 'count'?"),
    ([{"grid": {"weight_sram.bank": [4]}}], "did you mean 'banks'?"),
    ([{"grid": {"pe.count": ["four"]}}], "axes: pe.count: input should be a valid integer (got 'four')"),
    ([{"grid": {"weight_format": ["coo"]}}], "weight_format: unknown value; expected one of"),
    ([{"grid": {"weight_sram.banks": [3]}}], "must be a power of two"),
    ([{"grid": {"clock_mhz.x": [1]}}], "axes: override clock_mhz.x: 'clock_mhz' is not a section"),
    ([{"grid": {"pe..count": [1]}}], "axes[0].grid.pe..count: 'pe..count' is not a dotted field path like pe.count"),
    ([{"grid": {"pe.count": [4]}, "zip": {"pe.mac_lanes": [1]}}], "axes[0]: each axis block is one of grid, zip, random"),
    ([{"random": {"samples": 2, "fields": {"clock_mhz": {"normal": [1, 2]}}}}],
     "axes[0].random.fields.clock_mhz.normal: unknown key; did you mean"),
    ([{"random": {"samples": 2, "fields": {"clock_mhz": {"uniform": [2, 1]}}}}],
     "axes[0].random.fields.clock_mhz.uniform: expected [low, high] numbers with low <= high"),
    ([{"random": {"samples": -1, "fields": {"pe.count": [1]}}}], "axes[0].random.samples: must be a non-negative integer (got -1)"),
    ([{"random": {"samples": 2, "seed": 1.5, "fields": {"pe.count": [1]}}}], "axes[0].random.seed: must be an integer (got 1.5)"),
    ([{"grid": {"pe.count": 4}}], "axes[0].grid.pe.count: expected a list of values"),
    ([{"grid": {"pe.count": []}}], "expands to no design points"),
    ([{"random": {"samples": 0, "fields": {"pe.count": [1]}}}], "expands to no design points"),
    ([{"zip": {"pe.count": [4, 8], "weight_sram.banks": [4]}}], "zip axes must have the same number of values"),
    ([{"grdi": {"pe.count": [4]}}], "axes[0].grdi: unknown key; did you mean 'grid'?"),
    ([{"grid": {"workload.sparsity": [0.5]}}], "unknown key; did you mean"),
    ([{"grid": {"pe.count": [4]}}, {"grid": {"pe.count": [8]}}], "axis 'pe.count' is already set by axes[0]"),
])
def test_bad_axes_are_one_line_input_errors(tmp_path, axes, message):
    path = write_spec(tmp_path, axes=axes)
    with pytest.raises(InputError) as e:
        load_spec(path)
    assert message in str(e.value)
    assert str(path) in str(e.value) and "\n" not in str(e.value)


def test_bad_top_level(tmp_path):
    with pytest.raises(InputError, match="workloadz: unknown key; did you mean 'workloads'"):
        load_spec(write_spec(tmp_path, workloadz=[]))
    with pytest.raises(InputError, match="workloads: expected a list"):
        load_spec(write_spec(tmp_path, workloads={"a": 1}))
    with pytest.raises(InputError, match="no such file"):
        load_spec(write_spec(tmp_path, workloads=[{"trace": "missing.npz"}]))
    with pytest.raises(InputError, match="synth.weight_sparsty: unknown key; did you mean 'weight_sparsity'"):
        load_spec(write_spec(tmp_path, workloads=[{"synth": {"weight_sparsty": 0.5}}]))
    with pytest.raises(InputError, match="tokens: must be a positive integer"):
        load_spec(write_spec(tmp_path, tokens=0))
    with pytest.raises(InputError, match=r"workloads\[0\].egru.model: no model file matches"):
        load_spec(write_spec(tmp_path, workloads=[{"egru": {"model": "models/*.npz"}}]))
    with pytest.raises(InputError, match="give exactly one of 'trace'"):
        load_spec(write_spec(tmp_path, workloads=[{"trace": "a.npz", "synth": {}}]))


def test_workload_axis_on_a_trace_file_is_refused(tmp_path):
    from accelsim.trace import save_trace
    from accelsim.trace.synth import synthesize

    save_trace(tmp_path / "t.npz", synthesize(**TINY_SYNTH))
    path = write_spec(tmp_path, workloads=[{"name": "file", "trace": "t.npz"}])
    with pytest.raises(InputError, match="workload 'file' is a trace file"):
        load_spec(path)


def test_trace_glob_makes_one_workload_per_file(tmp_path):
    from accelsim.trace import save_trace
    from accelsim.trace.synth import synthesize

    for ws in (0.5, 0.8):
        save_trace(tmp_path / f"m_{ws}.npz", synthesize(**dict(TINY_SYNTH, weight_sparsity=ws)))
    spec = load_spec(write_spec(tmp_path, workloads=[{"name": "pruned", "trace": "m_*.npz"}],
                                axes=[{"grid": {"pe.count": [4]}}]))
    assert [p.workload.name for p in spec.points] == ["pruned:m_0.5", "pruned:m_0.8"]


def test_cli_bad_axis_exits_2_with_one_line(tmp_path, cli):
    code, out, err = cli("sweep", write_spec(tmp_path, axes=[{"grid": {"pe.cont": [4]}}]), "--dry-run")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "did you mean 'count'?" in err


def test_cli_dry_run_lists_points(tmp_path, cli):
    code, out, err = cli("sweep", write_spec(tmp_path), "--dry-run", "--out", tmp_path / "o")
    assert code == 0
    assert "8 design points" in out and "pe.count=8" in out
    assert not (tmp_path / "o").exists()  # a dry run writes nothing


from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pe=st.lists(st.integers(1, 64), min_size=1, max_size=4),
       banks=st.lists(st.sampled_from([1, 2, 4, 8, 16]), min_size=1, max_size=3),
       lanes=st.lists(st.integers(1, 8), min_size=1, max_size=3))
def test_grid_is_the_ordered_product_and_zip_the_lockstep(tmp_path, pe, banks, lanes):
    import itertools

    spec = load_spec(write_spec(tmp_path, axes=[{"grid": {"pe.count": pe, "weight_sram.banks": banks}},
                                                {"zip": {"pe.mac_lanes": lanes, "pe.fifo_depth": lanes}}]))
    expect = [(p, b, l) for p, b in itertools.product(pe, banks) for l in lanes]
    got = [(x.config["pe"]["count"], x.config["weight_sram"]["banks"], x.config["pe"]["mac_lanes"])
           for x in spec.points]
    assert got == expect
    assert all(x.config["pe"]["fifo_depth"] == x.config["pe"]["mac_lanes"] for x in spec.points)


def test_baseline_kind_is_a_run_option_of_the_spec_and_its_parts(tmp_path):
    """``baseline_kind`` (default dense) comes from the part, else the top level; it is part of a
    baseline point's key (another kind is another simulation), not of a point without baseline."""
    from accelsim.sweep.keys import point_key

    path = tmp_path / "k.yaml"
    path.write_text(yaml.safe_dump({
        "name": "kinds", "base": str(ARCH_A), "tokens": 4, "baseline": True, "baseline_kind": "no-skip",
        "workloads": [{"name": "syn", "synth": TINY_SYNTH}],
        "parts": [{"name": "top"}, {"name": "dense", "baseline_kind": "dense"},
                  {"name": "off", "baseline": False}]}))
    spec = load_spec(path)
    assert [(p.part, p.baseline, p.baseline_kind) for p in spec.points] == [
        ("top", True, "no-skip"), ("dense", True, "dense"), ("off", False, "no-skip")]
    assert load_spec(write_spec(tmp_path)).points[0].baseline_kind == "dense"
    c = spec.points[0].config
    assert point_key(c, "t", "e", 4, True, "dense") != point_key(c, "t", "e", 4, True, "no-skip")
    assert point_key(c, "t", "e", 4, False, "dense") == point_key(c, "t", "e", 4, False, "no-skip")
    assert point_key(c, "t", "e", 4, True) == point_key(c, "t", "e", 4, True, "dense")
