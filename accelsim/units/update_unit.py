"""Update unit and event encoder: U lanes over all H units every step, then events out.

Lane group ``g`` (units ``g*U .. g*U+U-1``) issues at cycle ``g``; its results (gates, state,
threshold compare, reset) leave the ``latency_cycles`` pipeline at ``g + latency``. The encoder
emits the step's events in unit order, at most ``r = encoder_events_per_cycle`` per cycle and
not before the unit's result exists: ``e_m = max(e_{m-1}, e_{m-r} + 1, g(i_m) + latency)``.
The phase lasts ``max(ceil(H/U) + latency, e_last + 1)`` cycles. With activity skipping off the
encoder emits every unit (zero values included), as a dense baseline sends its whole vector.

Work per step (dense, every unit): 3 nonlinearities, 3 multiplies and 12 adds (2 biases per gate,
Wx+Rh for z and r, Wx[g] + r*Rh[g], the convex state mix and the threshold subtraction) and one
compare. Leaves out: the LUT contents and numeric rounding.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NONLINEARITIES_PER_UNIT = 3
MULTS_PER_UNIT = 3
ADDS_PER_UNIT = 12
COMPARES_PER_UNIT = 1


@njit(cache=True)
def update_phases(step_ptr, step_units, hidden_size, dense, lanes, latency_cycles,
                  encoder_events_per_cycle):
    """Cycles of the update phase of each of the T steps; the encoder emits the units
    ``step_units[step_ptr[t]:step_ptr[t+1]]`` (all H units when ``dense``)."""
    T = step_ptr.shape[0] - 1
    dur = np.zeros(T, dtype=np.int64)
    groups = (hidden_size + lanes - 1) // lanes
    r = encoder_events_per_cycle
    ring = np.zeros(r, dtype=np.int64)
    for t in range(T):
        if dense:
            n = hidden_size
        else:
            n = step_ptr[t + 1] - step_ptr[t]
        end = groups + latency_cycles
        e_prev = 0
        for m in range(n):
            unit = m if dense else step_units[step_ptr[t] + m]
            e = unit // lanes + latency_cycles
            if e_prev > e:
                e = e_prev
            if m >= r and ring[m % r] + 1 > e:
                e = ring[m % r] + 1
            ring[m % r] = e
            e_prev = e
            if e + 1 > end:
                end = e + 1
        dur[t] = end
    return dur


# ---------------------------------------------------------------------------------------------
# Streaming events (``event_queue.streaming``): the encoder pushes each event into the next
# layer's queue as it emits it, and only into a free slot.

@njit(cache=True)
def encoder_push(push, m, r, result, slot):
    """Cycle the encoder pushes the step's event ``m``: in order, at most ``r`` per cycle, not
    before its unit's result (``result``) and not before its queue slot is free (``slot``):
    ``p_m = max(p_{m-1}, p_{m-r} + 1, result, slot)``."""
    p = result
    if m > 0 and push[m - 1] > p:
        p = push[m - 1]
    if m >= r and push[m - r] + 1 > p:
        p = push[m - r] + 1
    if slot > p:
        p = slot
    return p


@njit(cache=True)
def encoder_pushes(push, known, r, result, slot):
    """Extend a step's pushes ``push[:known]`` for as long as the slots are known
    (``slot[m] >= UNKNOWN_SLOT + 1``; ``UNKNOWN_SLOT`` stops). Returns how many are known."""
    m = known
    while m < push.shape[0] and slot[m] != UNKNOWN_SLOT:
        push[m] = encoder_push(push, m, r, result[m], slot[m])
        m += 1
    return m


UNKNOWN_SLOT = -(2 ** 62)
"""A slot whose freeing is not known yet (its event is not popped yet, as far as is known)."""


def unit_results(units: np.ndarray, lanes: int, latency_cycles: int) -> np.ndarray:
    """Cycle (from the update phase's start) at which each emitted unit's result exists:
    its lane group plus the pipeline, ``g(i) + latency``."""
    return np.asarray(units, np.int64) // lanes + latency_cycles
