"""`accelsim sweep`: run a design-space sweep over configs and traces (not implemented yet)."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("sweep", help="run a design-space sweep over configs and traces [not implemented yet]", description="run a design-space sweep over configs and traces. Not implemented yet.")
    p.add_argument("rest", nargs="*", help="arguments (ignored until implemented)")
    p.set_defaults(func=_not_implemented)


def _not_implemented(args) -> int:
    print("accelsim: error: 'sweep' is not implemented yet", file=sys.stderr)
    return 3
