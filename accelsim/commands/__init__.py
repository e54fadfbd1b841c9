"""CLI subcommands, one module each (``<name>_cmd.py`` with ``register(subparsers)``)."""
