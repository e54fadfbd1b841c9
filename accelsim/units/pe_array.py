"""Dispatcher, weight reads, PE FIFOs and MAC lanes: exact cycles for one batch of column events.

The model (times in cycles, relative to the phase start; event ``k`` reads column ``c_k``):

- **dispatcher** pops events in order, at most ``e = dispatcher.events_per_cycle`` per cycle
  (``a_k >= a_{k-1}``, ``a_k >= a_{k-e} + 1``). It only pops an event when every PE that gets
  work from it has a free slot in its FIFO (credit flow control, depth ``F``): the slot of the
  item ``F`` places earlier on that PE must have been freed, which happens the cycle that item's
  last MAC issued (``a_k >= fin_{p, j-F}``). Cycles lost to this are ``fifo_full`` stalls.
- **pointer read** then takes ``pointer_read_cycles``: the bank requests of event ``k`` become
  eligible at ``a_k + pointer_read_cycles``.
- **weight SRAM banks** serve their own request queues in order, one word per bank per cycle:
  ``start_b = max(eligible, free_b)``, ``free_b = start_b + words[c_k, b]``. The column's data is
  ready ``read_latency_cycles`` after its last word (and, when weights stream from DRAM, after
  its last burst arrived): ``ready_k = max(eligible, max_b free_b, dram_k) + read_latency``.
- **PEs** take their items in order; PE ``p`` spends ``ceil(work[c_k, p] / M)`` cycles on an
  item with ``M = mac_lanes`` (a PE with no work for an event gets no item). The phase ends when
  the last column is ready and the MAC pipelines have drained: ``max(ready_last,
  max_p fin_p + mac_latency_cycles)``; an empty batch takes 0 cycles.
- **DRAM** (``weight_storage: dram``): the columns of the batch are requested in event order
  when the phase starts (it holds the channel); bursts arrive back to back after the latency:
  ``dram_k = latency + sum_{i<=k} transfer_i`` (columns with no bytes need no DRAM).

Delta-design mechanisms (each off by default; ``docs/architecture.md``, "Mechanisms of
event-driven delta designs"): the **event scan** gates dispatch (``a_k >= visible_k``) and gives
a phase a floor; **end markers** are entries without weights that take ``marker_cycles`` on every
PE (and on the stream); **on-dispatch issue** requests a column when it is dispatched and chains
bursts (``s_k = free`` when requested in time, else ``q_k + restart bubble``); **cut-through**
lets a PE start on a column's first beat and finish after its last.

Leaves out: refresh, SRAM write traffic, partial-word merging across columns, and reordering of
events to avoid conflicts (events are served in queue order).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# slots of the ``stats`` array returned by :func:`pe_phases`
S_EVENTS = 0
S_MACS = 1
S_WEIGHT_BITS = 2
S_METADATA_BITS = 3
S_DRAM_BYTES = 4
S_FIFO_FULL = 5        # dispatcher cycles blocked by PE FIFO credits
S_DRAM_DATA = 6        # cycles columns waited for their DRAM bursts beyond the SRAM path
S_BANK_CONFLICT = 7    # sum over events of max_b words - ceil(total words / banks)
S_LOAD_IMBALANCE = 8   # sum over phases of max_p busy_p - ceil(sum_p busy_p / P)
S_BUSY = 9             # sum of phase durations
S_MAC_CYCLES = 10      # sum over PEs of cycles spent issuing MACs
N_STATS = 11


def plain_mechanisms(n_cols: int) -> tuple:
    """The trailing arguments of :func:`pe_phase` with every delta-design mechanism off (for
    callers that cost a plain batch of columns)."""
    return (np.zeros(0, np.int64), 0, int(n_cols), 0, False, 0, False)


@njit(cache=True)
def pe_phase(cols, bank_words, pe_work, nnz_weight_bits, metadata_bits, dram_bytes, dram_cycles,
             conflict, events_per_cycle, pointer_read_cycles, read_latency_cycles, fifo_depth,
             mac_lanes, mac_latency_cycles, dram_latency_cycles, stats, pe_total, bank_total,
             scan_visible, floor_cycles, n_real_cols, marker_cycles, on_dispatch,
             restart_bubble_cycles, cut_through):
    """One batch (phase) of entries ``cols``; returns (duration, dram_hold) in cycles and adds
    its action counts into ``stats``, per-PE MACs into ``pe_total`` and per-bank word reads
    into ``bank_total``.

    Delta-design mechanisms (all off by default): ``scan_visible[c]`` (empty: no scan) is the
    cycle the dispatcher can first see column ``c``; the phase lasts at least ``floor_cycles``.
    Entries ``c >= n_real_cols`` are end markers: no weights, ``marker_cycles`` on every PE (and
    stream slots when ``on_dispatch``). ``on_dispatch``: a column is requested when dispatched
    and bursts chain; ``cut_through``: PEs consume a streamed column's beats as they arrive."""
    n = cols.shape[0]
    if n == 0:
        stats[S_BUSY] += floor_cycles
        return floor_cycles, 0
    n_banks = bank_words.shape[1]
    n_pes = pe_work.shape[1]
    E = events_per_cycle
    F = fifo_depth
    has_scan = scan_visible.shape[0] > 0
    bank_free = np.zeros(n_banks, dtype=np.int64)
    fin_ring = np.zeros((n_pes, F), dtype=np.int64)   # fin of the last F items per PE
    items = np.zeros(n_pes, dtype=np.int64)
    last_fin = np.zeros(n_pes, dtype=np.int64)
    busy = np.zeros(n_pes, dtype=np.int64)
    a_ring = np.zeros(E, dtype=np.int64)
    a_prev = 0
    dram_t = dram_latency_cycles
    stream_free = 0           # on_dispatch: the cycle after the stream's last slot so far
    any_dram = False
    n_columns = 0
    ready_max = 0
    for k in range(n):
        c = cols[k]
        marker = c >= n_real_cols
        # dispatcher: in order, at most E per cycle, not before the scan reached it, then credits
        base = a_prev
        if k >= E:
            lim = a_ring[k % E] + 1
            if lim > base:
                base = lim
        if has_scan and scan_visible[c] > base:
            base = scan_visible[c]
        a = base
        for p in range(n_pes):
            if items[p] >= F and (marker or pe_work[c, p] > 0):
                f = fin_ring[p, items[p] % F]
                if f > a:
                    a = f
        stats[S_FIFO_FULL] += a - base
        a_prev = a
        a_ring[k % E] = a
        elig = a + pointer_read_cycles
        done = elig
        streamed = False
        first = 0                 # first stream slot of a streamed entry
        if marker:
            if on_dispatch:
                streamed = True
                s = stream_free if elig <= stream_free else elig + restart_bubble_cycles
                first = s
                stream_free = s + marker_cycles
                done = stream_free
        else:
            n_columns += 1
            # weight fetch: pointer, banks, DRAM
            for b in range(n_banks):
                w = bank_words[c, b]
                if w > 0:
                    bank_total[b] += w
                    s = bank_free[b]
                    if elig > s:
                        s = elig
                    bank_free[b] = s + w
                    if s + w > done:
                        done = s + w
            if dram_cycles[c] > 0:
                any_dram = True
                streamed = True
                if on_dispatch:
                    q = elig + dram_latency_cycles
                    s = stream_free if q <= stream_free else q + restart_bubble_cycles
                    first = s
                    stream_free = s + dram_cycles[c]
                    dram_t = stream_free
                else:
                    dram_t += dram_cycles[c]
                    first = dram_t - dram_cycles[c]
                if dram_t > done:
                    stats[S_DRAM_DATA] += dram_t - done
                    done = dram_t
            stats[S_WEIGHT_BITS] += nnz_weight_bits[c]
            stats[S_METADATA_BITS] += metadata_bits[c]
            stats[S_DRAM_BYTES] += dram_bytes[c]
            stats[S_BANK_CONFLICT] += conflict[c]
        ready = done + read_latency_cycles
        if ready > ready_max:
            ready_max = ready
        early = ready             # earliest start of a PE item
        if cut_through and streamed:
            early = (first if first > elig else elig) + read_latency_cycles
        # PEs
        if marker:
            for p in range(n_pes):
                s = last_fin[p]
                if early > s:
                    s = early
                f = s + marker_cycles
                if f < ready:     # cut-through: the last cycle follows the last beat
                    f = ready
                last_fin[p] = f
                fin_ring[p, items[p] % F] = f
                items[p] += 1
            continue
        for p in range(n_pes):
            w = pe_work[c, p]
            if w > 0:
                s = last_fin[p]
                if early > s:
                    s = early
                cyc = (w + mac_lanes - 1) // mac_lanes
                f = s + cyc
                if f < ready:     # cut-through: the last cycle follows the last beat
                    f = ready
                last_fin[p] = f
                fin_ring[p, items[p] % F] = f
                items[p] += 1
                busy[p] += cyc
                pe_total[p] += w
                stats[S_MACS] += w
    end = ready_max
    if floor_cycles > end:
        end = floor_cycles
    bmax = 0
    bsum = 0
    for p in range(n_pes):
        if items[p] > 0 and last_fin[p] + mac_latency_cycles > end:
            end = last_fin[p] + mac_latency_cycles
        bsum += busy[p]
        if busy[p] > bmax:
            bmax = busy[p]
    stats[S_LOAD_IMBALANCE] += bmax - (bsum + n_pes - 1) // n_pes
    stats[S_MAC_CYCLES] += bsum
    stats[S_EVENTS] += n_columns
    stats[S_BUSY] += end
    # the channel is held until its last slot (a trailing marker's included); a phase that
    # streams no column does not request it
    hold = 0
    if any_dram:
        hold = stream_free if on_dispatch else dram_t
    return end, hold


