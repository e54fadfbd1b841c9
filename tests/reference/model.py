"""Cycle-stepped reference model: deliberately simple, slow and independent of the fast engine.

It re-derives every per-column cost from the dense weight matrix with plain loops, then ticks one
clock cycle at a time: inside a PE-array phase (dispatcher, bank queues, DRAM stream, PE FIFOs
and lanes), inside an update phase (lane groups and encoder), and globally (clusters, event
queues, the DRAM arbiter and, in temporal mapping, the shared cluster). The fast engine must
agree with it exactly on cycles and every count.

The delta-design mechanisms (docs/architecture.md, last section) are ticked the same way: the
entries of a phase (bias column, v2 column sets, end markers) and the cycle the event scan makes
each visible come from :meth:`Reference.plan`; the weight stream serves one slot per cycle
(``bandwidth x stream_efficiency`` bytes, exact Fractions; phase-start or on-dispatch requests
with chaining and restart bubble); cut-through PEs start on an entry's first beat and hold its
last cycle until its last beat; the phase lasts at least the scan floor. Choices the spec leaves
open: the decoder's phase has no scan, markers or bias (its columns come from the last layer's
events, not from a scanned vector); without ``bias_fires`` in the trace the bias column is never
read; with weights in SRAM there is no weight stream (markers take no stream slots).

The bounded DRAM path: a phase's columns are requested in order, each in the first cycle where
the staging buffer holds its bytes beside the requested columns whose last MAC has not issued
yet, and fewer than ``max_outstanding`` requests wait for data (both counted afresh every
cycle); its data flows ``latency_cycles`` later. With burst arbitration (spatial mapping) the
running phases tick together and :class:`RefChannel` hands each cycle's slot to one of them.
"""

from __future__ import annotations

import bisect
from collections import deque
from fractions import Fraction

import numpy as np


