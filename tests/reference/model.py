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
"""

from __future__ import annotations

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


def ref_pe_phase(cfg, tab: RefColumns, entries, floor=0):
    """Tick one PE-array phase. ``entries`` = [(column or None for an end marker, cycle from
    which the dispatcher may pop it)], in order; ``floor`` = the phase's minimum length (event
    scan). Returns (cycles, dram_hold, stats dict, per-PE MACs)."""
    P, B = cfg.pe.count, cfg.weight_sram.banks
    F, M = cfg.pe.fifo_depth, cfg.pe.mac_lanes
    E, pr = cfg.dispatcher.events_per_cycle, cfg.dispatcher.pointer_read_cycles
    rl, Lm = cfg.weight_sram.read_latency_cycles, cfg.pe.mac_latency_cycles
    L = cfg.dram.latency_cycles
    mk = cfg.event_scan.end_marker_cycles
    width = cfg.weight_sram.bank_width_bits
    streaming = cfg.weight_storage == "dram"
    on_dispatch = streaming and cfg.dram.issue == "on_dispatch"
    cut = streaming and cfg.dram.delivery == "cut_through"
    bubble = cfg.dram.restart_bubble_cycles
    rate = _stream_rate(cfg)
    st = dict(events=0, macs=0, weight_bits=0, metadata_bits=0, dram_bytes=0, fifo_full=0,
              dram_data=0, bank_conflict=0, load_imbalance=0, busy=0, mac_cycles=0)
    pe_macs = np.zeros(P, int)
    st["bank_words"] = np.zeros(B, int)
    n = len(entries)
    if n == 0:
        st["busy"] = floor
        return floor, 0, st, pe_macs
    cols = [e[0] for e in entries]
    visible = [e[1] for e in entries]
    fifo = [deque() for _ in range(P)]        # items [entry, remaining MACs (marker: cycles)]
    occ = [0] * P
    bankq = [deque() for _ in range(B)]       # requests [entry, remaining words]
    elig = [None] * n
    banks_left = [0] * n
    bank_done = [None] * n
    # the weight stream: which entries use it, what is left of each, its first slot and done
    in_stream = [(j is not None and tab.dram_bytes[j] > 0) or (j is None and on_dispatch)
                 for j in cols]
    left = [Fraction(int(tab.dram_bytes[j])) if j is not None else Fraction(mk) for j in cols]
    streamq = deque(k for k in range(n) if in_stream[k])
    req = [None] * n                          # on_dispatch: cycle the entry is requested
    first_slot = [None] * n
    done = [None] * n
    free = 0                                  # cycle after the previous entry's last slot
    ready = [None] * n
    busy = [0] * P
    nxt = 0
    last_pe = None
    last_done = 0
    for k, j in enumerate(cols):
        if j is None:
            continue
        if tab.dram_bytes[j] > 0:
            st["dram_bytes"] += tab.dram_bytes[j]
        words = tab.val_words[j] + tab.meta_words[j]
        st["bank_conflict"] += words.max() - _cdiv(words.sum(), B)
    c = 0
    while True:
        # dispatcher: in order, at most E per cycle, not before the scan made the entry
        # visible, and only with a free FIFO slot on every PE the entry gives work to
        sent = 0
        while nxt < n and sent < E:
            if visible[nxt] > c:
                break
            j = cols[nxt]
            targets = [p for p in range(P) if (tab.work[j, p] > 0 if j is not None else True)]
            if any(occ[p] >= F for p in targets):
                st["fifo_full"] += 1
                break
            for p in targets:
                occ[p] += 1
                fifo[p].append([nxt, tab.work[j, p] if j is not None else mk])
            elig[nxt] = c + pr
            if on_dispatch and in_stream[nxt]:
                req[nxt] = c + pr + (L if j is not None else 0)
            if j is not None:
                for b in range(B):
                    w = tab.val_words[j, b] + tab.meta_words[j, b]
                    if w:
                        bankq[b].append([nxt, w])
                        banks_left[nxt] += 1
                st["weight_bits"] += tab.val_words[j].sum() * width
                st["metadata_bits"] += tab.meta_words[j].sum() * width + tab.ptr_bits
                st["events"] += 1
            nxt += 1
            sent += 1
        # weight stream: one slot per cycle for the entry at its head
        if streamq:
            k = streamq[0]
            if first_slot[k] is None:
                if on_dispatch:
                    # requested in order when dispatched; chained behind the previous entry
                    # when requested by the time it ends, else a restart from idle
                    if req[k] is not None:
                        s = free if req[k] <= free else req[k] + bubble
                        assert s >= c, "stream start missed"
                        if s == c:
                            first_slot[k] = c
                elif c >= L:        # phase_start: all requested at the phase start
                    first_slot[k] = c
            if first_slot[k] is not None:
                left[k] -= rate if cols[k] is not None else 1
                if left[k] <= 0:
                    done[k] = c + 1
                    free = c + 1
                    last_done = c + 1
                    streamq.popleft()
        # banks
        for b in range(B):
            if bankq[b] and elig[bankq[b][0][0]] <= c:
                bankq[b][0][1] -= 1
                st["bank_words"][b] += 1
                if bankq[b][0][1] == 0:
                    k = bankq[b].popleft()[0]
                    banks_left[k] -= 1
                    bank_done[k] = c + 1
        # data ready (store and forward; with cut-through it only sets the phase end)
        for k in range(nxt):
            if ready[k] is None and banks_left[k] == 0:
                if in_stream[k] and done[k] is None:
                    continue
                sram = max(elig[k], bank_done[k] or 0)
                d = done[k] if in_stream[k] else 0
                if d > sram and cols[k] is not None:
                    st["dram_data"] += d - sram
                ready[k] = max(sram, d) + rl
        # PEs
        for p in range(P):
            if not fifo[p]:
                continue
            item = fifo[p][0]
            k = item[0]
            marker = cols[k] is None
            last_cycle = item[1] == 1 if marker else item[1] <= M
            if cut and in_stream[k]:
                # the first beat, read_latency after the entry's first slot, and not before the
                # dispatcher handed it over (eligible); the last cycle not before the entry's
                # last beat plus read_latency: fin >= ready = max(eligible, done) + rl
                go = (first_slot[k] is not None and max(first_slot[k], elig[k]) + rl <= c)
                if go and last_cycle:
                    go = ready[k] is not None and ready[k] - 1 <= c
            else:
                go = ready[k] is not None and ready[k] <= c
            if not go:
                continue
            last_pe = c
            if marker:
                item[1] -= 1
            else:
                m = min(M, item[1])
                item[1] -= m
                st["macs"] += m
                pe_macs[p] += m
                busy[p] += 1
            if item[1] == 0:
                fifo[p].popleft()
                occ[p] -= 1     # the freed slot is usable from the next cycle
        c += 1
        if nxt == n and not any(fifo) and all(r is not None for r in ready) and not streamq:
            break
    end = max(r for r in ready)
    if last_pe is not None:
        end = max(end, last_pe + 1 + Lm)
    end = max(end, floor)
    # the channel is held until the last done, when a column (not only markers) streams
    hold = last_done if any(in_stream[k] and cols[k] is not None for k in range(n)) else 0
    st["busy"] = end
    st["mac_cycles"] = sum(busy)
    st["load_imbalance"] = max(busy) - _cdiv(sum(busy), P)
    return end, hold, st, pe_macs


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
        acc = self.acc[i]
        for k, v in st.items():
            acc[k] += v
        acc["pe"] = acc["pe"] + pe
        acc["dram_busy"] += hold
        return d, hold

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
        c = 0
        while True:
            changed = True
            while changed:
                changed = False
                for i in range(n):
                    changed |= self._pe_step(i, pe[i], accq[i], c, pending)
                    if self.clusters[i]["y"] is not None:
                        changed |= self._up_step(i, up[i], accq[i], c, i == last)
            # DRAM arbiter: once per cycle, after everything else of the cycle
            if pending and dram_free_at <= c:
                pending.sort(key=lambda r: (r[0], r[1]))
                req, i, kind = pending.pop(0)
                st = pe[i]
                self.acc[i]["dram_contention"] += c - req
                st["s"] = "run_" + kind
                st["end"] = c + st["dur"]
                dram_free_at = c + st["hold"]
                if i == 0 and kind in ("x", "xr"):
                    self.t_start[st["t"]] = c
            if all(p["s"] == "done" for p in pe) and all(
                    u["s"] == "done" or self.clusters[i]["y"] is None for i, u in enumerate(up)):
                return max(max(self.t_end), c)
            c += 1
            if c > 200_000:
                raise RuntimeError("reference model does not terminate")

    def _start_pe(self, i, st, kind, c, pending):
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
                queue_peak={"input": 0 if self.inq[i] is None else self.inq[i].peak,
                            "recurrent": self.recq[i].peak if cl["y"] is not None else 0},
                queue_events=a["pushes"], bank_words=[int(x) for x in a["bank_words"]]))
        # per cluster, the MACs of each of its PEs (the result's pe_work is built from these)
        pe_macs = [[int(x) for x in self.acc[i]["pe"]] for i in range(len(self.clusters))]
        return dict(cycles=int(cycles), latency=lat, per_layer=per, pe_macs=pe_macs)
