"""DRAM channel: a column streamed off chip moves whole bursts at a fixed bandwidth.

``bytes = ceil(ceil(payload_bits / 8) / burst) * burst`` and the channel is busy
``ceil(bytes / (bandwidth_bytes_per_cycle x stream_efficiency))`` cycles for it; the first data of a batch arrives
``latency_cycles`` after the request, later columns follow back to back (requests pipelined).
The per-column tables live in :mod:`accelsim.units.weight_sram`; the in-phase arrival times are
computed by :func:`accelsim.units.pe_array.pe_phase`; the channel's arbitration between clusters
belongs to the engine (time lives only there). Leaves out: banks/rows of the DRAM device,
refresh, write traffic.
"""

from __future__ import annotations

from fractions import Fraction


def burst_bytes(payload_bytes: int, burst: int) -> int:
    return -(-payload_bytes // burst) * burst


def transfer_cycles(nbytes: int, bandwidth_bytes_per_cycle: int, stream_efficiency: float = 1.0) -> int:
    """``ceil(bytes / (bandwidth x efficiency))``, in exact rational arithmetic: a channel that
    delivers on a fraction ``f`` of its cycles (``stream_efficiency``) moves ``bandwidth x f``
    bytes per cycle on average. Works elementwise on integer arrays."""
    f = Fraction(str(stream_efficiency))
    return -(-(nbytes * f.denominator) // (bandwidth_bytes_per_cycle * f.numerator))
