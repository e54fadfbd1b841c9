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
- **bounded DRAM path** (``dram.staging_buffer_bytes``, ``dram.max_outstanding``; unbounded by
  default): column ``k`` is requested (in order) at ``q_k``, not before ``q_{k-1}``, not before
  the request ``max_outstanding`` earlier has arrived, and not before its bytes fit in the
  staging buffer beside the requested columns not yet consumed (a column's room is free from
  ``max(ready_k, max_p fin_{p,k})``); its data can flow from ``q_k + latency``. With burst
  arbitration (``dram.arbitration: burst``) :func:`phase_run` stops at each streamed column and
  the channel, shared with other clusters, says when its slots were granted.

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

from accelsim.units.update_unit import encoder_push

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
    """The trailing arguments of :func:`pe_phase` with every delta-design mechanism off and an
    unbounded DRAM path (for callers that cost a plain batch of columns)."""
    return (np.zeros(0, np.int64), 0, int(n_cols), 0, False, 0, False, 0, 0)


# slots of the scalar state of a phase (``sc`` of :func:`phase_run`)
_K = 0            # next entry to process
_WAIT = 1         # 1: suspended, entry _K waits for the shared channel
_A_PREV = 2
_STREAM_FREE = 3  # the cycle after the stream's last slot so far (the previous entry's done)
_ANY_DRAM = 4
_N_COLUMNS = 5
_READY_MAX = 6
_Q_PREV = 7       # cycle the previous column was requested
_OCC = 8          # staging buffer: bytes of requested columns not yet consumed
_HEAP_N = 9       # staging buffer: columns in the heap of consumption times
_N_REQ = 10       # columns requested so far
_H_ELIG = 11      # suspended entry: eligible (a + pointer read)
_H_DONE = 12      # suspended entry: done of its SRAM path
HEAD_S = 13       # suspended entry: the first cycle its data can be on the channel
HEAD_D = 14       # suspended entry: its channel cycles
END = 15          # finished: the phase's duration
HOLD = 16         # finished: the cycle after its last stream slot (0: nothing streamed)
ARRIVE_WAIT = 17  # streaming events: dispatcher cycles spent waiting for an event to arrive
N_STATE = 18



@njit(cache=True)
def scratch_size(n_pes: int, n_banks: int, fifo_depth: int, events_per_cycle: int, n: int,
                 staging_bytes: int, max_outstanding: int) -> int:
    """Length of the ``ar`` scratch array :func:`phase_run` needs for a batch of ``n`` entries."""
    size = n_banks + n_pes * fifo_depth + 3 * n_pes + events_per_cycle
    if staging_bytes > 0:
        size += 2 * n
    if max_outstanding > 0:
        size += min(max_outstanding, n)
    return size


@njit(cache=True)
def _heap_push(ht, hb, n, t, b):
    """Push (t, b) on the binary min-heap (on t) of ``n`` items in ``ht``/``hb``; returns n + 1."""
    i = n
    ht[i] = t
    hb[i] = b
    while i > 0:
        p = (i - 1) >> 1
        if ht[p] <= ht[i]:
            break
        ht[p], ht[i] = ht[i], ht[p]
        hb[p], hb[i] = hb[i], hb[p]
        i = p
    return n + 1


@njit(cache=True)
def _heap_pop(ht, hb, n):
    """Remove the root of the heap of ``n`` items; returns n - 1."""
    n -= 1
    ht[0] = ht[n]
    hb[0] = hb[n]
    i = 0
    while True:
        l = 2 * i + 1
        if l >= n:
            break
        m = l
        if l + 1 < n and ht[l + 1] < ht[l]:
            m = l + 1
        if ht[i] <= ht[m]:
            break
        ht[m], ht[i] = ht[i], ht[m]
        hb[m], hb[i] = hb[i], hb[m]
        i = m
    return n


