import subprocess
import sys

import pytest

from accelsim.cli import COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_an_explaining_help(cli, command):
    code, out, _ = cli(command, "--help")
    assert code == 0
    assert f"usage: accelsim {command}" in out and len(out.splitlines()) >= 4


def test_no_command_prints_help_and_fails(cli):
    code, out, _ = cli()
    assert code == 2 and "run" in out and "sweep" in out and "trace" in out


def test_group_without_subcommand_shows_its_help(cli):
    code, out, _ = cli("trace")
    assert code == 2 and "synth" in out and "validate" in out


def test_python_dash_m_and_version():
    r = subprocess.run([sys.executable, "-m", "accelsim", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("accelsim ")
