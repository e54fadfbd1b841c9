"""Command line: ``python -m accelsim {run,sweep,report,trace,config} ...``.

Each subcommand lives in ``accelsim/commands/<name>_cmd.py`` with one function,
``register(subparsers)``, which adds its parser and sets ``func`` (``args -> int exit code``).
Bad input raises :class:`accelsim.errors.InputError`; it is printed here as one line and the
process exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from accelsim import __version__
from accelsim.errors import report_input_errors

# Order is the order shown in --help.
COMMANDS = ("run", "sweep", "report", "trace", "config", "validate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accelsim",
        description=(
            "Cycle-level simulator of event-driven sparse-RNN (EGRU) accelerators: replays EGRU "
            "activation traces through a configurable accelerator and reports cycles, memory "
            "traffic and energy."
        ),
    )
    parser.add_argument("--version", action="version", version=f"accelsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"accelsim.commands.{name}_cmd").register(sub)
    parser.set_defaults(_commands=sub.choices)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        if args.command is None:
            parser.print_help()
            return 2
        # A command group (e.g. `accelsim trace`) called without its subcommand.
        args._commands[args.command].print_help()
        return 2
    try:
        return report_input_errors(args.func, args)
    except KeyboardInterrupt:
        print("accelsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
