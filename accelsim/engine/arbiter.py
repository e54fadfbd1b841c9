"""A SimPy resource whose grants do not depend on the order of simultaneous events.

``simpy.PriorityResource`` grants a free slot to whichever request happens to be processed first
within a timestamp. Hardware arbiters decide once per cycle among everything that asked in that
cycle, so every grant waits for the end of the timestamp: all requests made "in the same cycle"
then compete by their priority key.

Built on SimPy's public API only: the end of a timestamp is found with ``env.timeout(0)`` and
``env.peek()`` (a zero-delay timeout goes to the back of the current timestamp's queue; when it
fires and ``peek()`` shows nothing else at this time, every event of the cycle has run).
"""

from __future__ import annotations

import heapq

import numpy as np
import simpy

from accelsim.units import dram, pe_array


class _Request(simpy.Event):
    """A request for one slot; succeeds when granted. Use as a context manager: leaving the
    ``with`` block releases the slot (or withdraws a request not granted yet)."""

    def __init__(self, resource: "ArbitratedResource", priority):
        super().__init__(resource.env)
        self.resource = resource
        self.priority = priority

    def __enter__(self) -> "_Request":
        return self

    def __exit__(self, *exc) -> None:
        self.resource.release(self)


class ArbitratedResource:
    """``capacity`` slots with end-of-cycle arbitration: the lowest priority key wins (ties in
    request order). One per simulation environment (two would each wait for the other's
    end-of-cycle probe)."""

    def __init__(self, env: simpy.Environment, capacity: int = 1):
        self.env = env
        self.capacity = capacity
        self.users: list[_Request] = []
        self._waiting: list[tuple] = []        # heap of (priority, sequence, request)
        self._sequence = 0
        self._probe_pending = False

    def request(self, priority=0) -> _Request:
        req = _Request(self, priority)
        heapq.heappush(self._waiting, (priority, self._sequence, req))
        self._sequence += 1
        self._arbitrate_at_end_of_cycle()
        return req

    def release(self, req: _Request) -> None:
        if req in self.users:
            self.users.remove(req)
            self._arbitrate_at_end_of_cycle()
        else:  # withdrawn before it was granted
            self._waiting = [w for w in self._waiting if w[2] is not req]
            heapq.heapify(self._waiting)

    def _arbitrate_at_end_of_cycle(self) -> None:
        if not self._probe_pending:
            self._probe_pending = True
            self.env.timeout(0).callbacks.append(self._probe)

    def _probe(self, _event) -> None:
        if self.env.peek() == self.env.now:   # more of this cycle still to run: go behind it
            self.env.timeout(0).callbacks.append(self._probe)
            return
        self._probe_pending = False
        while self._waiting and len(self.users) < self.capacity:
            _, _, req = heapq.heappop(self._waiting)
            self.users.append(req)
            req.succeed()