@njit(cache=True)
def pe_phases(step_ptr, step_units, col_offset, dense_cols, bank_words, pe_work, weight_bits,
              metadata_bits, dram_bytes, dram_cycles, conflict, events_per_cycle,
              pointer_read_cycles, read_latency_cycles, fifo_depth, mac_lanes, mac_latency_cycles,
              dram_latency_cycles, scan_visible, floor_cycles, n_real_cols, marker_cycles,
              on_dispatch, restart_bubble_cycles, cut_through):
    """All T phases of one kind of one cluster. Step ``t`` reads columns ``col_offset + u`` for
    the units ``step_units[step_ptr[t]:step_ptr[t+1]]`` or, when ``dense_cols > 0`` (activity
    skipping off), the columns ``col_offset .. col_offset + dense_cols - 1``.

    Returns (duration[T], dram_hold[T], stats[N_STATS], pe_macs[P], bank_words_read[B])."""
    T = step_ptr.shape[0] - 1
    dur = np.zeros(T, dtype=np.int64)
    hold = np.zeros(T, dtype=np.int64)
    stats = np.zeros(N_STATS, dtype=np.int64)
    pe_total = np.zeros(pe_work.shape[1], dtype=np.int64)
    bank_total = np.zeros(bank_words.shape[1], dtype=np.int64)
    if dense_cols > 0 and T > 0:
        # The same columns every step: one batch costs the same whatever step it is, so it is
        # computed once and its counts scaled by T (exact, and it keeps the cost per event).
        cols = np.arange(col_offset, col_offset + dense_cols).astype(np.int64)
        d, h = pe_phase(cols, bank_words, pe_work, weight_bits, metadata_bits, dram_bytes,
                        dram_cycles, conflict, events_per_cycle, pointer_read_cycles,
                        read_latency_cycles, fifo_depth, mac_lanes, mac_latency_cycles,
                        dram_latency_cycles, stats, pe_total, bank_total, scan_visible,
                        floor_cycles, n_real_cols, marker_cycles, on_dispatch,
                        restart_bubble_cycles, cut_through)
        dur[:] = d
        hold[:] = h
        for i in range(N_STATS):
            stats[i] *= T
        for p in range(pe_total.shape[0]):
            pe_total[p] *= T
        for b in range(bank_total.shape[0]):
            bank_total[b] *= T
        return dur, hold, stats, pe_total, bank_total
    cols = np.empty(0, dtype=np.int64)
    for t in range(T):
        lo = step_ptr[t]
        hi = step_ptr[t + 1]
        cols = np.empty(hi - lo, dtype=np.int64)
        for i in range(hi - lo):
            cols[i] = col_offset + step_units[lo + i]
        d, h = pe_phase(cols, bank_words, pe_work, weight_bits, metadata_bits, dram_bytes,
                        dram_cycles, conflict, events_per_cycle, pointer_read_cycles,
                        read_latency_cycles, fifo_depth, mac_lanes, mac_latency_cycles,
                        dram_latency_cycles, stats, pe_total, bank_total, scan_visible,
                        floor_cycles, n_real_cols, marker_cycles, on_dispatch,
                        restart_bubble_cycles, cut_through)
        dur[t] = d
        hold[t] = h
    return dur, hold, stats, pe_total, bank_total