def _cdiv(a, b):
    return -(-a // b)


def _owner(layout, row, n_rows, n):
    if layout == "row_interleaved":
        return row % n
    return row // _cdiv(n_rows, n)


def _place(cfg, row, n_rows, n):
    """Owner (PE or bank, among n) of a row: the layout over rows, or, nm, over its groups."""
    if cfg.weight_format == "nm":
        return _owner(cfg.layout, row // cfg.nm_m, _cdiv(n_rows, cfg.nm_m), n)
    return _owner(cfg.layout, row, n_rows, n)


def ref_column(cfg, column):
    """One column (a list of row values) as the configured format stores it, by loops over rows:
    (value words per bank, metadata words per bank, MACs per PE with skip_weights on, payload
    bits in DRAM)."""
    n_rows = len(column)
    P, B = cfg.pe.count, cfg.weight_sram.banks
    width = cfg.weight_sram.bank_width_bits
    wb, ib = cfg.precision.weight_bits, cfg.precision.index_bits
    fmt = cfg.weight_format
    vpw, ipw = width // wb, width // ib
    bank_rows = [[] for _ in range(B)]          # each bank's rows, in order
    for i in range(n_rows):
        bank_rows[_place(cfg, i, n_rows, B)].append(i)
    val = [0] * B
    meta = [0] * B
    work = [0] * P
    bits = 0
    if fmt == "nm":
        N, M = cfg.nm_n, cfg.nm_m
        pos_bits = 0
        while (1 << pos_bits) < M:
            pos_bits += 1
        stored_b = [0] * B
        for g in range(_cdiv(n_rows, M)):
            group = list(range(g * M, min(g * M + M, n_rows)))
            nz = sum(1 for i in group if column[i] != 0)
            if nz > N:
                raise ValueError(f"group {g} holds {nz} nonzeros, more than {N}")
            keep = min(N, len(group))              # N values per group, zeros fill
            stored_b[_place(cfg, group[0], n_rows, B)] += keep
            work[_place(cfg, group[0], n_rows, P)] += keep
            bits += keep * (wb + pos_bits)
        for b in range(B):
            val[b] = _cdiv(stored_b[b], vpw)
            meta[b] = _cdiv(stored_b[b], width // pos_bits) if pos_bits else 0
        return val, meta, work, bits
    nnz = 0
    for b in range(B):
        nz = 0
        if fmt == "csc_relative":
            # walk the bank's rows: a zero row after 2^ib - 1 skipped zeros is a padding entry,
            # kept only if a nonzero follows in this bank
            run, pending = 0, []
            for i in bank_rows[b]:
                if column[i] != 0:
                    for r in pending:
                        work[_place(cfg, r, n_rows, P)] += 1
                    nz += len(pending) + 1
                    work[_place(cfg, i, n_rows, P)] += 1
                    run, pending = 0, []
                elif run == (1 << ib) - 1:
                    pending.append(i)
                    run = 0
                else:
                    run += 1
            val[b] = _cdiv(nz, vpw)
            meta[b] = _cdiv(nz, ipw)
            bits += nz * (wb + ib)
            continue
        for i in bank_rows[b]:
            if column[i] != 0:
                nz += 1
                work[_place(cfg, i, n_rows, P)] += 1
        if fmt == "dense":
            val[b] = _cdiv(len(bank_rows[b]), vpw)
        elif fmt == "csc":
            val[b] = _cdiv(nz, vpw)
            meta[b] = _cdiv(nz, ipw)
        else:
            val[b] = _cdiv(nz, vpw)
            meta[b] = _cdiv(len(bank_rows[b]), width)
        nnz += nz
    if fmt == "csc_relative":
        return val, meta, work, bits
    bits = {"dense": n_rows * wb, "csc": nnz * (wb + ib), "bitmap": n_rows + nnz * wb}[fmt]
    return val, meta, work, bits


REF_POINTER_BITS = {"dense": 0, "csc": 2, "bitmap": 1, "csc_relative": 2, "nm": 0}  # x index_bits


class RefColumns:
    """Per-column costs from a dense matrix, by loops over rows."""

    def __init__(self, cfg, dense):
        self.cfg = cfg
        n_rows, n_cols = dense.shape
        P, B = cfg.pe.count, cfg.weight_sram.banks
        self.val_words = np.zeros((n_cols, B), int)
        self.meta_words = np.zeros((n_cols, B), int)
        self.work = np.zeros((n_cols, P), int)
        self.dram_bytes = np.zeros(n_cols, int)
        self.ptr_bits = REF_POINTER_BITS[cfg.weight_format] * cfg.precision.index_bits
        for j in range(n_cols):
            val, meta, work, bits = ref_column(cfg, [dense[i, j] for i in range(n_rows)])
            for b in range(B):
                self.val_words[j, b] = val[b]
                self.meta_words[j, b] = meta[b]
            for p in range(P):
                self.work[j, p] = work[p]
            if not cfg.skip_weights:             # every row of the column is a MAC
                for p in range(P):
                    self.work[j, p] = 0
                for i in range(n_rows):
                    self.work[j, _place(cfg, i, n_rows, P)] += 1
            if cfg.weight_storage == "dram":
                nbytes = _cdiv(bits, 8)
                burst = cfg.dram.burst_bytes
                self.dram_bytes[j] = _cdiv(nbytes, burst) * burst
        if cfg.weight_storage == "dram":
            self.val_words[:] = 0
            self.meta_words[:] = 0


def _stream_rate(cfg):
    """Bytes the weight stream delivers per slot, exactly: bandwidth x stream_efficiency as a
    Fraction of the efficiency's decimal spelling (0.5 -> 1/2, 0.1 -> 1/10), so a column of
    ``bytes`` takes ceil(bytes / (bandwidth x f)) slots with no float rounding."""
    return cfg.dram.bandwidth_bytes_per_cycle * Fraction(str(cfg.dram.stream_efficiency))


def _grant_slots(cfg):
    """Cycles one grant of the shared channel covers (burst arbitration): the slots one burst
    needs at the stream's rate, at least one."""
    rate = _stream_rate(cfg)
    slots, left = 0, Fraction(cfg.dram.burst_bytes)
    while left > 0:
        left -= rate
        slots += 1
    return slots


class RefPhase:
    """One PE-array phase ticked one cycle at a time. ``entries`` = [(column or None for an end
    marker, cycle from which the dispatcher may pop it)], in order; ``floor`` = the phase's
    minimum length (event scan).

    Each cycle is two calls: :meth:`pre` (dispatcher, DRAM requests, the head column's first
    possible slot; returns whether the head column can take a channel slot this cycle) and
    :meth:`post` (the slot if ``granted``, banks, data ready, PEs; returns whether the head
    column received its last slot). With the channel to itself the head column takes every slot
    it can; with burst arbitration the shared channel decides. End markers on the stream never
    ask the channel (their slots are the cluster's own stream)."""

    def __init__(self, cfg, tab: RefColumns, entries, floor=0):
        self.cfg, self.tab, self.floor = cfg, tab, floor
        P, B = cfg.pe.count, cfg.weight_sram.banks
        streaming = cfg.weight_storage == "dram"
        self.on_dispatch = streaming and cfg.dram.issue == "on_dispatch"
        self.cut = streaming and cfg.dram.delivery == "cut_through"
        self.staging = (cfg.dram.staging_buffer_bytes or 0) if streaming else 0
        self.max_out = (cfg.dram.max_outstanding or 0) if streaming else 0
        self.rate = _stream_rate(cfg)
        self.st = dict(events=0, macs=0, weight_bits=0, metadata_bits=0, dram_bytes=0,
                       fifo_full=0, dram_data=0, bank_conflict=0, load_imbalance=0, busy=0,
                       mac_cycles=0)
        self.pe_macs = np.zeros(P, int)
        self.st["bank_words"] = np.zeros(B, int)
        n = self.n = len(entries)
        self.end = None
        self.hold = 0
        if n == 0:
            self.st["busy"] = floor
            self.end = floor
            return
        mk = cfg.event_scan.end_marker_cycles
        self.cols = cols = [e[0] for e in entries]
        self.visible = [e[1] for e in entries]
        self.fifo = [deque() for _ in range(P)]   # items [entry, remaining MACs (marker: cycles)]
        self.occ = [0] * P
        self.bankq = [deque() for _ in range(B)]  # requests [entry, remaining words]
        self.elig = [None] * n
        self.banks_left = [0] * n
        self.bank_done = [None] * n
        # the weight stream: which entries use it, what is left of each, its first slot and done
        self.in_stream = [(j is not None and tab.dram_bytes[j] > 0) or (j is None and self.on_dispatch)
                          for j in cols]
        self.left = [Fraction(int(tab.dram_bytes[j])) if j is not None else Fraction(mk) for j in cols]
        self.streamq = deque(k for k in range(n) if self.in_stream[k])
        # DRAM requests of the streamed columns, in order (markers are not DRAM requests)
        self.to_request = deque(k for k in range(n) if self.in_stream[k] and cols[k] is not None)
        self.req = [None] * n                     # cycle the entry is requested
        self.head_s = None                        # first cycle the head entry can take a slot
        self.first_slot = [None] * n
        self.done = [None] * n
        self.free = 0                             # cycle after the previous entry's last slot
        self.ready = [None] * n
        self.items_left = [0] * n                 # PE items of a column not finished yet
        self.freed = [None] * n                   # staging buffer: cycle a column's room is free
        self.busy = [0] * P
        # streaming events: arrived(k, c) says whether entry k's event is in the queue at
        # cycle c (None: the whole batch is there); on_pop(k, c) hears each pop
        self.arrived = None
        self.on_pop = None
        self.arrive_wait = 0
        self.nxt = 0
        self.last_pe = None
        self.last_done = 0
        self.c = 0
        for k, j in enumerate(cols):
            if j is None:
                continue
            if tab.dram_bytes[j] > 0:
                self.st["dram_bytes"] += tab.dram_bytes[j]
            words = tab.val_words[j] + tab.meta_words[j]
            self.st["bank_conflict"] += words.max() - _cdiv(words.sum(), B)

    def _head_is_column(self):
        return bool(self.streamq) and self.cols[self.streamq[0]] is not None

    def pre(self):
        cfg, tab, c, st = self.cfg, self.tab, self.c, self.st
        P, B = cfg.pe.count, cfg.weight_sram.banks
        F, E = cfg.pe.fifo_depth, cfg.dispatcher.events_per_cycle
        pr, L = cfg.dispatcher.pointer_read_cycles, cfg.dram.latency_cycles
        mk = cfg.event_scan.end_marker_cycles
        width = cfg.weight_sram.bank_width_bits
        cols = self.cols
        # dispatcher: in order, at most E per cycle, not before the scan made the entry
        # visible, and only with a free FIFO slot on every PE the entry gives work to
        sent = 0
        while self.nxt < self.n and sent < E:
            nxt = self.nxt
            if self.visible[nxt] > c:
                break
            if self.arrived is not None and not self.arrived(nxt, c):
                self.arrive_wait += 1
                break
            j = cols[nxt]
            targets = [p for p in range(P) if (tab.work[j, p] > 0 if j is not None else True)]
            if any(self.occ[p] >= F for p in targets):
                st["fifo_full"] += 1
                break
            for p in targets:
                self.occ[p] += 1
                self.fifo[p].append([nxt, tab.work[j, p] if j is not None else mk])
            self.elig[nxt] = c + pr
            if self.on_pop is not None:
                self.on_pop(nxt, c)
            if j is None:
                if self.in_stream[nxt]:
                    self.req[nxt] = c + pr        # a marker enters the stream when eligible
            else:
                self.items_left[nxt] = len(targets)
                for b in range(B):
                    w = tab.val_words[j, b] + tab.meta_words[j, b]
                    if w:
                        self.bankq[b].append([nxt, w])
                        self.banks_left[nxt] += 1
                st["weight_bits"] += tab.val_words[j].sum() * width
                st["metadata_bits"] += tab.meta_words[j].sum() * width + tab.ptr_bits
                st["events"] += 1
            self.nxt += 1
            sent += 1
        # DRAM requests, in order: phase_start from the phase start, on_dispatch once the
        # dispatcher handed the column over; at most max_outstanding requested and not arrived;
        # only when its bytes fit in the staging buffer beside the columns not yet consumed
        while self.to_request:
            k = self.to_request[0]
            if self.on_dispatch and (self.elig[k] is None or self.elig[k] > c):
                break
            if self.arrived is not None and not self.arrived(k, c):
                break                                # its column is known once it arrived
            if self.max_out:
                waiting = sum(1 for i in range(self.n) if self.req[i] is not None
                              and cols[i] is not None and (self.done[i] is None or self.done[i] > c))
                if waiting >= self.max_out:
                    break
            if self.staging:
                held = sum(int(tab.dram_bytes[cols[i]]) for i in range(self.n)
                           if self.req[i] is not None and cols[i] is not None
                           and (self.freed[i] is None or self.freed[i] > c))
                if held + int(tab.dram_bytes[cols[k]]) > self.staging:
                    break
            self.req[k] = c
            self.to_request.popleft()
        # the head entry: its first possible slot once it was requested (a column's data
        # follows its request by the latency), chained behind the previous entry's last slot
        # when requested by then (on_dispatch: else a restart from idle)
        if self.streamq and self.head_s is None:
            k = self.streamq[0]
            if self.req[k] is not None:
                r = self.req[k] + (L if cols[k] is not None else 0)
                if self.on_dispatch:
                    s = self.free if r <= self.free else r + self.cfg.dram.restart_bubble_cycles
                else:
                    s = max(r, self.free)
                assert s >= c, "stream start missed"
                self.head_s = s
        return self._head_is_column() and self.head_s is not None and self.head_s <= c

    def post(self, granted):
        cfg, tab, c, st = self.cfg, self.tab, self.c, self.st
        P, B, M = cfg.pe.count, cfg.weight_sram.banks, cfg.pe.mac_lanes
        rl, Lm = cfg.weight_sram.read_latency_cycles, cfg.pe.mac_latency_cycles
        cols = self.cols
        column_done = False
        # weight stream: one slot for the entry at its head (a column when granted)
        if self.streamq and self.head_s is not None and self.head_s <= c:
            k = self.streamq[0]
            if cols[k] is None or granted:
                if self.first_slot[k] is None:
                    self.first_slot[k] = c
                self.left[k] -= self.rate if cols[k] is not None else 1
                if self.left[k] <= 0:
                    self.done[k] = c + 1
                    self.free = c + 1
                    self.last_done = c + 1
                    self.streamq.popleft()
                    self.head_s = None
                    column_done = cols[k] is not None
        # banks
        for b in range(B):
            q = self.bankq[b]
            if q and self.elig[q[0][0]] <= c:
                q[0][1] -= 1
                st["bank_words"][b] += 1
                if q[0][1] == 0:
                    k = q.popleft()[0]
                    self.banks_left[k] -= 1
                    self.bank_done[k] = c + 1
        # data ready (store and forward; with cut-through it only sets the phase end)
        for k in range(self.nxt):
            if self.ready[k] is None and self.banks_left[k] == 0:
                if self.in_stream[k] and self.done[k] is None:
                    continue
                sram = max(self.elig[k], self.bank_done[k] or 0)
                d = self.done[k] if self.in_stream[k] else 0
                if d > sram and cols[k] is not None:
                    st["dram_data"] += d - sram
                self.ready[k] = max(sram, d) + rl
                if cols[k] is not None and self.items_left[k] == 0:
                    self.freed[k] = self.ready[k]    # no PE uses it: its room is free once read
        # PEs
        for p in range(P):
            if not self.fifo[p]:
                continue
            item = self.fifo[p][0]
            k = item[0]
            marker = cols[k] is None
            last_cycle = item[1] == 1 if marker else item[1] <= M
            if self.cut and self.in_stream[k]:
                # the first beat, read_latency after the entry's first slot, and not before the
                # dispatcher handed it over (eligible); the last cycle not before the entry's
                # last beat plus read_latency: fin >= ready = max(eligible, done) + rl
                go = (self.first_slot[k] is not None
                      and max(self.first_slot[k], self.elig[k]) + rl <= c)
                if go and last_cycle:
                    go = self.ready[k] is not None and self.ready[k] - 1 <= c
            else:
                go = self.ready[k] is not None and self.ready[k] <= c
            if not go:
                continue
            self.last_pe = c
            if marker:
                item[1] -= 1
            else:
                m = min(M, item[1])
                item[1] -= m
                st["macs"] += m
                self.pe_macs[p] += m
                self.busy[p] += 1
            if item[1] == 0:
                self.fifo[p].popleft()
                self.occ[p] -= 1     # the freed slot is usable from the next cycle
                if not marker:
                    self.items_left[k] -= 1
                    if self.items_left[k] == 0:
                        self.freed[k] = c + 1   # its last MAC issued: the room is free next cycle
        self.c += 1
        if (self.nxt == self.n and not any(self.fifo) and all(r is not None for r in self.ready)
                and not self.streamq):
            end = max(r for r in self.ready)
            if self.last_pe is not None:
                end = max(end, self.last_pe + 1 + Lm)
            self.end = max(end, self.floor)
            # the channel is held until the last done, when a column (not only markers) streams
            self.hold = self.last_done if any(self.in_stream[k] and cols[k] is not None
                                              for k in range(self.n)) else 0
            st["busy"] = self.end
            st["mac_cycles"] = sum(self.busy)
            st["load_imbalance"] = max(self.busy) - _cdiv(sum(self.busy), P)
        return column_done

    def result(self):
        return self.end, self.hold, self.st, self.pe_macs


def ref_pe_phase(cfg, tab: RefColumns, entries, floor=0):
    """Tick one PE-array phase with the DRAM channel to itself (see :class:`RefPhase`).
    Returns (cycles, dram_hold, stats dict, per-PE MACs)."""
    ph = RefPhase(cfg, tab, entries, floor)
    while ph.end is None:
        ph.post(ph.pre())
    return ph.result()


class RefChannel:
    """The DRAM channel with burst arbitration: each cycle, the cluster holding a grant keeps the
    slot until its grant's slots are used or its column received its last slot; otherwise the
    slot goes, round robin from the cluster after the last one granted, to a cluster whose head
    column can take it (a new grant). A cluster that could take the slot and does not get it
    waits one cycle (``dram_contention``)."""

    def __init__(self, cfg, n_clusters):
        self.grant = _grant_slots(cfg)
        self.n = n_clusters
        self.holder = None
        self.grant_left = 0
        self.last = -1
        self.wait = [0] * n_clusters

    def arbitrate(self, wants):
        """``wants``: the clusters whose head column can take a slot this cycle. Returns the one
        that gets it (or None)."""
        if self.holder is not None and self.grant_left == 0:
            self.holder = None
        if self.holder is None:
            for d in range(1, self.n + 1):
                i = (self.last + d) % self.n
                if i in wants:
                    self.holder, self.grant_left, self.last = i, self.grant, i
                    break
        if self.holder is not None:
            assert self.holder in wants
            self.grant_left -= 1
        for i in wants:
            if i != self.holder:
                self.wait[i] += 1
        return self.holder

    def column_done(self, i):
        """Cluster ``i``'s column received its last slot: its grant ends with it."""
        if self.holder == i:
            self.holder = None


def ref_update_phase(cfg, H, units):
    """Tick one update phase; ``units`` = the units the encoder emits, in order."""
    U, Lu, r = cfg.update_unit.lanes, cfg.update_unit.latency_cycles, cfg.update_unit.encoder_events_per_cycle
    groups = _cdiv(H, U)
    if cfg.update_unit.timing == "grouped":
        c = 0
        for _g in range(groups):
            for _ in range(cfg.update_unit.cycles_per_group):
                c += 1
        for _ in range(cfg.update_unit.fixed_cycles):
            c += 1
        return c
    done_at = {}
    pending = deque(units)
    c = 0
    last_emit = None
    while True:
        if c < groups:
            done_at[c] = c + Lu           # lane group c issues now, results after the pipeline
        sent = 0
        while pending and sent < r:
            g = pending[0] // U
            if g in done_at and done_at[g] <= c:
                pending.popleft()
                last_emit = c
                sent += 1
            else:
                break
        c += 1
        if not pending and c >= groups + Lu:
            break
    end = groups + Lu
    if last_emit is not None:
        end = max(end, last_emit + 1)
    return end


class _StreamQ:
    """Streaming events: the cycles each event was pushed and popped, in queue order."""

    def __init__(self, depth, counts):
        self.depth, self.peak = depth, 0
        self.lo = [0]
        for n in counts:
            self.lo.append(self.lo[-1] + n)
        self.pushes, self.pops = [], []
        self.step_end = {}       # step -> the cycle the encoder's step ended
        self.done_steps = set()  # steps committed (their update phase ended)

    def held(self, c):
        """Events in the queue during cycle c before this cycle's pushes: a popped event's slot
        is free the cycle after its pop."""
        return len(self.pushes) - bisect.bisect_left(self.pops, c)


class _Q:
    def __init__(self, depth):
        self.depth, self.level, self.peak, self.batches = depth, 0, 0, deque()

    def fits(self, n):
        a = min(n, self.depth)
        return a == 0 or self.level + a <= self.depth

    def put(self, n):
        self.level += min(n, self.depth)
        self.peak = max(self.peak, self.level)

    def free(self, n):
        self.level -= min(n, self.depth)
        assert self.level >= 0


class Reference:
    """The whole template, one cycle at a time. ``run()`` returns a dict of figures."""

    def __init__(self, cfg, trace, tokens=None):
        self.cfg = cfg
        T = trace.steps if tokens is None else tokens
        self.T = T
        self.layers = trace.layers
        self.dense_act = not cfg.skip_activity
        self.clusters = []   # per cluster: its table, sizes and the column sets it reads
        for i, l in enumerate(trace.layers):
            n_in, H = l.input_size, l.hidden_size
            # the bias column n_in + H: an entry in every gate row whose bias_x or bias_r is set
            dense = np.zeros((3 * H, n_in + H + 1))
            dense[:, :n_in + H] = l.weight.to_dense()
            for row in range(3 * H):
                if l.bias_x[row] != 0 or l.bias_r[row] != 0:
                    dense[row, n_in + H] = 1.0
            tab = RefColumns(cfg, dense)
            y = self._events(l.events, T, H)
            below = None if i == 0 else self._events(trace.layers[i - 1].events, T, n_in)
            xs = None if l.x_events is None else self._events(l.x_events, T, n_in)
            hs = None if l.h_events is None else self._events(l.h_events, T, H)
            fires = [False] * T
            if l.bias_fires is not None:
                fires = [int(l.bias_fires[t]) == 1 for t in range(T)]
            self.clusters.append(dict(name=f"layer{i}", tab=tab, H=H, n_in=n_in, y=y, below=below,
                                      xs=xs, hs=hs, bias=cfg.bias_column, fires=fires,
                                      events=int((y != 0).sum())))
        if cfg.include_decoder:
            tab = RefColumns(cfg, trace.decoder_weight.to_dense())
            H_last = trace.layers[-1].hidden_size
            self.clusters.append(dict(name="decoder", tab=tab, H=0, n_in=H_last, y=None,
                                      below=self._events(trace.layers[-1].events, T, H_last),
                                      xs=None, hs=None, bias=False, fires=[False] * T, events=0))

    @staticmethod
    def _events(ev, T, size):
        y = np.zeros((T, size), bool)
        for t in range(T):
            lo, hi = ev.indptr[t], ev.indptr[t + 1]
            for u in ev.indices[lo:hi]:
                y[t, int(u)] = True
        return y

    # which columns each phase reads
    def x_cols(self, i, t):
        """Input columns (0 .. n_in-1) read at step t, ascending."""
        cl = self.clusters[i]
        if self.dense_act:
            return list(range(cl["n_in"]))
        if cl["xs"] is not None:
            return [int(u) for u in np.nonzero(cl["xs"][t])[0]]
        if cl["below"] is None:
            return list(range(cl["n_in"]))
        return [int(u) for u in np.nonzero(cl["below"][t])[0]]

    def r_units(self, i, t):
        """Units whose recurrent column (n_in + unit) is read at step t, ascending."""
        cl = self.clusters[i]
        if self.dense_act:
            return list(range(cl["H"]))
        if cl["hs"] is not None:
            return [int(u) for u in np.nonzero(cl["hs"][t])[0]]
        if t == 0:
            return []
        return [int(u) for u in np.nonzero(cl["y"][t - 1])[0]]

    def emits(self, i, t):
        cl = self.clusters[i]
        if self.dense_act:
            return list(range(cl["H"]))
        return [int(u) for u in np.nonzero(cl["y"][t])[0]]

    def plan(self, i, t, kind):
        """Entries of phase ``kind`` ("x", "r" or "xr") of cluster i at step t: [(column or None
        for an end marker, cycle the scan makes it visible)], and the phase's floor."""
        cfg, cl = self.cfg, self.clusters[i]
        if cl["y"] is None:
            # the decoder: its columns come from the last layer's events, not from a scanned
            # vector, so no scan, no end markers, no floor (the stream options still apply)
            return [(j, 0) for j in self.x_cols(i, t)], 0
        sc = cfg.event_scan
        on = sc.enabled
        r, s0, lat = sc.elements_per_cycle, sc.start_cycles, sc.latency_cycles
        mk = sc.end_marker_cycles if on else 0
        n_in, H = cl["n_in"], cl["H"]
        b = 1 if cl["bias"] else 0
        I_pad = _cdiv(n_in, sc.input_pad_multiple) * sc.input_pad_multiple
        entries = []
        last_scan = 0
        if kind in ("x", "xr"):
            if cl["bias"] and cl["fires"][t]:
                entries.append((n_in + H, s0 + 0 // r + lat))
            xc = self.x_cols(i, t)
            for j in xc:
                entries.append((j, s0 + (j + b) // r + lat))
            last_scan = s0 + (b + I_pad - 1) // r
            if mk and (I_pad - 1) not in xc:
                entries.append((None, last_scan + lat))
        if kind in ("r", "xr"):
            S_x = _cdiv(b + I_pad, r) + sc.gap_cycles if kind == "xr" else 0
            ru = self.r_units(i, t)
            for u in ru:
                entries.append((n_in + u, s0 + S_x + u // r + lat))
            last_scan = s0 + S_x + (H - 1) // r
            if mk and (H - 1) not in ru:
                entries.append((None, last_scan + lat))
        if not on:
            return [(j, 0) for j, _ in entries], 0
        return entries, last_scan + lat + 1

    def _phase(self, i, t, kind):
        entries, floor = self.plan(i, t, kind)
        d, hold, st, pe = ref_pe_phase(self.cfg, self.clusters[i]["tab"], entries, floor)
        self._account(i, hold, st, pe)
        return d, hold

    def _account(self, i, hold, st, pe):
        acc = self.acc[i]
        for k, v in st.items():
            acc[k] += v
        acc["pe"] = acc["pe"] + pe
        acc["dram_busy"] += hold

    def _kinds(self, i):
        """The PE-array phases of one step of cluster i, in order."""
        if self.clusters[i]["y"] is None:
            return ["x"]                       # the decoder: one phase
        return ["xr"] if self.cfg.phases == "single" else ["x", "r"]

    def run(self):
        cfg = self.cfg
        n = len(self.clusters)
        self.acc = [dict(events=0, macs=0, weight_bits=0, metadata_bits=0, dram_bytes=0,
                         fifo_full=0, dram_data=0, bank_conflict=0, load_imbalance=0, busy=0,
                         mac_cycles=0, pe=np.zeros(cfg.pe.count, int), dram_busy=0,
                         update_busy=0, dependency=0, dram_contention=0, queue_full=0,
                         cluster_wait=0, pushes=0, bank_words=np.zeros(cfg.weight_sram.banks, int))
                    for _ in range(n)]
        D = cfg.event_queue.depth
        self.inq = [None] + [_Q(D) for _ in range(n - 1)]
        self.recq = [_Q(D) for _ in range(n)]
        self.sq = [None] * n     # streaming events: the queue into cluster i
        if cfg.event_queue.streaming and cfg.mapping == "spatial":
            # the encoder sends what the next cluster's input phase reads
            self.sq = [None] + [_StreamQ(D, [len(self.x_cols(i, t)) for t in range(self.T)])
                                for i in range(1, n)]
        self.t_start = [None] * self.T
        self.t_end = [None] * self.T
        if cfg.mapping == "spatial":
            cycles = self._run_spatial()
        else:
            cycles = self._run_temporal()
        return self._figures(cycles)

    # ------------------------------------------------------------------------------- spatial
    def _run_spatial(self):
        cfg, T, n = self.cfg, self.T, len(self.clusters)
        dram_free_at = 0
        pending = []   # (request cycle, cluster, phase kind)
        pe = [dict(s="wait_x", t=0, free=cfg.startup_cycles) for _ in range(n)]
        up = [dict(s="wait_acc", t=0) for _ in range(n)]
        accq = [deque() for _ in range(n)]
        last = n - 1
        # burst arbitration: the phases tick together, their head columns share the channel
        burst = cfg.weight_storage == "dram" and cfg.dram.arbitration == "burst"
        self.channel = RefChannel(cfg, n) if burst else None
        self.ticking = {}   # cluster -> (its running phase, the cycle it started)
        self.sticking = {}  # streaming input phases: cluster -> (phase, start, holds the channel)
        c = 0
        while True:
            changed = True
            while changed:
                changed = False
                for i in range(n):
                    changed |= self._pe_step(i, pe[i], accq[i], c, pending)
                    if self.clusters[i]["y"] is not None:
                        changed |= self._up_step(i, up[i], accq[i], c, i == last)
            if self.ticking:
                wants = {i for i, (ph, _) in self.ticking.items() if ph.pre()}
                got = self.channel.arbitrate(wants)
                for i, (ph, c0) in list(self.ticking.items()):
                    if ph.post(i == got):
                        self.channel.column_done(i)
                    if ph.end is not None:
                        del self.ticking[i]
                        pe[i]["end"] = c0 + ph.end
                        end, hold, st, pes = ph.result()
                        self._account(i, hold, st, pes)
            # streaming events: the encoders and the input phases tick
            for i in range(n):
                if up[i]["s"] == "tick_u":
                    self._tick_encoder(i, up[i], c)
            for i in list(self.sticking):
                dram_free_at = self._tick_stream(i, pe[i], c, dram_free_at)
            # DRAM arbiter: once per cycle, after everything else of the cycle
            if pending and dram_free_at <= c:
                pending.sort(key=lambda r: (r[0], r[1]))
                req, i, kind = pending.pop(0)
                st = pe[i]
                self.acc[i]["dram_contention"] += c - req
                if st.pop("streaming", False):    # its pops start now: it ticks from now on
                    self._start_stream(i, st, c)
                    dram_free_at = self._tick_stream(i, st, c, 1 << 62)
                else:
                    st["s"] = "run_" + kind
                    st["end"] = c + st["dur"]
                    dram_free_at = c + st["hold"]
                if i == 0 and kind in ("x", "xr"):
                    self.t_start[st["t"]] = c
            for i in range(n):   # a streaming input phase ends with the encoder's step
                st = pe[i]
                if st["s"] == "stream_x" and st["ph_end"] is not None:
                    step_end = self.sq[i].step_end.get(st["t"])
                    if step_end is not None:   # busy until the encoder's step ends too
                        end = max(st["ph_end"], step_end)
                        self.acc[i]["busy"] += end - st["ph_end"]
                        st.update(s="run_x", end=end)
            if all(p["s"] == "done" for p in pe) and all(
                    u["s"] == "done" or self.clusters[i]["y"] is None for i, u in enumerate(up)):
                if burst:
                    for i in range(n):
                        self.acc[i]["dram_contention"] += self.channel.wait[i]
                return max(max(self.t_end), c)
            c += 1
            if c > 200_000:
                raise RuntimeError("reference model does not terminate")

    def _start_pe(self, i, st, kind, c, pending):
        if self.channel is not None:     # burst arbitration: it starts now and ticks
            entries, floor = self.plan(i, st["t"], kind)
            ph = RefPhase(self.cfg, self.clusters[i]["tab"], entries, floor)
            st["s"] = "run_" + kind
            st["end"] = None
            if i == 0 and kind in ("x", "xr"):
                self.t_start[st["t"]] = c
            if ph.end is not None:       # no entries: nothing to tick
                st["end"] = c + ph.end
                self._account(i, ph.hold, ph.st, ph.pe_macs)
            else:
                self.ticking[i] = (ph, c)
            return
        d, hold = self._phase(i, st["t"], kind)
        st["dur"], st["hold"] = d, hold
        if hold:
            st["s"] = "dram_" + kind
            pending.append((c, i, kind))
        else:
            st["s"] = "run_" + kind
            st["end"] = c + d
            if i == 0 and kind in ("x", "xr"):
                self.t_start[st["t"]] = c

    def _start_stream(self, i, st, c):
        """Cluster i's input phase of a streaming queue starts ticking at cycle c: its entries
        are popped only once their events were pushed (the cycle after), and each pop is
        recorded in the queue."""
        q, t = self.sq[i], st["t"]
        lo = q.lo[t]
        entries, floor = self.plan(i, t, "x")
        ph = RefPhase(self.cfg, self.clusters[i]["tab"], entries, floor)
        ph.arrived = lambda k, rc: lo + k < len(q.pushes) and q.pushes[lo + k] + 1 <= c + rc
        ph.on_pop = lambda k, rc: q.pops.append(c + rc)
        holds = any(ph.in_stream[k] and ph.cols[k] is not None for k in range(ph.n))
        st.update(s="stream_x", ph_end=None)
        self.sticking[i] = (ph, c, holds)

    def _tick_stream(self, i, st, c, dram_free_at):
        """One cycle of a streaming input phase; returns when the DRAM channel is free (the
        phase releases it after its last stream slot)."""
        ph, c0, holds = self.sticking[i]
        ph.post(ph.pre())
        if holds and not ph.streamq and not ph.to_request:
            dram_free_at = c0 + ph.last_done
            self.sticking[i] = (ph, c0, False)
        if ph.end is not None:
            del self.sticking[i]
            st["ph_end"] = c0 + ph.end
            end, hold, stats, pes = ph.result()
            self._account(i, hold, stats, pes)
            self.acc[i]["dependency"] += ph.arrive_wait
        return dram_free_at

    def _tick_encoder(self, i, st, c):
        """One cycle of a streaming producer's update phase: lane group ``c - u0`` issues; the
        encoder pushes up to r events whose results exist, each only into a free slot."""
        cfg, q = self.cfg, self.sq[i + 1]
        U, Lu = cfg.update_unit.lanes, cfg.update_unit.latency_cycles
        r = cfg.update_unit.encoder_events_per_cycle
        groups = _cdiv(self.clusters[i]["H"], U)
        rc = c - st["u0"]
        sent = 0
        while st["pending"] and sent < r:
            if st["pending"][0] // U + Lu > rc:       # its lane group's result is not out yet
                break
            held = q.held(c)
            if held >= q.depth:
                break
            q.pushes.append(c)
            q.peak = max(q.peak, held + 1)
            st["pending"].popleft()
            st["last"] = rc
            sent += 1
        if not st["pending"] and rc + 1 >= groups + Lu:
            end = groups + Lu
            if st["last"] is not None:
                end = max(end, st["last"] + 1)
            q.step_end[st["t"]] = st["u0"] + end
            st.update(s="run_u", end=st["u0"] + end)

    def _next_step(self, st, c):
        st["free"] = c
        st["t"] += 1
        st["s"] = "wait_x" if st["t"] < self.T else "done"

    def _pe_step(self, i, st, accq, c, pending):
        s, t = st["s"], st["t"]
        single = self._kinds(i) == ["xr"]
        if s == "wait_x":
            if c < self.cfg.startup_cycles:
                return False
            sq = self.sq[i]
            if sq is not None:
                # streaming: from the cycle after the step's first push (an empty step: its end)
                lo, n_ev = sq.lo[t], sq.lo[t + 1] - sq.lo[t]
                if n_ev and not (len(sq.pushes) > lo and sq.pushes[lo] < c):
                    return False
                if not n_ev and t not in sq.done_steps:
                    return False
                st["n_in"] = 0
                self.acc[i]["dependency"] += c - st["free"]
                cols = [j for j, _ in self.plan(i, t, "x")[0]]
                if not n_ev:
                    st.update(s="run_x", end=c)
                elif self.cfg.weight_storage == "dram" and any(
                        self.clusters[i]["tab"].dram_bytes[j] > 0 for j in cols):
                    st.update(s="dram_x", streaming=True)
                    pending.append((c, i, "x"))
                else:
                    self._start_stream(i, st, c)
                return True
            q = self.inq[i]
            if q is not None and not q.batches:
                return False
            st["n_in"] = q.batches.popleft() if q is not None else 0
            if single:
                st["s"] = "wait_r"
            else:
                self.acc[i]["dependency"] += c - st["free"]
                self._start_pe(i, st, "x", c, pending)
            return True
        if s == "run_x" and st["end"] == c:
            if self.inq[i] is not None:
                self.inq[i].free(st["n_in"])
            if self.clusters[i]["y"] is None:       # decoder
                self.t_end[t] = c
                self._next_step(st, c)
            else:
                st["x_end"] = c
                st["s"] = "wait_r"
            return True
        if s == "wait_r":
            n_rec = 0
            if t > 0:
                if not self.recq[i].batches:
                    return False
                n_rec = self.recq[i].batches.popleft()
            st["n_rec"] = n_rec
            if single:   # one phase: it starts once the input and recurrent batches exist
                self.acc[i]["dependency"] += c - st["free"]
                self._start_pe(i, st, "xr", c, pending)
            else:
                self.acc[i]["dependency"] += c - st["x_end"]
                self._start_pe(i, st, "r", c, pending)
            return True
        if s == "run_r" and st["end"] == c:
            self.recq[i].free(st["n_rec"])
            accq.append(t)
            self._next_step(st, c)
            return True
        if s == "run_xr" and st["end"] == c:
            if self.inq[i] is not None:
                self.inq[i].free(st["n_in"])
            self.recq[i].free(st["n_rec"])
            accq.append(t)
            self._next_step(st, c)
            return True
        return False

    def _up_step(self, i, st, accq, c, is_last):
        s, t = st["s"], st["t"]
        if s == "wait_acc" and accq:
            accq.popleft()
            units = self.emits(i, t)
            if i + 1 < len(self.clusters) and self.sq[i + 1] is not None:
                # streaming: it ticks, pushing each event (what the next input phase reads) as
                # the encoder emits it; its length is that of what it sends
                sent = self.x_cols(i + 1, t)
                alone = ref_update_phase(self.cfg, self.clusters[i]["H"], sent)
                self.acc[i]["update_busy"] += alone
                st.update(s="tick_u", u0=c, pending=deque(sent), last=None, n=len(units),
                          sent=len(sent), alone=alone)
                return True
            d = ref_update_phase(self.cfg, self.clusters[i]["H"], units)
            self.acc[i]["update_busy"] += d
            st.update(s="run_u", end=c + d, n=len(units))
            return True
        if s == "run_u" and st["end"] == c:
            st.update(s="commit", since=c)
            return True
        if s == "commit":
            if not self._commit(i, c, st):
                return False
            self.recq[i].batches.append(st["n"])
            if is_last:
                self.t_end[t] = c
            st["t"] += 1
            st["s"] = "wait_acc" if st["t"] < self.T else "done"
            return True
        return False

    # ------------------------------------------------------------------------------ temporal
    def _run_temporal(self):
        T, n = self.T, len(self.clusters)
        free_at = 0
        pending = []
        js = [dict(s="wait", t=0, free=self.cfg.startup_cycles) for _ in range(n)]
        c = 0
        while True:
            changed = True
            while changed:
                changed = False
                for i in range(n):
                    changed |= self._job_step(i, js[i], c, pending)
            if pending and free_at <= c:
                # a granted job may take 0 cycles (an empty decoder batch): then the cycle's
                # bookkeeping runs again before the next grant, as it would in hardware
                pending.sort(key=lambda r: -r[1])      # deepest layer first
                req, i = pending.pop(0)
                st = js[i]
                self.acc[i]["cluster_wait"] += c - req
                if i == 0:
                    self.t_start[st["t"]] = c
                busy = 0
                for kind in self._kinds(i):
                    busy += self._phase(i, st["t"], kind)[0]
                if self.clusters[i]["y"] is not None:
                    units = self.emits(i, st["t"])
                    du = ref_update_phase(self.cfg, self.clusters[i]["H"], units)
                    self.acc[i]["update_busy"] += du
                    busy += du
                    st["n"] = len(units)
                st.update(s="run", end=c + busy)
                free_at = c + busy
                if busy == 0:
                    continue
            if all(j["s"] == "done" for j in js):
                return max(max(self.t_end), c)
            c += 1
            if c > 200_000:
                raise RuntimeError("reference model does not terminate")

    def _job_step(self, i, st, c, pending):
        s, t = st["s"], st["t"]
        is_layer = self.clusters[i]["y"] is not None
        if s == "wait":
            if c < self.cfg.startup_cycles:
                return False
            q = self.inq[i]
            if q is not None and not q.batches:
                return False
            st["n_in"] = q.batches.popleft() if q is not None else 0
            self.acc[i]["dependency"] += c - st["free"]
            pending.append((c, i))
            st["s"] = "asked"
            return True
        if s == "run" and st["end"] == c:
            if self.inq[i] is not None:
                self.inq[i].free(st["n_in"])
            if is_layer and t > 0:
                self.recq[i].free(st["prev_n"])
            st.update(s="commit", since=c)
            return True
        if s == "commit":
            if is_layer:
                if not self._commit(i, c, st):
                    return False
                st["prev_n"] = st["n"]
            st["free"] = c
            if i == len(self.clusters) - 1:
                self.t_end[t] = c
            st["t"] += 1
            st["s"] = "wait" if st["t"] < self.T else "done"
            return True
        return False

    def _commit(self, i, c, st) -> bool:
        """The update unit of cluster i commits its step's st["n"] events at cycle c: not before
        the next layer's queue has room (the wait is queue_full), then into both queues."""
        outq = self.inq[i + 1] if i + 1 < len(self.clusters) else None
        nev = st["n"]
        sq = self.sq[i + 1] if i + 1 < len(self.clusters) else None
        if sq is not None:   # streaming: the events are in already; the step ends now
            self.acc[i]["pushes"] += st["sent"] + nev
            self.acc[i]["queue_full"] += c - st["u0"] - st["alone"]
            self.recq[i].put(nev)
            sq.done_steps.add(st["t"])
            return True
        if outq is not None:
            if not outq.fits(nev):
                return False
            outq.put(nev)
            self.acc[i]["pushes"] += nev
        self.acc[i]["queue_full"] += c - st["since"]
        assert self.recq[i].fits(nev)
        self.recq[i].put(nev)
        self.acc[i]["pushes"] += nev
        if outq is not None:
            outq.batches.append(nev)
        return True

    # ------------------------------------------------------------------------------- figures
    def _figures(self, cycles):
        lat = np.array(self.t_end) - np.array(self.t_start)
        per = []
        for i, cl in enumerate(self.clusters):
            a = self.acc[i]
            per.append(dict(
                name=cl["name"], events=cl["events"], column_events=a["events"], macs=a["macs"],
                sram_weights=a["weight_bits"], sram_metadata=a["metadata_bits"],
                dram_read_bytes=a["dram_bytes"],
                stalls={k: int(a[k]) for k in ("dependency", "dram_contention", "queue_full",
                                               "cluster_wait", "fifo_full", "dram_data",
                                               "bank_conflict", "load_imbalance")},
                busy={"pe_array": a["busy"], "update_unit": a["update_busy"], "dram": a["dram_busy"]},
                pe_max=int(a["pe"].max()), pe_sum=int(a["pe"].sum()),
                queue_peak={"input": 0 if self.inq[i] is None else (
                    self.inq[i].peak if self.sq[i] is None else self.sq[i].peak),
                            "recurrent": self.recq[i].peak if cl["y"] is not None else 0},
                queue_events=a["pushes"], bank_words=[int(x) for x in a["bank_words"]]))
        # per cluster, the MACs of each of its PEs (the result's pe_work is built from these)
        pe_macs = [[int(x) for x in self.acc[i]["pe"]] for i in range(len(self.clusters))]
        return dict(cycles=int(cycles), latency=lat, per_layer=per, pe_macs=pe_macs)
