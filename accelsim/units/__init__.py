"""Numba functional units: pure kernels, arrays in, integer counts out (no SimPy, no I/O).

- :mod:`accelsim.units.weight_sram` — where each weight format puts a column over banks/PEs
  (static per-column tables, built once per config and weights);
- :mod:`accelsim.units.pe_array` — dispatcher, bank reads, DRAM requests, PE FIFOs and MAC
  lanes for a batch of column events (exact cycles by recurrence), resumable at each streamed
  column for the DRAM channel shared burst by burst (``channel_advance``);
- :mod:`accelsim.units.update_unit` — U update lanes over all H units and the event encoder;
- :mod:`accelsim.units.dram` — bursts, bytes and transfer cycles of a column streamed off chip,
  cycles of a burst grant.
"""
