"""DRAM channel: a column streamed off chip moves whole bursts at a fixed bandwidth.

``bytes = ceil(ceil(payload_bits / 8) / burst) * burst`` and the channel is busy
``ceil(bytes / (bandwidth_bytes_per_cycle x stream_efficiency))`` cycles for it; the first data of a batch arrives
``latency_cycles`` after the request, later columns follow back to back (requests pipelined).
The per-column tables live in :mod:`accelsim.units.weight_sram`; the in-phase arrival times are
computed by :func:`accelsim.units.pe_array.pe_phase` (with the bounded DRAM path: a staging
buffer and a limit on outstanding requests delay a column's request). When phases use the
channel shared by the clusters is the engine's business (time lives only there); with burst
arbitration a grant covers :func:`grant_cycles` cycles and
:func:`accelsim.units.pe_array.channel_advance` hands grants out up to a cycle the engine sets.
Leaves out: banks/rows of the DRAM device, refresh, write traffic.
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


def grant_cycles(burst: int, bandwidth_bytes_per_cycle: int, stream_efficiency: float = 1.0) -> int:
    """Burst arbitration (``dram.arbitration: burst``): channel cycles one grant covers, one
    burst's transfer time (at least one cycle). The grants themselves are decided by
    :func:`accelsim.units.pe_array.channel_advance` (beside the phase it resumes, so Numba's
    on-disk cache of the two is invalidated together)."""
    return max(1, int(transfer_cycles(burst, bandwidth_bytes_per_cycle, stream_efficiency)))
