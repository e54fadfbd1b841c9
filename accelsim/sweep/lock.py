"""One sweep at a time per results folder: an OS lock on ``<out>/.lock``.

The lock is ``flock`` on the file, held for the whole sweep; the file's text says who holds it
(process id, host, start time, sweep name). The operating system releases the lock when the
holding process ends, however it ends (``kill -9`` included), so a lock left by a dead process
never blocks a later sweep: the file stays, its text is simply overwritten by the next holder.

``flock`` locks are reliable on local filesystems; on a network filesystem (NFS, SMB) whether they
reach other machines depends on the mount, so run one sweep per results folder there.
"""

from __future__ import annotations

import datetime as _dt
import os
import socket
from pathlib import Path

from accelsim.errors import InputError

LOCK_NAME = ".lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system: no locking available
    fcntl = None


def _holder_text(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 4096).decode("utf-8", "replace")
    except OSError:
        return "holder unknown"
    return " ".join(text.split()) or "holder unknown"


def _busy(folder: Path, holder: str) -> InputError:
    return InputError(f"{folder}: another sweep is writing into this folder ({holder}); wait for it "
                      f"to finish or use another --out folder")


def check_free(folder: str | os.PathLike) -> None:
    """Refuse early, writing nothing, when a live sweep holds ``folder``'s lock."""
    if fcntl is None:
        return
    path = Path(folder) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # no lock file (or unreadable): the real acquisition decides
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(Path(folder), _holder_text(fd)) from None
        except OSError:
            return
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class FolderLock:
    """``with FolderLock(out, "paper"):`` -- exclusive, non-blocking; refused with the holder named."""

    def __init__(self, folder: str | os.PathLike, sweep_name: str = ""):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.sweep_name = sweep_name
        self.fd: int | None = None

    def acquire(self) -> "FolderLock":
        if fcntl is None:
            return self
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise InputError(f"{self.folder}: cannot create the lock file {LOCK_NAME} "
                             f"({e.strerror or e})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_text(fd)
            os.close(fd)
            raise _busy(self.folder, holder) from None
        except OSError as e:
            os.close(fd)
            raise InputError(f"{self.folder}: cannot lock {LOCK_NAME} ({e.strerror or e})") from None
        started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        text = f"pid {os.getpid()} on {socket.gethostname()}, started {started}"
        if self.sweep_name:
            text += f", sweep '{self.sweep_name}'"
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, (text + "\n").encode("utf-8"))
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                os.close(self.fd)
                self.fd = None

    def __enter__(self) -> "FolderLock":
        return self.acquire()

    def __exit__(self, *exc) -> bool:
        self.release()
        return False
