"""How the sweep package is put together: no import circle, one dotted-override helper (the
engine's), configs resolved the same way fast or plain, and an engine that does not import is
an error, never a quiet stand-in."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from accelsim.sweep import load_spec, run_sweep
from tests.sweep.conftest import ARCH_A, REPO, write_spec

SWEEP = REPO / "accelsim" / "sweep"


def _imports(path: Path) -> set[str]:
    """Every accelsim.sweep module a file imports, at any depth of its code."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("accelsim.sweep"):
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names if node.module == "accelsim.sweep")
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("accelsim.sweep"))
    return out


def test_no_import_circle_between_run_worker_and_executors():
    graph = {f"accelsim.sweep.{p.stem}": _imports(p) for p in SWEEP.glob("*.py") if p.stem != "__init__"}

    def reaches(src, dst, seen=()):
        return any(n == dst or (n not in seen and reaches(n, dst, seen + (n,))) for n in graph.get(src, ()))

    for mod in graph:
        assert not reaches(mod, mod), f"{mod} imports itself through {sorted(graph[mod])}"
    assert not reaches("accelsim.sweep.worker", "accelsim.sweep.run")
    assert not reaches("accelsim.sweep.executors", "accelsim.sweep.run")
    # and in a fresh interpreter: a worker loads none of the coordinator's machinery
    code = ("import sys, accelsim.sweep.worker, accelsim.sweep.executors\n"
            "print(sorted(m for m in sys.modules if m.startswith('accelsim.sweep')))")
    mods = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO,
                          env=dict(os.environ, PYTHONPATH=str(REPO))).stdout
    assert "accelsim.sweep.run" not in mods and "accelsim.sweep.store" not in mods, mods


def test_the_sweep_sets_dotted_fields_with_the_engines_helper(tmp_path, monkeypatch):
    import importlib

    sim = importlib.import_module("accelsim.engine.simulate")
    calls = []
    real = sim.apply_overrides
    monkeypatch.setattr(sim, "apply_overrides", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    spec = load_spec(write_spec(tmp_path, axes=[{"grid": {"pe.count": [4, 8], "clock_mhz": [300]}}]))
    assert [p.config["pe"]["count"] for p in spec.points] == [4, 8]
    assert {"count": 4} in calls or {"pe.count": 4, "clock_mhz": 300} in calls
    # no second helper in the sweep package
    for path in SWEEP.glob("*.py"):
        assert "_set_dotted" not in path.read_text(), path


def _plain(base_path, overrides):
    from accelsim.config import config_from_dict, resolved_dict
    from accelsim.config.load import read_yaml
    from accelsim.engine.simulate import apply_overrides

    return resolved_dict(config_from_dict(apply_overrides(read_yaml(base_path), overrides, "t"), "t"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.fixed_dictionaries({}, optional={
    "pe.count": st.integers(1, 64), "pe.mac_lanes": st.integers(1, 8), "weight_sram.banks": st.sampled_from([1, 2, 8]),
    "clock_mhz": st.sampled_from([100, 250.5, 800]), "skip_weights": st.booleans(),
    "weight_format": st.sampled_from(["dense", "csc", "bitmap"]), "dram.latency_cycles": st.integers(1, 500)}))
def test_fast_config_resolution_equals_the_plain_way(values):
    """Each group of fields validated apart and the top level on top: the same config as the
    engine's override helper + the schema on the whole mapping."""
    from accelsim.config import resolved_dict
    from accelsim.sweep.spec import _Base, _Configs

    configs = _Configs()
    base = _Base(ARCH_A)
    layout = configs.layout(list(values))
    fast = configs._fast(base, layout, list(values.values()), tuple(values.values()), "t")
    assert resolved_dict(fast) == _plain(ARCH_A, values)


def test_a_disagreement_falls_back_to_the_plain_way(tmp_path, monkeypatch):
    from accelsim.sweep.spec import _Configs

    monkeypatch.setattr(_Configs, "_fast", lambda self, base, layout, values, frozen, source:
                        _Configs._plain(base, {}, source))  # a wrong fast path: ignores the axes
    spec = load_spec(write_spec(tmp_path, axes=[{"grid": {"pe.count": [4, 8]}}]))
    assert [p.config["pe"]["count"] for p in spec.points] == [4, 8]


def test_a_broken_engine_stops_the_sweep_tests_loudly():
    code = "import sys; sys.modules['accelsim.engine'] = None; import tests.sweep.conftest"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                       env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert p.returncode != 0 and "import of accelsim.engine halted" in p.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_a_broken_engine_fails_the_sweep_instead_of_storing_errors(tmp_path, monkeypatch, workers):
    monkeypatch.setitem(sys.modules, "accelsim.engine", None)
    with pytest.raises(ImportError):
        run_sweep(write_spec(tmp_path, axes=[{"grid": {"pe.count": [4]}}]), tmp_path / "o", workers=workers,
                  progress=False)
    assert not (tmp_path / "o" / "results.sqlite").exists()
