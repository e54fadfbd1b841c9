"""Design-space sweeps: spec -> design points -> executor (local processes or Dask) -> results store.

``spec`` expands a YAML sweep spec into validated design points; ``traces`` prepares their trace
files (synthetic ones cached by content); ``worker`` runs one point in a long-lived worker;
``executors`` decides where; ``store`` persists each finished point (SQLite, WAL); ``progress``
draws the bar; ``run`` ties them together and is the Python API.
"""

from accelsim.sweep.run import dry_run, export_results, load_results, run_sweep
from accelsim.sweep.spec import DesignPoint, SweepSpec, load_spec

__all__ = ["DesignPoint", "SweepSpec", "dry_run", "export_results", "load_results", "load_spec", "run_sweep"]
