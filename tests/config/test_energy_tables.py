"""Energy tables: shipped as package data and named (`energy_table: 45nm`), or a path relative to
the config; a config copied anywhere keeps working; errors name the config file and the field."""

import shutil
import tomllib

import pytest
import yaml

from accelsim.config import (ArchConfig, energy_table_path, load_config, resolve_energy_table,
                             shipped_energy_tables)
from accelsim.config.load import SHIPPED_TABLES
from accelsim.errors import InputError
from tests.conftest import REPO

PTB = REPO / "workloads" / "ptb.npz"


def test_the_default_is_the_shipped_45nm_table_and_it_is_package_data():
    assert ArchConfig().energy_table == "45nm" and "45nm" in shipped_energy_tables()
    assert energy_table_path(ArchConfig(), None) == SHIPPED_TABLES / "45nm.yaml"
    assert resolve_energy_table(ArchConfig(), None).name == "45nm"
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["accelsim.energy"]
    assert any(SHIPPED_TABLES.relative_to(REPO / "accelsim" / "energy").as_posix() + "/" in g for g in globs)


def test_the_configs_folder_shows_the_shipped_table_itself_not_a_copy():
    """configs/energy/45nm.yaml (read by older configs and scripts) is the package's table."""
    assert (REPO / "configs" / "energy" / "45nm.yaml").read_bytes() == (SHIPPED_TABLES / "45nm.yaml").read_bytes()


@pytest.mark.parametrize("name", ["arch_a", "arch_b", "edgedrnn"])
def test_shipped_configs_name_a_shipped_table(name):
    cfg = load_config(REPO / "configs" / f"{name}.yaml")
    assert cfg.energy_table == "45nm"


def test_a_config_copied_to_another_folder_runs(cli, tmp_path, monkeypatch):
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    shutil.copy(REPO / "configs" / "arch_a.yaml", elsewhere / "arch_a.yaml")
    monkeypatch.chdir(tmp_path)   # neither the repository nor the config's folder
    code, out, err = cli("config", "check", elsewhere / "arch_a.yaml")
    assert code == 0 and "energy table 45nm" in out, err
    code, out, err = cli("run", elsewhere / "arch_a.yaml", "--trace", PTB, "--tokens", "10", "--quiet")
    assert code == 0 and err == "", err


@pytest.mark.parametrize("text", ["", "# only a comment\n", "name: mine\n"])
def test_an_empty_config_or_one_without_the_field_uses_the_default_table(cli, tmp_path, monkeypatch, text):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("config", "check", p)
    assert code == 0 and "energy table 45nm" in out, err
    code, out, err = cli("run", p, "--trace", PTB, "--tokens", "5", "--quiet")
    assert code == 0, err


def test_a_path_is_relative_to_the_config_folder(cli, tmp_path, monkeypatch):
    table = yaml.safe_load((SHIPPED_TABLES / "45nm.yaml").read_text())
    table["name"] = "mine"
    (tmp_path / "cfg" / "tables").mkdir(parents=True)
    (tmp_path / "cfg" / "tables" / "mine.yaml").write_text(yaml.safe_dump(table))
    p = tmp_path / "cfg" / "c.yaml"
    p.write_text("energy_table: tables/mine.yaml\n")
    monkeypatch.chdir(REPO)
    code, out, err = cli("config", "check", p)
    assert code == 0 and "energy table mine" in out, err
    p.write_text("energy_table: mine.yaml\n")   # ends in .yaml: a path, not a shipped name
    code, _, err = cli("config", "check", p)
    assert code == 2 and f"{p}: energy_table: mine.yaml ({tmp_path / 'cfg' / 'mine.yaml'}): no such file" in err
    p.write_text(f"energy_table: {tmp_path / 'cfg' / 'tables' / 'mine.yaml'}\n")   # absolute
    assert cli("config", "check", p)[0] == 0


@pytest.mark.parametrize("value, expect", [
    ("energy/45nm.yaml", "energy_table: energy/45nm.yaml ({dir}/energy/45nm.yaml): no such file; a path is "
                         "relative to the config's folder, and a shipped table is named without one "
                         "(energy_table: 45nm)"),
    ("7nm", "energy_table: no shipped energy table named '7nm' (shipped: 16nm, 45nm)"),
    ("tables/", "energy_table: tables/ ({dir}/tables): is a folder, not a YAML file"),
    ("", "energy_table: no shipped energy table named ''"),
])
def test_a_bad_energy_table_names_the_config_and_the_field(cli, tmp_path, value, expect):
    (tmp_path / "tables").mkdir()
    p = tmp_path / "copied.yaml"
    p.write_text(yaml.safe_dump({"name": "x", "energy_table": value}))
    for argv in (("config", "check", p), ("run", p, "--trace", PTB, "--tokens", "5", "--quiet")):
        code, out, err = cli(*argv)
        assert code == 2 and out == "" and err.count("\n") == 1
        assert err.startswith(f"accelsim: error: {p}: ") and expect.format(dir=tmp_path) in err, err
    with pytest.raises(InputError, match=r"copied\.yaml: energy_table: "):
        resolve_energy_table(load_config(p), p)


def test_a_bad_table_file_is_named_with_its_field(tmp_path):
    table = yaml.safe_load((SHIPPED_TABLES / "45nm.yaml").read_text())
    table["dram_read_64b_pj"] = float("inf")
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(table))
    (tmp_path / "c.yaml").write_text("energy_table: t.yaml\n")
    with pytest.raises(InputError, match=r"t.yaml: dram_read_64b_pj: input should be a finite number"):
        resolve_energy_table(load_config(tmp_path / "c.yaml"), tmp_path / "c.yaml")
