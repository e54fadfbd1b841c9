"""`accelsim config check|show FILE`: validate an architecture config / print it fully resolved."""

from __future__ import annotations

import json

import yaml

from accelsim.config import energy_table_path, load_config, load_energy_table, resolved_dict


def register(sub) -> None:
    p = sub.add_parser(
        "config", help="check or show an architecture config",
        description="Validate architecture configs (YAML) and print them with every default filled in.")
    cs = p.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    c = cs.add_parser("check", help="validate a config and the energy table it names",
                      description="Validate a config file and the energy table it names; exit 0 if "
                                  "both are valid, 2 with one line naming the problem otherwise.")
    c.add_argument("file", help="architecture config YAML")
    c.set_defaults(func=_check)
    s = cs.add_parser("show", help="print the fully resolved config (every default filled in)",
                      description="Print the fully resolved configuration: every field, defaults "
                                  "filled in, as YAML (or JSON with --json).")
    s.add_argument("file", help="architecture config YAML")
    s.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    s.set_defaults(func=_show)


def _check(args) -> int:
    from accelsim.energy.area import check_area_table
    from accelsim.engine.prepare import check_streaming

    cfg = load_config(args.file)
    table = load_energy_table(energy_table_path(cfg, args.file))
    check_area_table(cfg, table, str(args.file))
    check_streaming(cfg)
    print(f"{args.file}: ok ({cfg.name}; energy table {table.name})")
    return 0


def _show(args) -> int:
    cfg = load_config(args.file)
    d = resolved_dict(cfg)
    if args.json:
        print(json.dumps(d, indent=2))
    else:
        print(yaml.safe_dump(d, sort_keys=False), end="")
    return 0
