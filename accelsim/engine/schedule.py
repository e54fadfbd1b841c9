"""Where time advances: SimPy processes that say what each cluster does, in order.

Spatial mapping, per EGRU layer ``l`` two processes share the layer's accumulators (double
buffered):

- the **PE array** (dispatcher, weight SRAM, PEs) runs, for each step ``t``, the *input phase*
  (columns of layer ``l-1``'s events of step ``t``; the dense embedding for layer 0) and then
  the *recurrent phase* (columns of its own events of step ``t-1``). The input phase of ``t+1``
  may start while the update unit still works on ``t``; the recurrent phase of ``t+1`` waits for
  step ``t``'s events.
- the **update unit** takes step ``t``'s accumulators, updates all H units, encodes the events
  and commits them to the event queues (to layer ``l+1`` or the decoder, and back to itself).

Event queues: a ``simpy.Store`` carries one batch per step (the dependency), a ``simpy.Container``
of capacity ``event_queue.depth`` holds the events (the occupancy). A batch occupies
``min(n, depth)`` slots from its commit until the consuming phase ends, so a producer stalls
(``queue_full``) until the batch fits; a batch larger than the whole queue waits for it to be
empty and then streams through it. The DRAM channel is an :class:`ArbitratedResource` held by a
phase while its columns stream (requests in order of time, ties to the lower layer); with
``dram.arbitration: burst`` it is a :class:`BurstChannel` shared one burst at a time, which runs
the phases itself (their length then depends on the other clusters).

Temporal mapping: one cluster (an :class:`ArbitratedResource`) runs a whole layer-step (input,
recurrent and update phases back to back) at a time; of the layer-steps that are ready the
deepest layer goes first, so a token flows through all layers before the next one starts. The
decoder (``include_decoder``) is one more stage fed by the last layer's events.

Streaming events (``event_queue.streaming``, spatial mapping): the queue to the next layer (or
the decoder) is a :class:`_StreamQueue`. The encoder pushes each event when it emits it, into a
slot of its own (a full queue holds the encoder, ``queue_full``); the consumer's input phase
starts the cycle after the step's first event was pushed and its dispatcher pops each event from
the cycle after its push; the phase does not end before the encoder's step does. The units
compute the events' pushes and pops together when the input phase starts (the pushes still
unknown then depend on that phase's pops once the step overflows the queue).

One SimPy event per (layer, step, phase); costs inside a phase come precomputed from the units
(a streaming input phase: computed by the units when it starts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import simpy

from accelsim.config.schema import ArchConfig
from accelsim.engine.arbiter import ArbitratedResource, BurstChannel
from accelsim.engine.prepare import ClusterWork, shared_channel
from accelsim.units import pe_array
from accelsim.units.update_unit import UNKNOWN_SLOT, encoder_pushes, unit_results

STALL_CAUSES = ("dependency", "dram_contention", "queue_full", "cluster_wait")


@dataclass
class Timeline:
    cycles: int
    token_start: np.ndarray
    token_end: np.ndarray
    stalls: list[dict[str, int]]          # per cluster, keys STALL_CAUSES
    queue_peak: list[int]                 # per cluster: peak events in its *input* queue
    recurrent_queue_peak: list[int]       # per cluster (0 for the decoder)
    queue_pushes: list[int] = field(default_factory=list)  # events pushed by each cluster
    steps: list[tuple[int, int, str, int, int]] | None = None  # (t, cluster, phase, start, end)


class _Queue:
    """An event queue: batches in a Store (dependency), events in a Container (occupancy)."""

    def __init__(self, env, depth: int):
        self.batches = simpy.Store(env)
        self.slots = simpy.Container(env, capacity=depth)
        self.depth = depth
        self.peak = 0

    def put(self, n: int):
        amount = min(int(n), self.depth)
        if amount:
            yield self.slots.put(amount)
            self.peak = max(self.peak, self.slots.level)

    def free(self, n: int):
        amount = min(int(n), self.depth)
        if amount:
            yield self.slots.get(amount)


class _RecurrentQueue:
    """A layer's events back to itself. Step t's batch is committed only after the recurrent
    phase of t consumed batch t-1, so it holds one batch and can never back-pressure: its
    occupancy is bookkeeping (peak), its Store is the dependency."""

    def __init__(self, env, depth: int):
        self.batches = simpy.Store(env)
        self.depth = depth
        self.level = 0
        self.peak = 0

    def put(self, n: int) -> None:
        self.level += min(int(n), self.depth)
        assert self.level <= self.depth
        self.peak = max(self.peak, self.level)

    def free(self, n: int) -> None:
        self.level -= min(int(n), self.depth)


_FREE_SLOT = -(2 ** 61)   # a slot that was never used: free since ever


class _StreamQueue:
    """Streaming events between a producer's encoder and a consumer's dispatcher, event by
    event. Events are numbered in queue order (step by step, unit order); ``push[g]`` and
    ``pop[g]`` are the cycles event ``g`` enters and leaves (-1: not known yet). Event ``g``
    takes the slot event ``g - depth`` left: it is pushed after that event was popped.

    The producer announces each step on ``steps`` (when its first push is known, or at its end
    when it has no events); the pushes it cannot know yet (their slot's event was not popped
    as far as is known) wait for :meth:`wait`, which fires whenever pops become known."""

    def __init__(self, env, config: ArchConfig, producer: ClusterWork, consumer: ClusterWork,
                 tokens: int):
        self.env, self.depth = env, config.event_queue.depth
        u = config.update_unit
        self.lanes, self.latency, self.rate = u.lanes, u.latency_cycles, u.encoder_events_per_cycle
        self.lanes_cycles = -(-producer.hidden_size // u.lanes) + u.latency_cycles
        self.producer, self.phase = producer, consumer.phases[0]
        if producer.send_ptr is None:
            counts = np.full(tokens, producer.hidden_size, np.int64)
        else:
            counts = np.diff(np.asarray(producer.send_ptr[:tokens + 1], np.int64))
        self.lo = np.zeros(tokens + 1, np.int64)
        np.cumsum(counts, out=self.lo[1:])
        total = int(self.lo[-1])
        self.push = np.full(total, -1, np.int64)
        self.pop = np.full(total, -1, np.int64)
        self.popped = 0                       # pops known for the events before this one
        self.steps = simpy.Store(env)
        self._woken = env.event()
        self.u0 = np.zeros(tokens, np.int64)
        self.results: dict[int, np.ndarray] = {}   # step -> each event's unit result (absolute)
        self.known = np.zeros(tokens, np.int64)   # pushes known of each step
        self.peak = 0
        self.arrive_wait = 0
        P, B = config.pe.count, config.weight_sram.banks
        self.stats = np.zeros(pe_array.N_STATS, np.int64)
        self.pe_total = np.zeros(P, np.int64)
        self.bank_total = np.zeros(B, np.int64)
        d = config.dram
        streamed = config.weight_storage == "dram"
        self.args = (config.dispatcher.events_per_cycle, config.dispatcher.pointer_read_cycles,
                     config.weight_sram.read_latency_cycles, config.pe.fifo_depth,
                     config.pe.mac_lanes, config.pe.mac_latency_cycles, d.latency_cycles)
        self.dram_args = (streamed and d.issue == "on_dispatch", d.restart_bubble_cycles,
                          streamed and d.delivery == "cut_through",
                          (d.staging_buffer_bytes or 0) if streamed else 0,
                          (d.max_outstanding or 0) if streamed else 0)

    def count(self, t: int) -> int:
        return int(self.lo[t + 1] - self.lo[t])

    def wait(self) -> simpy.Event:
        return self._woken

    def begin(self, t: int) -> None:
        """The producer's update phase of step ``t`` starts now."""
        self.u0[t] = self.env.now
        w = self.producer
        if w.send_ptr is None:
            units = np.arange(w.hidden_size, dtype=np.int64)
        else:
            units = w.send_units[int(w.send_ptr[t]):int(w.send_ptr[t + 1])]
        self.results[t] = self.env.now + unit_results(units, self.lanes, self.latency)

    def advance(self, t: int) -> bool:
        """Extend step ``t``'s pushes as far as the known pops allow; all known?"""
        lo, hi = int(self.lo[t]), int(self.lo[t + 1])
        k = int(self.known[t])
        if k == hi - lo:
            return True
        g = np.arange(lo, hi, dtype=np.int64) - self.depth
        slot = np.full(hi - lo, UNKNOWN_SLOT, np.int64)
        slot[g < 0] = _FREE_SLOT
        ok = (g >= 0) & (g < min(lo, self.popped))
        slot[ok] = self.pop[g[ok]] + 1
        self.known[t] = encoder_pushes(self.push[lo:hi], k, self.rate, self.results[t], slot)
        return self.known[t] == hi - lo

    def step_end(self, t: int) -> int:
        """The cycle the encoder's step ``t`` ends (all its pushes known)."""
        end = int(self.u0[t]) + self.lanes_cycles
        if self.count(t):
            end = max(end, int(self.push[self.lo[t + 1] - 1]) + 1)
        return end

    def streams_dram(self, t: int) -> bool:
        """Does the consumer's input phase of step ``t`` stream a column from DRAM?"""
        tab = self.phase.tables
        return bool(tab.dram_cycles[self.phase.columns(t)].any())

    def consume(self, t: int) -> tuple[int, int]:
        """The consumer's input phase of step ``t`` starts now: the units give its duration and
        channel hold, every push and pop of the step; the producer is woken."""
        S = self.env.now
        lo, hi = int(self.lo[t]), int(self.lo[t + 1])
        n = hi - lo
        self.advance(t)   # every earlier step was popped: the first min(n, depth) are known
        assert self.known[t] >= min(n, self.depth)
        push = self.push[lo:hi] - S
        pops = np.zeros(n, np.int64)
        tab, ph = self.phase.tables, self.phase
        end, hold, waited = pe_array.stream_phase(
            ph.columns(t), tab.bank_words, tab.pe_work, tab.weight_read_bits,
            tab.metadata_read_bits, tab.dram_bytes, tab.dram_cycles, tab.conflict_cycles,
            *self.args, self.stats, self.pe_total, self.bank_total, *self.dram_args,
            push, int(self.known[t]), self.results[t] - S, self.rate, self.depth,
            int(self.u0[t]) + self.lanes_cycles - S, pops)
        self.push[lo:hi] = push + S
        self.pop[lo:hi] = pops + S
        self.known[t] = n
        self.popped = hi
        self.arrive_wait += int(waited)
        ph.cycles[t] = end
        ph.dram_hold[t] = hold
        del self.results[t]
        woken, self._woken = self._woken, self.env.event()
        woken.succeed()
        return int(end), int(hold)

    def finish(self, tokens: int) -> None:
        """After the run: the peak occupancy, and the input phase's timing figures (its action
        counts do not depend on time and stay)."""
        total = int(self.lo[tokens])
        p, a = self.push[:total], self.pop[:total]
        if total:
            held = np.searchsorted(p, p, "right") - np.searchsorted(a, p, "left")
            self.peak = int(held.max())
        for s in (pe_array.S_FIFO_FULL, pe_array.S_DRAM_DATA, pe_array.S_BUSY):
            self.phase.stats[s] = self.stats[s]


