"""Upper bounds of the config fields, and the memory a command may use.

Every config field that sizes memory or time has an upper bound (in ``schema.py``, stated in the
field's description and so in ``docs/config.md``). Each bound is above what any chip built so far
has, so that a real design always fits, and low enough that the simulator's own arrays for it
stay small: the largest per-phase scratch array, ``pe.count x pe.fifo_depth`` 64-bit slots, is
then at most 4,096 x 1,024 x 8 bytes = 32 MiB. What a run needs on top of that depends on the
trace; :func:`check_memory` compares an estimate of it with the memory the machine has free.

The memory available is ``MemAvailable`` of ``/proc/meminfo`` (Linux), lowered to what the
control group may still use (``/sys/fs/cgroup/memory.max`` minus ``memory.current``, cgroup v2)
when one sets a limit; elsewhere the free physical pages (``os.sysconf``). When none of these
can be read, no memory check is made.
"""

from __future__ import annotations

import os

from accelsim.errors import InputError

# --- bounds of the config fields (grounds in the comments) --------------------------------------
# Event-driven RNN accelerators have 8 (EdgeDRNN) to a few hundred PEs per cluster; a TPU v4
# MXU is 128 x 128 = 16,384 MACs. 4,096 PEs x 1,024 lanes = 4 M MACs per cycle per cluster is
# far beyond any of them.
MAX_PES = 4096
MAX_MAC_LANES = 1024
# PE-local work FIFOs hold a few to a few tens of column items (EdgeDRNN: 32).
MAX_FIFO_DEPTH = 1024
# Events popped / emitted / elements scanned per cycle: one to a few tens in published designs.
MAX_PER_CYCLE = 1024
# Weight SRAM: thousands of SRAM macros exist on the largest dies; a bank reads at most one
# 4,096-bit line per cycle; 64 GiB per cluster is above the largest wafer-scale chip (44 GB).
MAX_BANKS = 4096
MAX_BANK_WIDTH_BITS = 4096
MAX_CAPACITY_BYTES = 2 ** 36
# Widths: no datapath stores values or indices wider than 64 bits; accumulators up to 128.
MAX_WORD_BITS = 64
MAX_ACCUMULATOR_BITS = 128
MAX_EVENT_BITS = 128
# Event queue: 2^20 events of 128 bits is 16 MiB of queue SRAM.
MAX_QUEUE_DEPTH = 2 ** 20
# Update lanes: one per hidden unit of the widest layers in use (a few thousand).
MAX_UPDATE_LANES = 4096
# On-chip pipeline and fixed latencies (MAC, SRAM read, pointer read, update pipeline, scan,
# end markers): a handful of cycles in hardware; 1,024 leaves room for any pipeline.
MAX_PIPELINE_CYCLES = 1024
# Off-chip and per-step latencies (DRAM latency, restart bubble, start-up, fixed per-step
# cycles, scan start and gap): DRAM answers in ~100 ns, i.e. ~1,000 cycles at 10 GHz.
MAX_LATENCY_CYCLES = 65536
# DRAM: 8 HBM3 stacks deliver ~6.5 TB/s, 65,536 bytes per cycle at 100 MHz; bursts are 32-128
# bytes and a DRAM page 2-8 KiB.
MAX_BANDWIDTH_BYTES_PER_CYCLE = 65536
MAX_BURST_BYTES = 4096
# Clock: 1 kHz (always-on sensor chips run at tens of kHz) to 10 GHz (no CMOS logic clocks
# above ~6 GHz); finite.
MIN_CLOCK_MHZ = 0.001
MAX_CLOCK_MHZ = 10000.0
# Weight stream: a beat on at least 1 cycle in 1,000; a decimal fraction with at most 6 decimals,
# so that the exact stream time (bytes x 10^6 in 64 bits) cannot overflow.
MIN_STREAM_EFFICIENCY = 0.001
STREAM_EFFICIENCY_DECIMALS = 6
# Input zero-padding of the event scan: a multiple of up to one scan line.
MAX_PAD_MULTIPLE = 4096
# Energy tables: picojoules per action (a 64-bit DRAM read is ~2,000 pJ); per-cycle leakage
# of a 100 W chip clocked at 1 kHz is 10^11 pJ. Sums of counts x these stay finite.
MAX_PJ = 1e12
MAX_SRAM_POINT_BYTES = 2 ** 40
# Area tables: square micrometres per component (a 1 m^2 wafer is 10^12 um^2) and leakage power
# density (a chip leaking 10^6 mW per mm^2 would melt); finite, so area sums stay finite.
MAX_AREA_UM2 = 1e12
MAX_MW_PER_MM2 = 1e6


# --- memory ------------------------------------------------------------------------------------

def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_room() -> int | None:
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as f:
            limit = f.read().strip()
        if limit == "max":
            return None
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as f:
            current = int(f.read().strip())
        return max(int(limit) - current, 0)
    except (OSError, ValueError):
        return None


def _sysconf_available() -> int | None:
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def available_memory() -> int | None:
    """Bytes of memory this process can still allocate, as far as the system says; None when
    it cannot be told."""
    avail = _meminfo_available()
    if avail is None:
        avail = _sysconf_available()
    room = _cgroup_room()
    if room is not None:
        avail = room if avail is None else min(avail, room)
    return avail


def fmt_bytes(n: float) -> str:
    """A byte count for people: 1.5 GiB, 12.0 MiB, 640 bytes."""
    for unit, size in (("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return "1 byte" if n == 1 else f"{int(n)} bytes"


def check_memory(need: int, what: str, fix: str = "") -> None:
    """Refuse (InputError, one line with both figures) when ``need`` bytes exceed the memory
    available now. ``what`` says who needs it ("trace synth ..."); ``fix`` how to need less."""
    avail = available_memory()
    if avail is None or need <= avail:
        return
    raise InputError(f"{what} needs about {fmt_bytes(need)} of memory, more than the "
                     f"{fmt_bytes(avail)} available on this machine; refused before allocating"
                     + (f"; {fix}" if fix else ""))
