"""Cycle-stepped reference model: deliberately simple, slow and independent of the fast engine.

It re-derives every per-column cost from the dense weight matrix with plain loops, then ticks one
clock cycle at a time: inside a PE-array phase (dispatcher, bank queues, DRAM stream, PE FIFOs
and lanes), inside an update phase (lane groups and encoder), and globally (clusters, event
queues, the DRAM arbiter and, in temporal mapping, the shared cluster). The fast engine must
agree with it exactly on cycles and every count.
"""

from __future__ import annotations

from collections import deque

import numpy as np


def _cdiv(a, b):
    return -(-a // b)


def _owner(layout, row, n_rows, n):
    if layout == "row_interleaved":
        return row % n
    return row // _cdiv(n_rows, n)


class RefColumns:
    """Per-column costs from a dense matrix, by loops over rows."""

    def __init__(self, cfg, dense):
        self.cfg = cfg
        n_rows, n_cols = dense.shape
        P, B = cfg.pe.count, cfg.weight_sram.banks
        width = cfg.weight_sram.bank_width_bits
        wb, ib = cfg.precision.weight_bits, cfg.precision.index_bits
        fmt = cfg.weight_format
        self.val_words = np.zeros((n_cols, B), int)
        self.meta_words = np.zeros((n_cols, B), int)
        self.work = np.zeros((n_cols, P), int)
        self.dram_bytes = np.zeros(n_cols, int)
        self.ptr_bits = {"dense": 0, "csc": 2 * ib, "bitmap": ib}[fmt]
        bank_rows = [0] * B
        for i in range(n_rows):
            bank_rows[_owner(cfg.layout, i, n_rows, B)] += 1
        for j in range(n_cols):
            nz_bank = [0] * B
            nnz = 0
            for i in range(n_rows):
                p = _owner(cfg.layout, i, n_rows, P)
                if dense[i, j] != 0:
                    nnz += 1
                    nz_bank[_owner(cfg.layout, i, n_rows, B)] += 1
                    self.work[j, p] += 1
                elif not cfg.skip_weights:
                    self.work[j, p] += 1
            for b in range(B):
                if fmt == "dense":
                    self.val_words[j, b] = _cdiv(bank_rows[b], width // wb)
                elif fmt == "csc":
                    self.val_words[j, b] = _cdiv(nz_bank[b], width // wb)
                    self.meta_words[j, b] = _cdiv(nz_bank[b], width // ib)
                else:
                    self.val_words[j, b] = _cdiv(nz_bank[b], width // wb)
                    self.meta_words[j, b] = _cdiv(bank_rows[b], width)
            if cfg.weight_storage == "dram":
                bits = {"dense": n_rows * wb, "csc": nnz * (wb + ib), "bitmap": n_rows + nnz * wb}[fmt]
                nbytes = _cdiv(bits, 8)
                burst = cfg.dram.burst_bytes
                self.dram_bytes[j] = _cdiv(nbytes, burst) * burst
        if cfg.weight_storage == "dram":
            self.val_words[:] = 0
            self.meta_words[:] = 0


def ref_pe_phase(cfg, tab: RefColumns, cols):
    """Tick one PE-array phase. Returns (cycles, dram_hold, stats dict, per-PE MACs)."""
    P, B = cfg.pe.count, cfg.weight_sram.banks
    F, M = cfg.pe.fifo_depth, cfg.pe.mac_lanes
    E, pr = cfg.dispatcher.events_per_cycle, cfg.dispatcher.pointer_read_cycles
    rl, Lm = cfg.weight_sram.read_latency_cycles, cfg.pe.mac_latency_cycles
    L, bw = cfg.dram.latency_cycles, cfg.dram.bandwidth_bytes_per_cycle
    width = cfg.weight_sram.bank_width_bits
    st = dict(events=0, macs=0, weight_bits=0, metadata_bits=0, dram_bytes=0, fifo_full=0,
              dram_data=0, bank_conflict=0, load_imbalance=0, busy=0, mac_cycles=0)
    pe_macs = np.zeros(P, int)
    st["bank_words"] = np.zeros(B, int)
    n = len(cols)
    if n == 0:
        return 0, 0, st, pe_macs
    fifo = [deque() for _ in range(P)]        # items [event, remaining MACs]
    occ = [0] * P
    bankq = [deque() for _ in range(B)]       # requests [event, remaining words]
    elig = [None] * n
    banks_left = [0] * n
    bank_done = [None] * n
    dram_q = deque()                          # [event, remaining bytes]
    dram_done = [None] * n
    ready = [None] * n
    busy = [0] * P
    nxt = 0
    last_mac = None
    last_dram = 0
    for k, j in enumerate(cols):
        if tab.dram_bytes[j] > 0:
            dram_q.append([k, tab.dram_bytes[j]])
            st["dram_bytes"] += tab.dram_bytes[j]
        words = tab.val_words[j] + tab.meta_words[j]
        st["bank_conflict"] += words.max() - _cdiv(words.sum(), B)
    c = 0
    while True:
        # dispatcher
        sent = 0
        while nxt < n and sent < E:
            j = cols[nxt]
            if any(tab.work[j, p] > 0 and occ[p] >= F for p in range(P)):
                st["fifo_full"] += 1
                break
            for p in range(P):
                if tab.work[j, p] > 0:
                    occ[p] += 1
                    fifo[p].append([nxt, tab.work[j, p]])
            elig[nxt] = c + pr
            for b in range(B):
                w = tab.val_words[j, b] + tab.meta_words[j, b]
                if w:
                    bankq[b].append([nxt, w])
                    banks_left[nxt] += 1
            st["weight_bits"] += tab.val_words[j].sum() * width
            st["metadata_bits"] += tab.meta_words[j].sum() * width + tab.ptr_bits
            nxt += 1
            sent += 1
        # DRAM stream (requests of the whole batch issued at the phase start)
        if c >= L and dram_q:
            dram_q[0][1] -= bw
            if dram_q[0][1] <= 0:
                dram_done[dram_q[0][0]] = c + 1
                last_dram = c + 1
                dram_q.popleft()
        # banks
        for b in range(B):
            if bankq[b] and elig[bankq[b][0][0]] <= c:
                bankq[b][0][1] -= 1
                st["bank_words"][b] += 1
                if bankq[b][0][1] == 0:
                    k = bankq[b].popleft()[0]
                    banks_left[k] -= 1
                    bank_done[k] = c + 1
        # data ready
        for k in range(nxt):
            if ready[k] is None and banks_left[k] == 0:
                needs_dram = tab.dram_bytes[cols[k]] > 0
                if needs_dram and dram_done[k] is None:
                    continue
                sram = max(elig[k], bank_done[k] or 0)
                d = dram_done[k] if needs_dram else 0
                if d > sram:
                    st["dram_data"] += d - sram
                ready[k] = max(sram, d) + rl
        # PEs
        for p in range(P):
            if fifo[p]:
                item = fifo[p][0]
                if ready[item[0]] is not None and ready[item[0]] <= c:
                    m = min(M, item[1])
                    item[1] -= m
                    st["macs"] += m
                    pe_macs[p] += m
                    busy[p] += 1
                    last_mac = c
                    if item[1] == 0:
                        fifo[p].popleft()
                        occ[p] -= 1     # the freed slot is usable from the next cycle
        c += 1
        if nxt == n and not any(fifo) and all(r is not None for r in ready) and not dram_q:
            break
    end = max(r for r in ready)
    if last_mac is not None:
        end = max(end, last_mac + 1 + Lm)
    st["events"] = n
    st["busy"] = end
    st["mac_cycles"] = sum(busy)
    st["load_imbalance"] = max(busy) - _cdiv(sum(busy), P)
    return end, last_dram, st, pe_macs


def ref_update_phase(cfg, H, units):
    """Tick one update phase; ``units`` = the units the encoder emits, in order."""
    U, Lu, r = cfg.update_unit.lanes, cfg.update_unit.latency_cycles, cfg.update_unit.encoder_events_per_cycle
    groups = _cdiv(H, U)
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
        self.clusters = []   # per cluster: dict(tab, H, x_cols(t), r_cols(t), emit(t))
        for i, l in enumerate(trace.layers):
            tab = RefColumns(cfg, l.weight.to_dense())
            y = self._events(l, T)
            below = None if i == 0 else self._events(trace.layers[i - 1], T)
            self.clusters.append(dict(name=f"layer{i}", tab=tab, H=l.hidden_size, n_in=l.input_size,
                                      y=y, below=below, events=int((y != 0).sum())))
        if cfg.include_decoder:
            tab = RefColumns(cfg, trace.decoder_weight.to_dense())
            self.clusters.append(dict(name="decoder", tab=tab, H=0, n_in=trace.layers[-1].hidden_size,
                                      y=None, below=self._events(trace.layers[-1], T), events=0))

    @staticmethod
    def _events(layer, T):
        y = np.zeros((T, layer.hidden_size), bool)
        for t in range(T):
            lo, hi = layer.events.indptr[t], layer.events.indptr[t + 1]
            y[t, layer.events.indices[lo:hi]] = True
        return y

    # which columns each phase reads
    def x_cols(self, i, t):
        cl = self.clusters[i]
        if cl["below"] is None or self.dense_act:
            return list(range(cl["n_in"]))
        return [int(u) for u in np.nonzero(cl["below"][t])[0]]

    def r_cols(self, i, t):
        cl = self.clusters[i]
        if self.dense_act:
            return [cl["n_in"] + u for u in range(cl["H"])]
        if t == 0:
            return []
        return [cl["n_in"] + int(u) for u in np.nonzero(cl["y"][t - 1])[0]]

    def emits(self, i, t):
        cl = self.clusters[i]
        if self.dense_act:
            return list(range(cl["H"]))
        return [int(u) for u in np.nonzero(cl["y"][t])[0]]

    def _phase(self, i, cols):
        d, hold, st, pe = ref_pe_phase(self.cfg, self.clusters[i]["tab"], cols)
        acc = self.acc[i]
        for k, v in st.items():
            acc[k] += v
        acc["pe"] = acc["pe"] + pe
        acc["dram_busy"] += hold
        return d, hold

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
        pe = [dict(s="wait_x", t=0, free=0) for _ in range(n)]
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
                if i == 0 and kind == "x":
                    self.t_start[st["t"]] = c
            if all(p["s"] == "done" for p in pe) and all(
                    u["s"] == "done" or self.clusters[i]["y"] is None for i, u in enumerate(up)):
                return max(max(self.t_end), c)
            c += 1
            if c > 200_000:
                raise RuntimeError("reference model does not terminate")

    def _start_pe(self, i, st, kind, cols, c, pending):
        d, hold = self._phase(i, cols)
        st["dur"], st["hold"] = d, hold
        if hold:
            st["s"] = "dram_" + kind
            pending.append((c, i, kind))
        else:
            st["s"] = "run_" + kind
            st["end"] = c + d
            if i == 0 and kind == "x":
                self.t_start[st["t"]] = c

    def _pe_step(self, i, st, accq, c, pending):
        T = self.T
        s, t = st["s"], st["t"]
        if s == "wait_x":
            q = self.inq[i]
            if q is not None and not q.batches:
                return False
            st["n_in"] = q.batches.popleft() if q is not None else 0
            self.acc[i]["dependency"] += c - st["free"]
            self._start_pe(i, st, "x", self.x_cols(i, t), c, pending)
            return True
        if s == "run_x" and st["end"] == c:
            if self.inq[i] is not None:
                self.inq[i].free(st["n_in"])
            if self.clusters[i]["y"] is None:       # decoder
                self.t_end[t] = c
                st["free"] = c
                st["t"] += 1
                st["s"] = "wait_x" if st["t"] < T else "done"
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
            self.acc[i]["dependency"] += c - st["x_end"]
            self._start_pe(i, st, "r", self.r_cols(i, t), c, pending)
            return True
        if s == "run_r" and st["end"] == c:
            self.recq[i].free(st["n_rec"])
            st["free"] = c
            accq.append(t)
            st["t"] += 1
            st["s"] = "wait_x" if st["t"] < T else "done"
            return True
        return False

    def _up_step(self, i, st, accq, c, is_last):
        s, t = st["s"], st["t"]
        D = self.cfg.event_queue.depth
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
        js = [dict(s="wait", t=0, free=0) for _ in range(n)]
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
                busy += self._phase(i, self.x_cols(i, st["t"]))[0]
                if self.clusters[i]["y"] is not None:
                    busy += self._phase(i, self.r_cols(i, st["t"]))[0]
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
        return dict(cycles=int(cycles), latency=lat, per_layer=per)