def run_schedule(config: ArchConfig, work: list[ClusterWork], tokens: int, progress=None,
                 record_steps: bool = False) -> Timeline:
    """Run the SimPy processes of ``config.mapping`` over the precomputed work. With
    ``record_steps`` the timeline lists every (step, cluster, phase) with its start and end.
    With burst arbitration of the DRAM channel (spatial mapping) the phases' timing figures in
    ``work`` (cycles, DRAM holds, ``fifo_full``, ``dram_data``, busy cycles) are replaced by the
    ones the shared channel gave them."""
    env = simpy.Environment()
    n_layers = sum(1 for w in work if w.update_cycles is not None)
    has_decoder = len(work) > n_layers
    depth = config.event_queue.depth
    if config.event_queue.streaming and config.mapping == "spatial":
        inq = [None] + [_StreamQueue(env, config, work[i - 1], work[i], tokens)
                        for i in range(1, len(work))]
    else:
        inq = [None] + [_Queue(env, depth) for _ in range(len(work) - 1)]   # input queue of cluster i
    recq = [_RecurrentQueue(env, depth) for _ in range(n_layers)]
    stalls = [dict.fromkeys(STALL_CAUSES, 0) for _ in work]
    t_start = np.zeros(tokens, np.int64)
    t_end = np.zeros(tokens, np.int64)
    pushes = [0] * len(work)
    steps = [] if record_steps else None
    ctx = dict(env=env, config=config, work=work, inq=inq, recq=recq, stalls=stalls,
               t_start=t_start, t_end=t_end, pushes=pushes, tokens=tokens, progress=progress,
               steps=steps)
    channel = MAPPINGS[config.mapping](**ctx)
    env.run()
    if channel is not None:   # burst arbitration: waits for other clusters' grants
        for i in range(len(work)):
            stalls[i]["dram_contention"] += channel.contention(i)
    for i, q in enumerate(inq):
        if isinstance(q, _StreamQueue):
            q.finish(tokens)
            stalls[i]["dependency"] += q.arrive_wait
    return Timeline(int(env.now), t_start, t_end, stalls,
                    [0 if q is None else q.peak for q in inq],
                    [q.peak for q in recq] + ([0] if has_decoder else []), pushes, steps)