@njit(cache=True)
def pe_phase(cols, bank_words, pe_work, nnz_weight_bits, metadata_bits, dram_bytes, dram_cycles,
             conflict, events_per_cycle, pointer_read_cycles, read_latency_cycles, fifo_depth,
             mac_lanes, mac_latency_cycles, dram_latency_cycles, stats, pe_total, bank_total,
             scan_visible, floor_cycles, n_real_cols, marker_cycles, on_dispatch,
             restart_bubble_cycles, cut_through, staging_bytes, max_outstanding):
    """One batch (phase) of entries ``cols`` with the DRAM channel to itself; returns
    (duration, dram_hold) in cycles and adds its action counts into ``stats``, per-PE MACs into
    ``pe_total`` and per-bank word reads into ``bank_total``.

    Delta-design mechanisms (all off by default): ``scan_visible[c]`` (empty: no scan) is the
    cycle the dispatcher can first see column ``c``; the phase lasts at least ``floor_cycles``.
    Entries ``c >= n_real_cols`` are end markers: no weights, ``marker_cycles`` on every PE (and
    stream slots when ``on_dispatch``). ``on_dispatch``: a column is requested when dispatched
    and bursts chain; ``cut_through``: PEs consume a streamed column's beats as they arrive.
    Bounded DRAM path (0: unbounded): ``staging_bytes`` of staging buffer (a column is requested
    only when its bytes fit beside the columns not yet consumed), at most ``max_outstanding``
    columns requested and not yet arrived."""
    none = np.zeros(0, dtype=np.int64)   # the events come in one batch
    sc = _alone(cols, bank_words, pe_work, nnz_weight_bits, metadata_bits, dram_bytes, dram_cycles,
                conflict, events_per_cycle, pointer_read_cycles, read_latency_cycles, fifo_depth,
                mac_lanes, mac_latency_cycles, dram_latency_cycles, stats, pe_total, bank_total,
                scan_visible, floor_cycles, n_real_cols, marker_cycles, on_dispatch,
                restart_bubble_cycles, cut_through, staging_bytes, max_outstanding, none, 0, none,
                1, 1, 0, none)
    return sc[END], sc[HOLD]


@njit(cache=True)
def _alone(cols, bank_words, pe_work, nnz_weight_bits, metadata_bits, dram_bytes, dram_cycles,
           conflict, events_per_cycle, pointer_read_cycles, read_latency_cycles, fifo_depth,
           mac_lanes, mac_latency_cycles, dram_latency_cycles, stats, pe_total, bank_total,
           scan_visible, floor_cycles, n_real_cols, marker_cycles, on_dispatch,
           restart_bubble_cycles, cut_through, staging_bytes, max_outstanding, push, push_known,
           prod_base, enc_rate, queue_depth, lanes_end, pops):
    """:func:`phase_run` from start to end with the channel to itself; returns its state."""
    sc = np.zeros(N_STATE, dtype=np.int64)
    ar = np.zeros(scratch_size(pe_work.shape[1], bank_words.shape[1], fifo_depth,
                               events_per_cycle, cols.shape[0], staging_bytes, max_outstanding),
                  dtype=np.int64)
    phase_run(cols, bank_words, pe_work, nnz_weight_bits, metadata_bits, dram_bytes, dram_cycles,
              conflict, events_per_cycle, pointer_read_cycles, read_latency_cycles, fifo_depth,
              mac_lanes, mac_latency_cycles, dram_latency_cycles, stats, pe_total, bank_total,
              scan_visible, floor_cycles, n_real_cols, marker_cycles, on_dispatch,
              restart_bubble_cycles, cut_through, staging_bytes, max_outstanding, False, sc, ar,
              0, 0, push, push_known, prod_base, enc_rate, queue_depth, lanes_end, pops)
    return sc


