"""`accelsim report`: turn sweep results into plots and a markdown report (not implemented yet)."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("report", help="turn sweep results into plots and a markdown report [not implemented yet]", description="turn sweep results into plots and a markdown report. Not implemented yet.")
    p.add_argument("rest", nargs="*", help="arguments (ignored until implemented)")
    p.set_defaults(func=_not_implemented)


def _not_implemented(args) -> int:
    print("accelsim: error: 'report' is not implemented yet", file=sys.stderr)
    return 3