def _start_spatial(env, config, work, inq, recq, stalls, t_start, t_end, pushes, tokens, progress,
                   steps):
    """One cluster per layer (and the decoder): a PE-array and an update-unit process each."""
    n_layers, last = len(recq), len(work) - 1
    dram = None
    if config.weight_storage == "dram":
        dram = BurstChannel(env, config, work) if shared_channel(config) else ArbitratedResource(env)
    startup = config.startup_cycles
    for i, w in enumerate(work):
        acc = simpy.Store(env)  # step t's accumulators are ready for the update unit
        env.process(_spatial_pe(env, i, w, inq[i], recq[i] if i < n_layers else None, acc,
                                dram, stalls[i], t_start, t_end, tokens, progress, steps, startup))
        if w.update_cycles is not None:
            outq = inq[i + 1] if i < last else None
            update = _stream_update if isinstance(outq, _StreamQueue) else _spatial_update
            env.process(update(env, i, w, acc, outq, recq[i], stalls[i], t_end, i == last, pushes,
                               tokens, progress, steps))
    return dram if isinstance(dram, BurstChannel) else None


def _start_temporal(env, config, work, inq, recq, stalls, t_start, t_end, pushes, tokens, progress,
                    steps):
    """One shared cluster: one process per layer (and the decoder) competing for it."""
    n_layers, last = len(recq), len(work) - 1
    cluster = ArbitratedResource(env)
    for i, w in enumerate(work):
        env.process(_temporal(env, i, w, inq[i], inq[i + 1] if i < last else None,
                              recq[i] if i < n_layers else None, cluster, stalls[i],
                              t_start, t_end, i == last, pushes, tokens, progress, steps,
                              config.startup_cycles))


