"""Design-space sweeps: spec -> design points -> executor (local processes or Dask) -> results store.

``spec`` validates a YAML sweep spec and makes its design points one at a time; ``traces``
prepares their trace files (generated ones cached by content); ``worker`` runs one point in a
long-lived worker; ``executors`` decides where; ``store`` persists each finished point (SQLite,
WAL); ``lock`` keeps one sweep per results folder; ``progress`` draws the bar; ``run`` ties them
together and is the Python API. ``keys`` holds the identities shared by the coordinator and the
workers. The names below are imported on first use, so a worker process that imports
``accelsim.sweep.worker`` loads none of the coordinator's machinery.
"""

from __future__ import annotations

import importlib

_EXPORTS = {"DesignPoint": "spec", "SweepSpec": "spec", "load_spec": "spec",
            "dry_run": "run", "export_results": "run", "load_results": "run", "run_sweep": "run"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"accelsim.sweep.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'accelsim.sweep' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
