"""Atomic file writes: an output file is either complete or absent, never half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file ordinary permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks (a trace's or a model's identity)."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------
# output paths: checked before any work starts, written without ever replacing a device or fifo


def _is_special(p: Path) -> bool:
    """An existing target that is neither a regular file nor a folder (a device, a fifo, ...)."""
    import stat

    try:
        mode = p.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _probe_folder(folder: Path, option: str, p: Path) -> None:
    """Can a file be created in ``folder`` (or, when it does not exist yet, in the nearest
    existing folder above it)? Tried for real: permission bits lie to root and on /proc."""
    from accelsim.errors import InputError

    parent = folder.absolute()
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{option} {p}: cannot write there ({parent} is a file, not a folder)")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".accelsim-probe.", dir=parent)
    except OSError as e:
        raise InputError(f"{option} {p}: cannot write in {parent} ({e.strerror or e})") from None
    os.close(fd)
    os.unlink(tmp)


def check_output_file(path: str | os.PathLike, option: str, *, inputs=(), suffix: str | None = None) -> Path:
    """Refuse (``InputError``, one line) an output file that cannot be written, before any work:
    a folder, one of the command's ``inputs``, a place without write access. An existing device
    or fifo is fine: it is written into, never replaced (:func:`write_output_bytes`)."""
    from accelsim.errors import InputError

    p = Path(path)
    if suffix is not None and p.suffix.lower() != suffix:
        raise InputError(f"{option} {p}: must end in {suffix}")
    if p.is_dir():
        raise InputError(f"{option} {p}: is a folder, expected a file name")
    for src in inputs:
        if src is None:
            continue
        try:
            same = Path(src).exists() and p.exists() and os.path.samefile(src, p)
        except OSError:
            same = False
        if same or Path(src).absolute() == p.absolute():
            raise InputError(f"{option} {p}: is also an input of this command; choose another file")
    if _is_special(p):
        if not os.access(p, os.W_OK):
            raise InputError(f"{option} {p}: cannot write (no permission)")
        return p
    if p.exists() and not os.access(p, os.W_OK):
        raise InputError(f"{option} {p}: cannot write (no permission)")
    _probe_folder(p.parent, option, p)
    return p


def check_output_dir(path: str | os.PathLike, option: str) -> Path:
    """Refuse an output folder that is a file or cannot be created / written, before any work."""
    from accelsim.errors import InputError

    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"{option} {p}: is a file, expected a folder")
    _probe_folder(p, option, p)
    return p


def write_output_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write an output: a regular file (or a new one) is replaced atomically; an existing device
    or fifo (``/dev/null``, ``/dev/stdout``) is written into and stays what it is."""
    p = Path(path)
    if _is_special(p):
        with open(p, "wb") as f:
            f.write(data)
        return
    atomic_write_bytes(p, data)


def write_output_text(path: str | os.PathLike, text: str) -> None:
    write_output_bytes(path, text.encode("utf-8"))
