"""`accelsim run`: simulate one design point: config + trace -> cycles, traffic, energy (not implemented yet)."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("run", help="simulate one design point: config + trace -> cycles, traffic, energy [not implemented yet]", description="simulate one design point: config + trace -> cycles, traffic, energy. Not implemented yet.")
    p.add_argument("rest", nargs="*", help="arguments (ignored until implemented)")
    p.set_defaults(func=_not_implemented)


def _not_implemented(args) -> int:
    print("accelsim: error: 'run' is not implemented yet", file=sys.stderr)
    return 3