@njit(cache=True)
def stream_phase(cols, bank_words, pe_work, nnz_weight_bits, metadata_bits, dram_bytes,
                 dram_cycles, conflict, events_per_cycle, pointer_read_cycles, read_latency_cycles,
                 fifo_depth, mac_lanes, mac_latency_cycles, dram_latency_cycles, stats, pe_total,
                 bank_total, on_dispatch, restart_bubble_cycles, cut_through, staging_bytes,
                 max_outstanding, push, push_known, prod_base, enc_rate, queue_depth, lanes_end,
                 pops):
    """One batch whose entries are events streamed by the previous layer's encoder (streaming
    events; ``event_queue.streaming``), with the DRAM channel to itself. Times relative to the
    phase start. Entry ``k`` is the event the encoder pushes at ``push[k]`` (known for
    ``k < push_known``); the dispatcher may pop it from ``push[k] + 1``. The encoder pushes the
    rest as the recurrence of :func:`accelsim.units.update_unit.encoder_push` says, from the
    unit's result ``prod_base[k]``, at most ``enc_rate`` per cycle, and only into a free slot of
    the ``queue_depth``-event queue: event ``k`` takes the slot of event ``k - queue_depth``,
    free the cycle after that event's pop (the caller knows the pushes of the first
    ``min(n, queue_depth)`` events: their slots were freed by earlier steps' pops). Fills
    ``push`` and the pops ``pops``; the phase lasts at least until the encoder's step ends,
    ``max(lanes_end, push[n-1] + 1)``. Returns (duration, dram_hold, cycles the dispatcher
    waited for events to arrive)."""
    sc = _alone(cols, bank_words, pe_work, nnz_weight_bits, metadata_bits, dram_bytes, dram_cycles,
                conflict, events_per_cycle, pointer_read_cycles, read_latency_cycles, fifo_depth,
                mac_lanes, mac_latency_cycles, dram_latency_cycles, stats, pe_total, bank_total,
                np.zeros(0, dtype=np.int64), 0, bank_words.shape[0], 0, on_dispatch,
                restart_bubble_cycles, cut_through, staging_bytes, max_outstanding, push,
                push_known, prod_base, enc_rate, queue_depth, lanes_end, pops)
    return sc[END], sc[HOLD], sc[ARRIVE_WAIT]


