"""Where points run: in this process, on a pool of local worker processes, or on a Dask cluster.

All three offer one operation, ``imap_unordered(fn, items)``: results in completion order, with at
most ``window`` items in flight, so an interrupted sweep loses at most those. Workers are started
once per sweep and reused for every point (Numba's compile cache is loaded once per worker).
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import multiprocessing
import re
import socket
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


SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
_ADDRESS = re.compile(r"(?:(?P<scheme>[a-z]+)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):(?P<port>\d{1,5})/?")


def parse_scheduler_address(address: str) -> tuple[str, str, int]:
    """``tcp://HOST:PORT`` (or ``HOST:PORT``, or tls/ws/wss/ucx) -> (scheme, host, port); no network."""
    m = _ADDRESS.fullmatch(address or "")
    scheme = (m.group("scheme") or "tcp") if m else None
    if m is None or scheme not in SCHEDULER_SCHEMES or not 0 < int(m.group("port")) < 65536:
        raise InputError(f"--scheduler {address}: not a Dask scheduler address; expected tcp://HOST:PORT "
                         f"(e.g. tcp://127.0.0.1:8786)")
    return scheme, m.group("host").strip("[]"), int(m.group("port"))


def _quiet_client_class():
    """Dask's Client, except that one whose connection failed is marked closed at once: the plain
    one tries to close itself again when collected, waits twice the timeout and prints an
    "Exception ignored" traceback."""
    from distributed import Client

    class _Client(Client):
        def start(self, **kwargs):
            try:
                return super().start(**kwargs)
            except BaseException:
                self.status = "closed"
                runner = getattr(self, "_loop_runner", None)
                if runner is not None:
                    try:
                        runner.stop()
                    except Exception:  # noqa: BLE001 - best effort; the error below is what counts
                        pass
                raise

    return _Client


def _handshake(address: str, timeout_s: float) -> None:
    """Connect to ``address`` with Dask's comm layer and complete its handshake within
    ``timeout_s`` (on a loop of its own, in a thread: callable from inside a running loop too)."""
    from distributed.comm import connect

    async def go():
        comm = await asyncio.wait_for(connect(address, timeout=timeout_s), timeout_s)
        await comm.close()

    with cf.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, go()).result()


class DaskExecutor:
    """An existing Dask distributed cluster at ``address`` (``tcp://host:port``).

    Workers must be able to import accelsim and read the trace files (a shared filesystem, or the
    same paths on every machine).
    """

    name = "dask"

    def __init__(self, address: str, connect_timeout_s: float = 5.0):
        self.scheme, self.host, self.port = parse_scheduler_address(address)
        if not connect_timeout_s > 0:
            raise InputError(f"--connect-timeout: must be > 0 seconds (got {connect_timeout_s:g})")
        self.address = address
        self.connect_timeout_s = connect_timeout_s
        self.client = None

    def _unreachable(self, why: str) -> InputError:
        return InputError(f"--scheduler {self.address}: cannot reach a Dask scheduler within "
                          f"{self.connect_timeout_s:g} s ({why})")

    def __enter__(self):
        try:
            client_class = _quiet_client_class()
        except ImportError:
            raise InputError("--scheduler needs Dask distributed: pip install 'accelsim[dist]'") from None
        if self.scheme != "ucx":  # is anything listening there? (answers at once for a closed port)
            try:
                socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s).close()
            except socket.gaierror as e:
                raise self._unreachable(f"unknown host {self.host}: {e.strerror or e}") from None
            except (socket.timeout, TimeoutError):
                raise self._unreachable("no answer") from None
            except OSError as e:
                raise self._unreachable(e.strerror or type(e).__name__) from None
        try:  # does it answer as a Dask scheduler? (Dask's own connect waits for that answer forever)
            _handshake(self.address, self.connect_timeout_s)
        except (asyncio.TimeoutError, TimeoutError):
            raise self._unreachable("it accepts connections but does not answer as a Dask scheduler") from None
        except Exception as e:  # noqa: BLE001 - whatever Dask raises, the user gets one line
            msg = " ".join(str(e).split())[:200]
            raise self._unreachable(f"{type(e).__name__}: {msg}" if msg else type(e).__name__) from None
        try:
            self.client = client_class(self.address, timeout=self.connect_timeout_s, set_as_default=False)
        except Exception as e:  # noqa: BLE001 - whatever Dask raises, the user gets one line
            msg = " ".join(str(e).split())[:200]
            raise self._unreachable(f"{type(e).__name__}: {msg}" if msg else type(e).__name__) from None
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


def make_executor(workers: int | None, scheduler: str | None, connect_timeout_s: float = 5.0):
    """The executor for ``--workers`` / ``--scheduler`` (checked here; nothing starts until ``with``)."""
    if scheduler:
        return DaskExecutor(scheduler, connect_timeout_s)
    if workers is None:
        workers = min(multiprocessing.cpu_count(), 8)
    if workers < 1:
        raise InputError(f"--workers: must be >= 1 (got {workers})")
    return SerialExecutor() if workers == 1 else LocalExecutor(workers)
