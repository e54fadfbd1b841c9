import json

import pytest
import yaml

from accelsim.config import (ArchConfig, config_from_dict, energy_table_path, load_config,
                             load_energy_table, resolved_dict)
from accelsim.errors import InputError
from tests.conftest import REPO


def test_shipped_configs_load_and_name_their_energy_table():
    for name, storage, pes in (("arch_a", "sram", 16), ("arch_b", "dram", 8)):
        path = REPO / "configs" / f"{name}.yaml"
        cfg = load_config(path)
        assert cfg.name == name and cfg.weight_storage == storage and cfg.pe.count == pes
        table = load_energy_table(energy_table_path(cfg, path))
        assert table.arithmetic["int8"].mult_pj == 0.2
        assert table.arithmetic["fp32"].add_pj == 0.9
        assert [p.read_64b_pj for p in table.sram_read] == [10.0, 20.0, 100.0]
        assert table.leakage_pj_per_cycle > 0


def test_arch_b_is_edgedrnn_like():
    cfg = load_config(REPO / "configs" / "arch_b.yaml")
    assert (cfg.precision.weight_bits, cfg.precision.value_bits) == (8, 16)
    assert cfg.weight_storage == "dram" and cfg.pe.count == 8


def test_defaults_resolve_identically_through_yaml_and_python(tmp_path):
    p = tmp_path / "empty.yaml"
    p.write_text("# nothing set: every field takes its default\n")
    assert resolved_dict(load_config(p)) == resolved_dict(ArchConfig())
    # a partial file: what is set is kept, the rest is the Python default
    p.write_text("pe:\n  count: 32\n")
    via_yaml = resolved_dict(load_config(p))
    via_py = resolved_dict(ArchConfig(pe={"count": 32}))
    assert via_yaml == via_py and via_yaml["pe"]["mac_lanes"] == ArchConfig().pe.mac_lanes


def test_resolved_config_round_trips_through_yaml():
    cfg = load_config(REPO / "configs" / "arch_a.yaml")
    d = resolved_dict(cfg)
    again = config_from_dict(yaml.safe_load(yaml.safe_dump(d)))
    assert again == cfg
    json.dumps(d)  # JSON-ready


def test_configs_are_frozen():
    cfg = ArchConfig()
    with pytest.raises(Exception):
        cfg.pe.count = 3  # type: ignore[misc]


@pytest.mark.parametrize("data, expect", [
    ({"pe": {"count": "8"}}, "pe.count: input should be a valid integer (got '8')"),            # wrong type
    ({"pe": {"cuont": 8}}, "pe.cuont: unknown field; did you mean 'count'?"),                     # unknown field
    ({"weight_sram": {"banks": 0}}, "weight_sram.banks: input should be greater than 0 (got 0)"),  # zero size
    ({"pe": {"mac_lanes": -2}}, "pe.mac_lanes: input should be greater than 0 (got -2)"),          # negative
    ({"weight_sram": {"banks": 12}}, "weight_sram.banks: must be a power of two >= 1 (got 12)"),   # not 2^k
    ({"dram": {"burst_bytes": 48}}, "dram.burst_bytes: must be a power of two >= 1 (got 48)"),
    ({"weight_format": "coo"}, "weight_format: unknown value; expected one of 'dense', 'csc', 'bitmap', 'csc_relative' or 'nm' (got 'coo')"),
    ({"mapping": "diagonal"}, "mapping: unknown value; expected one of 'spatial' or 'temporal'"),  # enum
    ({"skip_weights": "yes"}, "skip_weights: input should be a valid boolean (got 'yes')"),
    ({"clock_mhz": 0}, "clock_mhz: input should be greater than or equal to 0.001 (got 0)"),
])
def test_bad_config_fields_give_one_line_naming_file_and_field(data, expect):
    with pytest.raises(InputError) as e:
        config_from_dict(data, "configs/x.yaml")
    msg = str(e.value)
    assert msg.startswith("configs/x.yaml: ") and expect in msg and "\n" not in msg


def test_missing_required_field_in_energy_table(tmp_path):
    src = yaml.safe_load((REPO / "configs" / "energy" / "45nm.yaml").read_text())
    del src["leakage_pj_per_cycle"]
    p = tmp_path / "e.yaml"
    p.write_text(yaml.safe_dump(src))
    with pytest.raises(InputError, match=r"e.yaml: leakage_pj_per_cycle: required field is missing"):
        load_energy_table(p)


def test_config_cli_errors_exit_2_with_one_line(cli, tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("weight_sram:\n  bankz: 16\n")
    code, out, err = cli("config", "check", p)
    assert code == 2 and out == ""
    assert err.strip() == f"accelsim: error: {p}: weight_sram.bankz: unknown field; did you mean 'banks'?"
    p.write_text("pe: [1, 2\n")
    code, _, err = cli("config", "check", p)
    assert code == 2 and "not valid YAML at line" in err and err.count("\n") == 1
    code, _, err = cli("config", "show", tmp_path / "nope.yaml")
    assert code == 2 and "no such file" in err


def test_config_show_prints_every_default(cli):
    code, out, _ = cli("config", "show", REPO / "configs" / "arch_a.yaml", "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown == resolved_dict(load_config(REPO / "configs" / "arch_a.yaml"))
    assert shown["update_unit"]["nonlinearity"] == "lut" and shown["dram"]["latency_cycles"] == 100


def test_config_reference_doc_matches_the_schema():
    from accelsim.config.docs import config_reference
    assert (REPO / "docs" / "config.md").read_text() == config_reference(), \
        "regenerate: python -m accelsim.config.docs > docs/config.md"
