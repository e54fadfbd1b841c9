"""Set-up: the README's quick start is two commands on a fresh machine, PyTorch is only for
training (and dask only for distributed sweeps), and the tests that need either skip without it."""

import ast
import re
import subprocess
import sys
import tomllib

from tests.conftest import REPO

OPTIONAL = {"torch": "torch", "accelsim.workloads.egru_torch": "torch", "accelsim.workloads.train": "torch",
            "dask": "dask", "distributed": "distributed"}


def _quick_start() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Install and run", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.DOTALL).group(1)
    return [l for l in block.splitlines() if l.strip()]


def test_the_readme_quick_start_is_two_commands_that_install_run_and_test():
    first, second = _quick_start()
    assert first.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install -e \".[test]\" && ")
    assert "python -m accelsim run configs/arch_a.yaml --trace workloads/ptb.npz" in first
    assert "torch" not in first and "train" not in first
    assert second == "python -m pytest -q"


def test_torch_and_dask_are_extras_only():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith(("torch", "dask")) for d in project["dependencies"])
    extras = project["optional-dependencies"]
    assert any(d.startswith("torch") for d in extras["train"])
    assert any(d.startswith("dask") for d in extras["dist"])
    assert not any(d.startswith(("torch", "dask")) for d in extras["test"])


def test_test_modules_importing_an_optional_package_skip_first():
    """A test module that imports torch (or code that needs it), dask or distributed at its top
    level calls pytest.importorskip for it before."""
    for path in sorted((REPO / "tests").rglob("*.py")):
        tree = ast.parse(path.read_text())
        skipped = set()
        for node in tree.body:
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "importorskip" \
                        and call.args and isinstance(call.args[0], ast.Constant):
                    skipped.add(str(call.args[0].value).split(".")[0])
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                need = next((pkg for mod, pkg in OPTIONAL.items() if name == mod or name.startswith(mod + ".")), None)
                assert need is None or need in skipped, f"{path.relative_to(REPO)}: imports {name} without " \
                                                        f"pytest.importorskip({need!r}) before it"


def test_without_torch_and_dask_the_workload_tests_skip_cleanly():
    code = ("import sys\n"
            "for m in ('torch', 'dask', 'distributed'):\n"
            "    sys.modules[m] = None  # as if not installed: importing them raises ImportError\n"
            "import pytest\n"
            "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '-rs', 'tests/workloads', 'tests/test_cli.py']))\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    summary = r.stdout.strip().splitlines()[-1]
    assert re.match(r"^\d+ passed, \d+ skipped in ", summary), summary
    assert "could not import 'torch'" in r.stdout