@njit(cache=True)
def phase_run(cols, bank_words, pe_work, nnz_weight_bits, metadata_bits, dram_bytes, dram_cycles,
              conflict, events_per_cycle, pointer_read_cycles, read_latency_cycles, fifo_depth,
              mac_lanes, mac_latency_cycles, dram_latency_cycles, stats, pe_total, bank_total,
              scan_visible, floor_cycles, n_real_cols, marker_cycles, on_dispatch,
              restart_bubble_cycles, cut_through, staging_bytes, max_outstanding, shared, sc, ar,
              first_in, done_in, push, push_known, prod_base, enc_rate, queue_depth, lanes_end,
              pops):
    """The body of :func:`pe_phase`, resumable. ``sc`` (``N_STATE`` zeros at the start) and
    ``ar`` (``scratch_size`` zeros) hold the phase's state between calls.

    ``shared`` false: the channel serves this phase alone, a column's slots follow its first
    possible slot back to back; runs to the end, returns 0 with ``sc[END]``, ``sc[HOLD]``.
    ``shared`` true (burst arbitration): at each streamed column it stops and returns 1 with
    ``sc[HEAD_S]`` (its first possible slot) and ``sc[HEAD_D]`` (its channel cycles); the caller
    grants the slots and calls again with ``first_in`` (its first granted slot) and ``done_in``
    (the cycle after its last). End markers never wait for the channel (their slots are the
    cluster's own stream). Times are relative to the phase start.

    Streaming events (``push`` not empty; see :func:`stream_phase`): entry ``k`` cannot be popped
    before ``push[k] + 1`` (the pushes not yet known are computed here, as the encoder would
    make them) nor requested from DRAM before then; ``pops`` receives each entry's pop."""
    n = cols.shape[0]
    streaming = push.shape[0] > 0
    if n == 0:
        stats[S_BUSY] += floor_cycles
        sc[END] = floor_cycles
        sc[HOLD] = 0
        return 0
    n_banks = bank_words.shape[1]
    n_pes = pe_work.shape[1]
    E = events_per_cycle
    F = fifo_depth
    has_scan = scan_visible.shape[0] > 0
    o = 0
    bank_free = ar[o:o + n_banks]
    o += n_banks
    fin_ring = ar[o:o + n_pes * F]        # fin of the last F items per PE: [p * F + slot]
    o += n_pes * F
    items = ar[o:o + n_pes]
    o += n_pes
    last_fin = ar[o:o + n_pes]
    o += n_pes
    busy = ar[o:o + n_pes]
    o += n_pes
    a_ring = ar[o:o + E]
    o += E
    nh = n if staging_bytes > 0 else 0
    heap_t = ar[o:o + nh]                 # consumption cycle of each column in the buffer
    o += nh
    heap_b = ar[o:o + nh]                 # ... and its bytes
    o += nh
    nr = 0
    if max_outstanding > 0:
        nr = max_outstanding if max_outstanding < n else n
    done_ring = ar[o:o + nr]              # done of the last max_outstanding requests
    k = sc[_K]
    resume = sc[_WAIT] != 0
    a_prev = sc[_A_PREV]
    stream_free = sc[_STREAM_FREE]
    any_dram = sc[_ANY_DRAM] != 0
    n_columns = sc[_N_COLUMNS]
    ready_max = sc[_READY_MAX]
    q_prev = sc[_Q_PREV]
    occ = sc[_OCC]
    heap_n = sc[_HEAP_N]
    n_req = sc[_N_REQ]
    while k < n:
        c = cols[k]
        marker = c >= n_real_cols
        streamed = False
        first = 0                 # first stream slot of a streamed entry
        sdone = 0                 # the cycle after its last stream slot
        if resume:
            resume = False
            elig = sc[_H_ELIG]
            done = sc[_H_DONE]
            streamed = True
            first = first_in
            sdone = done_in
        else:
            # dispatcher: in order, at most E per cycle, not before the scan reached it, then credits
            base = a_prev
            if k >= E:
                lim = a_ring[k % E] + 1
                if lim > base:
                    base = lim
            if has_scan and scan_visible[c] > base:
                base = scan_visible[c]
            arrive = 0
            if streaming:
                if k >= push_known:   # (k >= queue_depth: see stream_phase)
                    push[k] = encoder_push(push, k, enc_rate, prod_base[k],
                                           pops[k - queue_depth] + 1)
                arrive = push[k] + 1
                if arrive > base:
                    sc[ARRIVE_WAIT] += arrive - base
                    base = arrive
            a = base
            for p in range(n_pes):
                if items[p] >= F and (marker or pe_work[c, p] > 0):
                    f = fin_ring[p * F + items[p] % F]
                    if f > a:
                        a = f
            stats[S_FIFO_FULL] += a - base
            a_prev = a
            a_ring[k % E] = a
            if streaming:
                pops[k] = a
            elig = a + pointer_read_cycles
            done = elig
            if marker:
                if on_dispatch:
                    streamed = True
                    s = stream_free if elig <= stream_free else elig + restart_bubble_cycles
                    first = s
                    sdone = s + marker_cycles
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
                stats[S_WEIGHT_BITS] += nnz_weight_bits[c]
                stats[S_METADATA_BITS] += metadata_bits[c]
                stats[S_DRAM_BYTES] += dram_bytes[c]
                stats[S_BANK_CONFLICT] += conflict[c]
                if dram_cycles[c] > 0:
                    any_dram = True
                    streamed = True
                    # the request: in order, not before the dispatcher popped it (on_dispatch),
                    # not while max_outstanding earlier requests wait for data, not before its
                    # bytes fit in the staging buffer beside the columns not yet consumed
                    q = elig if on_dispatch else arrive   # the column is known once it arrived
                    if q < q_prev:
                        q = q_prev
                    if nr > 0 and n_req >= max_outstanding:
                        d = done_ring[n_req % max_outstanding]
                        if d > q:
                            q = d
                    if nh > 0:
                        nb = dram_bytes[c]
                        while heap_n > 0 and heap_t[0] <= q:
                            occ -= heap_b[0]
                            heap_n = _heap_pop(heap_t, heap_b, heap_n)
                        while occ + nb > staging_bytes and heap_n > 0:   # it fits an empty buffer
                            if heap_t[0] > q:
                                q = heap_t[0]
                            occ -= heap_b[0]
                            heap_n = _heap_pop(heap_t, heap_b, heap_n)
                        occ += nb
                    q_prev = q
                    n_req += 1
                    avail = q + dram_latency_cycles
                    if on_dispatch:   # chained behind the previous entry, else a restart
                        s = stream_free if avail <= stream_free else avail + restart_bubble_cycles
                    else:
                        s = avail if avail > stream_free else stream_free
                    if shared:
                        sc[_K] = k
                        sc[_WAIT] = 1
                        sc[_A_PREV] = a_prev
                        sc[_STREAM_FREE] = stream_free
                        sc[_ANY_DRAM] = 1
                        sc[_N_COLUMNS] = n_columns
                        sc[_READY_MAX] = ready_max
                        sc[_Q_PREV] = q_prev
                        sc[_OCC] = occ
                        sc[_HEAP_N] = heap_n
                        sc[_N_REQ] = n_req
                        sc[_H_ELIG] = elig
                        sc[_H_DONE] = done
                        sc[HEAD_S] = s
                        sc[HEAD_D] = dram_cycles[c]
                        return 1
                    first = s
                    sdone = s + dram_cycles[c]
        if streamed:
            stream_free = sdone
            if marker:
                done = sdone
            else:
                if nr > 0:
                    done_ring[(n_req - 1) % max_outstanding] = sdone
                if sdone > done:
                    stats[S_DRAM_DATA] += sdone - done
                    done = sdone
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
                fin_ring[p * F + items[p] % F] = f
                items[p] += 1
            k += 1
            continue
        consumed = ready          # the column's buffer room is free once its last MAC issued
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
                fin_ring[p * F + items[p] % F] = f
                items[p] += 1
                busy[p] += cyc
                pe_total[p] += w
                stats[S_MACS] += w
                if f > consumed:
                    consumed = f
        if nh > 0 and streamed:
            heap_n = _heap_push(heap_t, heap_b, heap_n, consumed, dram_bytes[c])
        k += 1
    end = ready_max
    if floor_cycles > end:
        end = floor_cycles
    if streaming:   # the step is over when the encoder says so
        if lanes_end > end:
            end = lanes_end
        if push[n - 1] + 1 > end:
            end = push[n - 1] + 1
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
        hold = stream_free
    sc[_K] = n
    sc[_WAIT] = 0
    sc[END] = end
    sc[HOLD] = hold
    return 0


