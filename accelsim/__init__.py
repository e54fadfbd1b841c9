"""accelsim: a cycle-level simulator of event-driven sparse-RNN (EGRU) accelerators.

Data flows one way: config + trace -> engine (SimPy) -> units (Numba) -> counts -> energy ->
result -> report.
"""

__version__ = "0.1.0"