def _lists(phase):
    """Per-step cycles and DRAM holds as Python lists (fast scalar access in the processes)."""
    return phase.cycles.tolist(), phase.dram_hold.tolist()


def _use_pe_array(env, phase, t, dram, key, stalls):
    """One phase on the PE array: wait for the DRAM channel if its columns stream, then run.
    Returns the cycle the phase started."""
    cycles, hold = phase[0][t], phase[1][t]
    start = env.now
    if hold:
        with dram.request(priority=key) as req:
            yield req
            stalls["dram_contention"] += env.now - start
            start = env.now
            yield env.timeout(hold)
        cycles -= hold
    if cycles:
        yield env.timeout(cycles)
    return start


def _recurrent_batch(env, recq, t, stalls):
    """Wait for the layer's own events of step t-1 (none at t = 0); the wait is a dependency
    stall. Returns the batch's size."""
    since = env.now
    n = 0
    if t > 0:
        n = yield recq.batches.get()
    stalls["dependency"] += env.now - since
    return n


def _run_phase(env, phase, t, i, name, dram, stalls, steps, k=0):
    """Phase kind ``k`` on the PE array, recorded in the per-step timeline when asked. Returns its
    start. With burst arbitration the shared channel runs it (its length depends on the others)."""
    if dram.__class__ is BurstChannel:
        start = env.now
        yield dram.run(i, k, t)
    else:
        start = yield from _use_pe_array(env, phase, t, dram, (env.now, i), stalls)
    if steps is not None:
        steps.append((t, i, name, start, env.now))
    return start