@njit(cache=True)
def pe_phases(step_ptr, step_units, col_offset, dense_cols, bank_words, pe_work, weight_bits,
              metadata_bits, dram_bytes, dram_cycles, conflict, events_per_cycle,
              pointer_read_cycles, read_latency_cycles, fifo_depth, mac_lanes, mac_latency_cycles,
              dram_latency_cycles, scan_visible, floor_cycles, n_real_cols, marker_cycles,
              on_dispatch, restart_bubble_cycles, cut_through, staging_bytes, max_outstanding):
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
                        restart_bubble_cycles, cut_through, staging_bytes, max_outstanding)
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
                        restart_bubble_cycles, cut_through, staging_bytes, max_outstanding)
        dur[t] = d
        hold[t] = h
    return dur, hold, stats, pe_total, bank_total


# ---------------------------------------------------------------------------------------------
# Burst arbitration (``dram.arbitration: burst``): the DRAM channel shared by the clusters'
# streams, one burst at a time (accelsim.units.dram sizes a grant).

# columns of a cluster's channel state ``st[i]``
CH_ACT = 0        # 0: no phase on the channel, 1: its head column waits for slots, 2: phase just started
CH_T0 = 1         # the phase's start (absolute cycle)
CH_HS = 2         # head column: first cycle its data can be on the channel (absolute)
CH_LEFT = 3       # head column: channel cycles still to grant
CH_FIRST = 4      # head column: first granted cycle (-1: none yet)
CH_SINCE = 5      # cycle from which the head waits for its next grant
CH_CONT = 6       # dram_contention: cycles a waiting head lost to other clusters' grants
CH_ENDED = 7      # the phase's end (absolute), set when it finished in this call (-1: not)
N_CH = 8


