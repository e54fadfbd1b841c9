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
phase while its columns stream (requests in order of time, ties to the lower layer).

Temporal mapping: one cluster (an :class:`ArbitratedResource`) runs a whole layer-step (input,
recurrent and update phases back to back) at a time; of the layer-steps that are ready the
deepest layer goes first, so a token flows through all layers before the next one starts. The
decoder (``include_decoder``) is one more stage fed by the last layer's events.

One SimPy event per (layer, step, phase); costs inside a phase come precomputed from the units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import simpy

from accelsim.config.schema import ArchConfig
from accelsim.engine.arbiter import ArbitratedResource
from accelsim.engine.prepare import ClusterWork

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


def run_schedule(config: ArchConfig, work: list[ClusterWork], tokens: int, progress=None) -> Timeline:
    env = simpy.Environment()
    n_layers = sum(1 for w in work if w.update_cycles is not None)
    has_decoder = len(work) > n_layers
    depth = config.event_queue.depth
    inq = [None] + [_Queue(env, depth) for _ in range(len(work) - 1)]   # input queue of cluster i
    recq = [_RecurrentQueue(env, depth) for _ in range(n_layers)]
    stalls = [dict.fromkeys(STALL_CAUSES, 0) for _ in work]
    t_start = np.zeros(tokens, np.int64)
    t_end = np.zeros(tokens, np.int64)
    pushes = [0] * len(work)
    ctx = dict(env=env, config=config, work=work, inq=inq, recq=recq, stalls=stalls,
               t_start=t_start, t_end=t_end, pushes=pushes, tokens=tokens, progress=progress)
    MAPPINGS[config.mapping](**ctx)
    env.run()
    return Timeline(int(env.now), t_start, t_end, stalls,
                    [0 if q is None else q.peak for q in inq],
                    [q.peak for q in recq] + ([0] if has_decoder else []), pushes)


def _start_spatial(env, config, work, inq, recq, stalls, t_start, t_end, pushes, tokens, progress):
    """One cluster per layer (and the decoder): a PE-array and an update-unit process each."""
    n_layers, last = len(recq), len(work) - 1
    dram = ArbitratedResource(env) if config.weight_storage == "dram" else None
    for i, w in enumerate(work):
        acc = simpy.Store(env)  # step t's accumulators are ready for the update unit
        env.process(_spatial_pe(env, i, w, inq[i], recq[i] if i < n_layers else None, acc,
                                dram, stalls[i], t_start, t_end, tokens, progress))
        if w.update_cycles is not None:
            env.process(_spatial_update(env, i, w, acc, inq[i + 1] if i < last else None,
                                        recq[i], stalls[i], t_end, i == last, pushes, tokens,
                                        progress))


def _start_temporal(env, config, work, inq, recq, stalls, t_start, t_end, pushes, tokens, progress):
    """One shared cluster: one process per layer (and the decoder) competing for it."""
    n_layers, last = len(recq), len(work) - 1
    cluster = ArbitratedResource(env)
    for i, w in enumerate(work):
        env.process(_temporal(env, i, w, inq[i], inq[i + 1] if i < last else None,
                              recq[i] if i < n_layers else None, cluster, stalls[i],
                              t_start, t_end, i == last, pushes, tokens, progress))


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


def _spatial_pe(env, i, w: ClusterWork, inq, recq, acc, dram, stalls, t_start, t_end, tokens,
                progress):
    x, r = _lists(w.phases[0]), (_lists(w.phases[1]) if len(w.phases) > 1 else None)
    free = 0
    for t in range(tokens):
        n_in = 0
        if inq is not None:
            n_in = yield inq.batches.get()
        stalls["dependency"] += env.now - free
        start = yield from _use_pe_array(env, x, t, dram, (env.now, i), stalls)
        if i == 0:
            t_start[t] = start
        if inq is not None:
            yield from inq.free(n_in)
        if r is None:  # decoder: its phase completes the token
            free = t_end[t] = env.now
            if progress is not None:
                progress(t + 1)
            continue
        x_end = env.now
        n_rec = 0
        if t > 0:
            n_rec = yield recq.batches.get()
        stalls["dependency"] += env.now - x_end
        yield from _use_pe_array(env, r, t, dram, (env.now, i), stalls)
        recq.free(n_rec)
        free = env.now
        acc.put(t)


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
                    tokens, progress):
    update_cycles, emitted = w.update_cycles.tolist(), w.emitted.tolist()
    for t in range(tokens):
        yield acc.get()
        yield env.timeout(update_cycles[t])
        n = emitted[t]
        yield from _commit(env, i, n, outq, recq, stalls, pushes)
        recq.batches.put(n)
        if is_last:
            t_end[t] = env.now
            if progress is not None:
                progress(t + 1)


def _temporal(env, i, w: ClusterWork, inq, outq, recq, cluster, stalls, t_start, t_end, is_last,
              pushes, tokens, progress):
    free = 0
    busy_per_step = sum(p.cycles for p in w.phases)
    if w.update_cycles is not None:
        busy_per_step = busy_per_step + w.update_cycles
    busy_per_step = busy_per_step.tolist()
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
