"""Where points run: in this process, on a pool of local worker processes, or on a Dask cluster.

All three offer one operation, ``imap_unordered(fn, items)``: results in completion order, with at
most ``window`` items in flight, so an interrupted sweep loses at most those. Workers are started
once per sweep and reused for every point (Numba's compile cache is loaded once per worker).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from typing import Callable, Iterable, Iterator

from accelsim.errors import InputError
from accelsim.sweep.worker import warm_up


class SerialExecutor:
    """Every point in the calling process (``--workers 1``): no start-up cost, easiest to debug."""

    name = "serial"
    workers = 1

    def __enter__(self):
        warm_up()
        return self

    def __exit__(self, *exc):
        return False

    def imap_unordered(self, fn: Callable, items: Iterable, on_lost: Callable | None = None) -> Iterator:
        for item in items:
            yield fn(item)


class LocalExecutor:
    """A pool of ``workers`` long-lived local processes (spawned: no inherited threads or locks)."""

    name = "local"

    def __init__(self, workers: int):
        self.workers = workers
        self.window = 2 * workers
        self.pool: cf.ProcessPoolExecutor | None = None

    def _start(self) -> None:
        self.pool = cf.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                           initializer=warm_up)

    def __enter__(self):
        self._start()
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        return False

    def imap_unordered(self, fn: Callable, items: Iterable, on_lost: Callable | None = None) -> Iterator:
        """``on_lost(item, exc)`` turns an item whose worker died into a result (else re-raise)."""
        it = iter(items)
        pending: dict[cf.Future, object] = {}

        def fill():
            while len(pending) < self.window:
                try:
                    item = next(it)
                except StopIteration:
                    return
                pending[self.pool.submit(fn, item)] = item

        fill()
        while pending:
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            broken = False
            for fut in done:
                item = pending.pop(fut)
                try:
                    yield fut.result()
                except cf.process.BrokenProcessPool as e:
                    # A worker died (crash, OOM kill): record the points it took down, start afresh.
                    broken = True
                    if on_lost is None:
                        raise
                    yield on_lost(item, e)
            if broken:
                for fut, item in list(pending.items()):
                    pending.pop(fut)
                    yield on_lost(item, RuntimeError("worker process died while this point was in flight"))
                self.pool.shutdown(wait=False, cancel_futures=True)
                self._start()
            fill()


class DaskExecutor:
    """An existing Dask distributed cluster at ``address`` (``tcp://host:port``).

    Workers must be able to import accelsim and read the trace files (a shared filesystem, or the
    same paths on every machine).
    """

    name = "dask"

    def __init__(self, address: str, connect_timeout_s: float = 10.0):
        self.address = address
        self.connect_timeout_s = connect_timeout_s
        self.client = None

    def __enter__(self):
        try:
            from distributed import Client
        except ImportError:
            raise InputError("--scheduler needs Dask distributed: pip install 'accelsim[dist]'") from None
        try:
            self.client = Client(self.address, timeout=self.connect_timeout_s, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            msg = " ".join(str(e).split())[:200]
            raise InputError(f"--scheduler {self.address}: cannot reach a Dask scheduler within "
                             f"{self.connect_timeout_s:g} s ({type(e).__name__}: {msg})") from None
        n = len(self.client.scheduler_info().get("workers", {}))
        self.workers = max(n, 1)
        self.window = 2 * self.workers
        self.client.run(warm_up)
        return self

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.close()
        return False

    def imap_unordered(self, fn: Callable, items: Iterable, on_lost: Callable | None = None) -> Iterator:
        from distributed import as_completed

        it = iter(items)
        futures = {}

        def submit_one(ac=None) -> bool:
            try:
                item = next(it)
            except StopIteration:
                return False
            f = self.client.submit(fn, item, pure=False)
            futures[f.key] = item
            if ac is not None:
                ac.add(f)
            return f

        with self.client.as_current():  # as_completed looks up "the" client
            first = [f for f in (submit_one() for _ in range(self.window)) if f]
            ac = as_completed(first)
            for fut in ac:
                item = futures.pop(fut.key)
                try:
                    row = fut.result()
                except Exception as e:  # noqa: BLE001 - e.g. a worker lost with the point on it
                    if on_lost is None:
                        raise
                    row = on_lost(item, e)
                fut.release()
                submit_one(ac)
                yield row


def make_executor(workers: int | None, scheduler: str | None, connect_timeout_s: float = 10.0):
    if scheduler:
        return DaskExecutor(scheduler, connect_timeout_s)
    if workers is None:
        workers = min(multiprocessing.cpu_count(), 8)
    if workers < 1:
        raise InputError(f"--workers: must be >= 1 (got {workers})")
    return SerialExecutor() if workers == 1 else LocalExecutor(workers)
