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

import simpy


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