class BurstChannel:
    """The DRAM channel with burst arbitration (``dram.arbitration: burst``), spatial mapping.

    Every PE-array phase of a cluster runs through it (:meth:`run`): the units' resumable phase
    (:func:`accelsim.units.pe_array.phase_run`) stops at each streamed column, and the channel
    unit (:func:`accelsim.units.pe_array.channel_advance`) grants the slots, one burst at a time,
    round robin between the clusters. Time stays here: at the end of each cycle where something
    changed, the channel is advanced up to the next SimPy event (a new phase may start then) or
    the end of a phase, whichever comes first; a phase's end is a SimPy timeout.

    The phases' timing figures (duration, channel hold, ``fifo_full``, ``dram_data``, PE-array
    busy cycles) replace the ones the units computed with the channel to themselves; their action
    counts do not depend on time and stay."""

    _BIG = 2 ** 62

    def __init__(self, env: simpy.Environment, config, work):
        self.env, self.work = env, work
        C = len(work)
        tabs = [w.phases[0].tables for w in work]
        P, B = config.pe.count, config.weight_sram.banks
        self.row_off = np.zeros(C + 1, np.int64)
        self.row_off[1:] = np.cumsum([t.n_cols for t in tabs])

        def cat(name, shape):
            parts = [np.asarray(getattr(t, name), np.int64) for t in tabs]
            return np.ascontiguousarray(np.concatenate(parts) if parts else np.zeros(shape, np.int64))
        self.tables = (cat("bank_words", (0, B)), cat("pe_work", (0, P)), cat("weight_read_bits", 0),
                       cat("metadata_read_bits", 0), cat("dram_bytes", 0), cat("dram_cycles", 0),
                       cat("conflict_cycles", 0))
        # scan tables of every (cluster, phase kind), one after the other
        svs, self.sv_at = [], {}
        at = 0
        for i, w in enumerate(work):
            for k, p in enumerate(w.phases):
                self.sv_at[i, k] = (at, p.mech.scan_visible.shape[0])
                svs.append(np.asarray(p.mech.scan_visible, np.int64))
                at += p.mech.scan_visible.shape[0]
        self.sv_all = np.ascontiguousarray(np.concatenate(svs)) if at else np.zeros(1, np.int64)
        self.sv_off = np.zeros(C, np.int64)
        self.sv_len = np.zeros(C, np.int64)
        self.floor = np.zeros(C, np.int64)
        self.n_real = np.array([w.phases[0].mech.n_real_cols for w in work], np.int64)
        m = work[0].phases[0].mech
        d, pe, dsp = config.dram, config.pe, config.dispatcher
        self.params = np.array([dsp.events_per_cycle, dsp.pointer_read_cycles,
                                config.weight_sram.read_latency_cycles, pe.fifo_depth, pe.mac_lanes,
                                pe.mac_latency_cycles, d.latency_cycles,
                                max(int(p.mech.marker_cycles) for w in work for p in w.phases),
                                int(m.on_dispatch), m.restart_bubble_cycles, int(m.cut_through),
                                m.staging_bytes, m.max_outstanding], np.int64)
        self.grant = dram.grant_cycles(d.burst_bytes, d.bandwidth_bytes_per_cycle, d.stream_efficiency)
        cap = [t.n_cols for t in tabs]              # a phase's entries are at most its columns
        self.col_off = np.zeros(C, np.int64)
        self.col_off[1:] = np.cumsum(cap)[:-1]
        self.cols_all = np.zeros(max(1, sum(cap)), np.int64)
        self.ncols = np.zeros(C, np.int64)
        scratch = max(int(pe_array.scratch_size(P, B, pe.fifo_depth, dsp.events_per_cycle, n,
                                                m.staging_bytes, m.max_outstanding)) for n in cap)
        self.sc = np.zeros((C, pe_array.N_STATE), np.int64)
        self.ar = np.zeros((C, scratch), np.int64)
        self.stats = np.zeros((C, pe_array.N_STATS), np.int64)
        self.pe_total = np.zeros((C, P), np.int64)
        self.bank_total = np.zeros((C, B), np.int64)
        self.st = np.zeros((C, pe_array.N_CH), np.int64)
        self.ch = np.array([0, -1], np.int64)
        self._running = {}                          # cluster -> (phase kind, step, end event)
        self._probe_pending = False
        self._wake_at = None
        # the timing figures are recomputed phase by phase
        self._timed = (pe_array.S_FIFO_FULL, pe_array.S_DRAM_DATA, pe_array.S_BUSY)
        for w in work:
            for p in w.phases:
                p.stats[list(self._timed)] = 0

    def contention(self, i: int) -> int:
        """Cycles cluster ``i``'s columns waited while the channel served other clusters."""
        return int(self.st[i, pe_array.CH_CONT])

    def run(self, i: int, k: int, t: int) -> simpy.Event:
        """Start phase kind ``k`` of step ``t`` on cluster ``i`` now; the event fires at its end."""
        phase = self.work[i].phases[k]
        cols = phase.columns(t)
        n = cols.shape[0]
        c0 = self.col_off[i]
        self.cols_all[c0:c0 + n] = cols
        self.ncols[i] = n
        self.sv_off[i], self.sv_len[i] = self.sv_at[i, k]
        self.floor[i] = phase.mech.floor_cycles
        self.sc[i] = 0
        self.ar[i] = 0
        st = self.st[i]
        st[pe_array.CH_ACT] = 2
        st[pe_array.CH_T0] = self.env.now
        done = self.env.event()
        self._running[i] = (k, t, done)
        self._kick()
        return done

    def _kick(self, _event=None) -> None:
        if not self._probe_pending:
            self._probe_pending = True
            self.env.timeout(0).callbacks.append(self._probe)

    def _probe(self, _event) -> None:
        env = self.env
        if env.peek() == env.now:    # more of this cycle still to run: go behind it
            env.timeout(0).callbacks.append(self._probe)
            return
        self._probe_pending = False
        nxt = env.peek()
        limit = self._BIG if nxt == float("inf") else int(nxt)
        limit = pe_array.channel_advance(limit, self.grant, self.st, self.ch, self.cols_all,
                                           self.col_off, self.ncols, self.row_off, *self.tables,
                                           self.sv_all, self.sv_off, self.sv_len, self.floor,
                                           self.n_real, self.params, self.stats, self.pe_total,
                                           self.bank_total, self.sc, self.ar)
        ended = self.st[:, pe_array.CH_ENDED]
        for i in map(int, np.nonzero(ended >= 0)[0]):
            self._finish(i, int(ended[i]))
        if (self.st[:, pe_array.CH_ACT] != 0).any() and limit < self._BIG and limit != self._wake_at:
            self._wake_at = limit
            env.timeout(limit - env.now).callbacks.append(self._wake)

    def _wake(self, _event) -> None:
        if self._wake_at == self.env.now:
            self._wake_at = None
        self._kick()

    def _finish(self, i: int, end: int) -> None:
        k, t, done = self._running.pop(i)
        phase = self.work[i].phases[k]
        sc = self.sc[i]
        phase.cycles[t] = sc[pe_array.END]
        phase.dram_hold[t] = sc[pe_array.HOLD]
        for s in self._timed:
            phase.stats[s] += self.stats[i, s]
        self.stats[i] = 0
        self.env.timeout(end - self.env.now).callbacks.append(lambda _e: done.succeed())
