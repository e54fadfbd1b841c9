"""A SimPy resource whose grants do not depend on the order of simultaneous events.

``simpy.PriorityResource`` grants a free slot to whichever request happens to be processed first
within a timestamp. Hardware arbiters decide once per cycle among everything that asked in that
cycle, so we defer every grant to the end of the timestamp (an event with a priority later than
SimPy's NORMAL): all requests made "in the same cycle" then compete by their priority key.
"""

from __future__ import annotations

import simpy

LATE = 2  # after simpy's URGENT (0) and NORMAL (1) events of the same time


class ArbitratedResource(simpy.PriorityResource):
    """``PriorityResource`` with end-of-cycle arbitration (lowest priority key wins)."""

    def __init__(self, env: simpy.Environment, capacity: int = 1):
        super().__init__(env, capacity)
        self._arbitration_pending = False

    def _trigger_put(self, get_event) -> None:
        if self._arbitration_pending:
            return
        self._arbitration_pending = True
        ev = simpy.Event(self._env)
        ev._ok = True
        ev._value = None
        ev.callbacks.append(self._arbitrate)
        self._env.schedule(ev, priority=LATE)

    def _arbitrate(self, _event) -> None:
        self._arbitration_pending = False
        simpy.PriorityResource._trigger_put(self, None)