def _spatial_pe(env, i, w: ClusterWork, inq, recq, acc, dram, stalls, t_start, t_end, tokens,
                progress, steps, startup):
    if startup:
        yield env.timeout(startup)
    lists = [_lists(p) for p in w.phases]
    decoder = w.update_cycles is None
    single = not decoder and len(lists) == 1     # one stream per layer-step: waits for t-1 too
    free = env.now
    streaming = isinstance(inq, _StreamQueue)
    for t in range(tokens):
        n_in = 0
        if streaming:
            yield inq.steps.get()
            if inq.count(t):   # from the cycle after its first event was pushed
                first = int(inq.push[inq.lo[t]]) + 1
                if first > env.now:
                    yield env.timeout(first - env.now)
        elif inq is not None:
            n_in = yield inq.batches.get()
        stalls["dependency"] += env.now - free
        n_rec = 0
        if single:
            n_rec = yield from _recurrent_batch(env, recq, t, stalls)
        if streaming:
            start = yield from _stream_phase(env, inq, t, i, w.phase_names[0], dram, stalls, steps)
        else:
            start = yield from _run_phase(env, lists[0], t, i, w.phase_names[0], dram, stalls, steps)
        if i == 0:
            t_start[t] = start
        if inq is not None and not streaming:
            yield from inq.free(n_in)
        if decoder:  # its phase completes the token
            free = t_end[t] = env.now
            if progress is not None:
                progress(t + 1)
            continue
        if not single:
            n_rec = yield from _recurrent_batch(env, recq, t, stalls)
            yield from _run_phase(env, lists[1], t, i, w.phase_names[1], dram, stalls, steps, 1)
        recq.free(n_rec)
        free = env.now
        acc.put(t)


def _stream_phase(env, q: _StreamQueue, t, i, name, dram, stalls, steps):
    """The input phase of a streaming queue's consumer: with the DRAM channel first when one of
    its columns streams (held for its hold), then its units' cycles. Returns its start."""
    start = env.now
    if not q.count(t):
        pass
    elif dram is not None and q.streams_dram(t):
        with dram.request(priority=(env.now, i)) as req:
            yield req
            stalls["dram_contention"] += env.now - start
            start = env.now
            end, hold = q.consume(t)
            yield env.timeout(hold)
        if end > hold:
            yield env.timeout(end - hold)
    else:
        end, _ = q.consume(t)
        if end:
            yield env.timeout(end)
    if steps is not None:
        steps.append((t, i, name, start, env.now))
    return start