@njit(cache=True)
def _resume(i, first, done, st, cols_all, col_off, ncols, row_off, bank_words, pe_work,
            weight_bits, metadata_bits, dram_bytes, dram_cycles, conflict, sv_all, sv_off, sv_len,
            floor, n_real, params, stats, pe_total, bank_total, sc, ar):
    """Run cluster ``i``'s phase until its next column needs the channel or it ends; updates
    ``st[i]``. Returns the phase's absolute end when it ended, else -1."""
    r0 = row_off[i]
    r1 = row_off[i + 1]
    c0 = col_off[i]
    s0 = sv_off[i]
    status = phase_run(cols_all[c0:c0 + ncols[i]], bank_words[r0:r1], pe_work[r0:r1],
                       weight_bits[r0:r1], metadata_bits[r0:r1], dram_bytes[r0:r1],
                       dram_cycles[r0:r1], conflict[r0:r1], params[0], params[1], params[2],
                       params[3], params[4], params[5], params[6], stats[i], pe_total[i],
                       bank_total[i], sv_all[s0:s0 + sv_len[i]], floor[i], n_real[i], params[7],
                       params[8] != 0, params[9], params[10] != 0, params[11], params[12], True,
                       sc[i], ar[i], first, done, ar[i, :0], 0, ar[i, :0], 1, 1, 0, ar[i, :0])
    t0 = st[i, CH_T0]
    if status == 1:
        st[i, CH_ACT] = 1
        st[i, CH_HS] = t0 + sc[i, HEAD_S]
        st[i, CH_LEFT] = sc[i, HEAD_D]
        st[i, CH_FIRST] = -1
        st[i, CH_SINCE] = t0 + sc[i, HEAD_S]
        return -1
    st[i, CH_ACT] = 0
    st[i, CH_ENDED] = t0 + sc[i, END]
    return t0 + sc[i, END]


@njit(cache=True)
def channel_advance(limit, grant, st, ch, cols_all, col_off, ncols, row_off, bank_words, pe_work,
                    weight_bits, metadata_bits, dram_bytes, dram_cycles, conflict, sv_all, sv_off,
                    sv_len, floor, n_real, params, stats, pe_total, bank_total, sc, ar):
    """Grant the shared channel, one burst (``grant`` cycles, or what is left of the column) at a
    time, at every cycle before ``limit`` where it is free: round robin, from the cluster after
    the last one granted, among the clusters whose head column can be on the channel then.

    Phases with ``st[i, CH_ACT] == 2`` start first (their state ``sc[i]``/``ar[i]`` zeroed, their
    entries ``cols_all[col_off[i]:][:ncols[i]]``); a phase runs (``pe_array.phase_run``) until
    its next column needs the channel, and after that column's last grant it resumes. A phase
    that ends sets ``st[i, CH_ENDED]`` and lowers ``limit`` to its end (what follows it in the
    engine may bring new requests). Tables of cluster ``i``: rows ``row_off[i]:row_off[i+1]``.
    ``ch`` = [the cycle the channel is free, the last cluster granted]. Returns the limit: no
    grant was decided at or after it."""
    C = st.shape[0]
    for i in range(C):
        st[i, CH_ENDED] = -1
    for i in range(C):
        if st[i, CH_ACT] == 2:
            e = _resume(i, 0, 0, st, cols_all, col_off, ncols, row_off, bank_words, pe_work,
                        weight_bits, metadata_bits, dram_bytes, dram_cycles, conflict, sv_all,
                        sv_off, sv_len, floor, n_real, params, stats, pe_total, bank_total, sc, ar)
            if e >= 0 and e < limit:
                limit = e
    while True:
        t = -1
        for i in range(C):
            if st[i, CH_ACT] == 1 and (t < 0 or st[i, CH_HS] < t):
                t = st[i, CH_HS]
        if t < 0:
            break
        if ch[0] > t:
            t = ch[0]
        if t >= limit:
            break
        j = -1
        for d in range(1, C + 1):
            i = (ch[1] + d) % C
            if st[i, CH_ACT] == 1 and st[i, CH_HS] <= t:
                j = i
                break
        g = grant if grant < st[j, CH_LEFT] else st[j, CH_LEFT]
        st[j, CH_CONT] += t - st[j, CH_SINCE]
        if st[j, CH_FIRST] < 0:
            st[j, CH_FIRST] = t
        st[j, CH_LEFT] -= g
        ch[0] = t + g
        ch[1] = j
        if st[j, CH_LEFT] > 0:
            st[j, CH_SINCE] = t + g
            continue
        t0 = st[j, CH_T0]
        e = _resume(j, st[j, CH_FIRST] - t0, t + g - t0, st, cols_all, col_off, ncols, row_off,
                    bank_words, pe_work, weight_bits, metadata_bits, dram_bytes, dram_cycles,
                    conflict, sv_all, sv_off, sv_len, floor, n_real, params, stats, pe_total,
                    bank_total, sc, ar)
        if e >= 0 and e < limit:
            limit = e
    return limit