def _stream_update(env, i, w: ClusterWork, acc, q: _StreamQueue, recq, stalls, t_end, is_last,
                   pushes, tokens, progress, steps):
    """The update unit of a streaming queue's producer: each event enters the queue as the
    encoder emits it; the step ends when its last event is in (``queue_full``: cycles beyond
    the update phase's own length that the encoder waited for room)."""
    emitted, update_cycles = w.emitted.tolist(), w.update_cycles.tolist()
    for t in range(tokens):
        yield acc.get()
        start = env.now
        q.begin(t)
        n = q.count(t)
        if n == 0:
            yield env.timeout(update_cycles[t])
            q.steps.put(t)
        else:
            while not q.advance(t) and q.known[t] == 0:
                yield q.wait()
            q.steps.put(t)
            while not q.advance(t):
                yield q.wait()
            end = q.step_end(t)
            yield env.timeout(end - env.now)
            stalls["queue_full"] += end - start - update_cycles[t]   # beyond its own length
        if steps is not None:
            steps.append((t, i, "update", start, env.now))
        pushes[i] += n + emitted[t]
        recq.put(emitted[t])
        recq.batches.put(emitted[t])
        if is_last:
            t_end[t] = env.now
            if progress is not None:
                progress(t + 1)


def _commit(env, i, n, outq, recq, stalls, pushes):
    """The update unit of cluster ``i`` commits a step's ``n`` events: it waits for room in the
    next layer's queue (a ``queue_full`` stall), then the batch enters both queues."""
    done = env.now
    if outq is not None:
        yield from outq.put(n)
        pushes[i] += n
    stalls["queue_full"] += env.now - done
    recq.put(n)
    pushes[i] += n
    if outq is not None:
        outq.batches.put(n)


def _spatial_update(env, i, w: ClusterWork, acc, outq, recq, stalls, t_end, is_last, pushes,
                    tokens, progress, steps):
    update_cycles, emitted = w.update_cycles.tolist(), w.emitted.tolist()
    for t in range(tokens):
        yield acc.get()
        start = env.now
        yield env.timeout(update_cycles[t])
        if steps is not None:
            steps.append((t, i, "update", start, env.now))
        n = emitted[t]
        yield from _commit(env, i, n, outq, recq, stalls, pushes)
        recq.batches.put(n)
        if is_last:
            t_end[t] = env.now
            if progress is not None:
                progress(t + 1)


def _temporal(env, i, w: ClusterWork, inq, outq, recq, cluster, stalls, t_start, t_end, is_last,
              pushes, tokens, progress, steps, startup):
    if startup:
        yield env.timeout(startup)
    free = env.now
    parts = [p.cycles for p in w.phases]
    names = list(w.phase_names)
    if w.update_cycles is not None:
        parts.append(w.update_cycles)
        names.append("update")
    busy_per_step = sum(parts).tolist()
    part_lists = [p.tolist() for p in parts] if steps is not None else None
    emitted = w.emitted.tolist()
    for t in range(tokens):
        n_in = 0
        if inq is not None:
            n_in = yield inq.batches.get()
        asked = env.now
        stalls["dependency"] += asked - free
        with cluster.request(priority=-i) as req:
            yield req
            stalls["cluster_wait"] += env.now - asked
            if i == 0:
                t_start[t] = env.now
            if steps is not None:   # the phases run back to back inside the one grant
                at = env.now
                for name, cyc in zip(names, part_lists):
                    steps.append((t, i, name, at, at + cyc[t]))
                    at += cyc[t]
            yield env.timeout(busy_per_step[t])
        if inq is not None:
            yield from inq.free(n_in)
        if recq is not None:
            if t > 0:
                recq.free(emitted[t - 1])
            yield from _commit(env, i, emitted[t], outq, recq, stalls, pushes)
        free = env.now
        if is_last:
            t_end[t] = env.now
            if progress is not None:
                progress(t + 1)


MAPPINGS = {"spatial": _start_spatial, "temporal": _start_temporal}
"""Mapping name (as in YAML) -> the function that starts its SimPy processes."""
