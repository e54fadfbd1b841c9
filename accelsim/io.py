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


def read_input_bytes(path: str | os.PathLike, expected: str, missing: str = "no such file") -> bytes:
    """An input file's bytes, or one ``InputError`` line: missing (``missing`` says what is
    needed), a folder (``expected`` says what should be there), or unreadable."""
    from accelsim.errors import InputError

    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: {missing}") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, expected {expected}") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None


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
#
# What an output path can be, and what is done with it:
# - a new file, or an existing regular file: written to a temporary file in the same folder, then
#   renamed over the target (atomic: the file is complete or absent, never half-written);
# - a symbolic link to a regular file: the same, on the file it points to (the link stays);
# - an existing device or fifo (``/dev/null``, a named pipe): opened and written into, never replaced;
# - a name for an open file descriptor (``/dev/stdout``, ``/dev/fd/N``, ``/proc/PID/fd/N``), also
#   through a link: written into (appended to when it is a regular file, e.g. ``> out.json``);
# - a folder, a socket, one of the command's inputs, a place that cannot be written: refused.

import re as _re

_FD_NAME = _re.compile(r"^/(?:dev/(?:stdin|stdout|stderr|fd/\d+)|proc/[^/]+/fd/\d+)$")


def _is_special(p: Path) -> bool:
    """An existing target that is neither a regular file nor a folder (a device, a fifo, ...)."""
    import stat

    try:
        mode = p.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _is_socket(p: Path) -> bool:
    import stat

    try:
        return stat.S_ISSOCK(p.stat().st_mode)
    except OSError:
        return False


def _names_fd(p: Path) -> bool:
    """Does ``p`` name an open file descriptor (``/dev/stdout``, ``/dev/fd/1``, ``/proc/self/fd/1``),
    directly or through symbolic links? Such a name is written into, never replaced."""
    s = os.path.abspath(p)
    for _ in range(40):
        if _FD_NAME.match(s):
            return True
        if not os.path.islink(s):
            return False
        try:
            s = os.path.normpath(os.path.join(os.path.dirname(s), os.readlink(s)))
        except OSError:
            return False
    return False


def _written_into(p: Path) -> bool:
    """True when ``p`` is written into in place (a device, a fifo, a file descriptor's name)."""
    return _is_special(p) or _names_fd(p)


def _replace_target(p: Path) -> Path:
    """The regular file an atomic write replaces: ``p``, or what a symbolic link ``p`` points to."""
    return Path(os.path.realpath(p)) if p.is_symlink() else p


def _probe_folder(folder: Path, option: str, p: Path) -> None:
    """Can a file be created in ``folder`` (or, when it does not exist yet, in the nearest
    existing folder above it)? Tried for real: permission bits lie to root and on /proc."""
    from accelsim.errors import InputError

    parent = folder.absolute()
    while not parent.exists() and not parent.is_symlink():
        parent = parent.parent
    if not parent.is_dir():
        what = "a dangling link" if parent.is_symlink() and not parent.exists() else "a file, not a folder"
        raise InputError(f"{option} {p}: cannot write there ({parent} is {what})")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".accelsim-probe.", dir=parent)
    except OSError as e:
        raise InputError(f"{option} {p}: cannot write in {parent} ({e.strerror or e})") from None
    os.close(fd)
    os.unlink(tmp)


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists() and os.path.samefile(a, b):
            return True
    except OSError:
        pass
    return Path(os.path.realpath(a)) == Path(os.path.realpath(b))


def check_output_file(path: str | os.PathLike, option: str, *, inputs=(), suffix: str | None = None) -> Path:
    """Refuse (``InputError``, one line) an output file that cannot be written, before any work:
    a folder, a socket, one of the command's ``inputs``, a place without write access. An existing
    device or fifo is fine: it is written into, never replaced (:func:`write_output_bytes`)."""
    from accelsim.errors import InputError

    p = Path(path)
    if str(path) == "":
        raise InputError(f"{option}: expected a file name (got an empty string)")
    if suffix is not None and p.suffix.lower() != suffix:
        raise InputError(f"{option} {p}: must end in {suffix}")
    if p.is_dir():
        raise InputError(f"{option} {p}: is a folder, expected a file name")
    if _is_socket(p):
        raise InputError(f"{option} {p}: is a socket, expected a file name")
    for src in inputs:
        if src is None:
            continue
        if _same_file(Path(src), p):
            raise InputError(f"{option} {p}: is also an input of this command ({src}); choose another file")
    if _written_into(p):
        if p.exists() and not os.access(p, os.W_OK):
            raise InputError(f"{option} {p}: cannot write (no permission)")
        if p.exists():
            return p
    target = _replace_target(p)
    if target.exists() and not os.access(target, os.W_OK):
        raise InputError(f"{option} {p}: cannot write (no permission)")
    _probe_folder(target.parent, option, p)
    return p


def check_distinct_outputs(outputs: dict) -> None:
    """Refuse two options that name the same regular (or new) file: the second write would replace
    the first. ``outputs``: option -> path or None. Several outputs into one device or fifo
    (``/dev/null``) are fine."""
    from accelsim.errors import InputError

    seen: dict[Path, str] = {}
    for option, path in outputs.items():
        if path is None:
            continue
        p = Path(path)
        if _written_into(p):
            continue
        key = Path(os.path.realpath(p))
        if key in seen:
            raise InputError(f"{seen[key]} and {option} must name different files (both are {p})")
        seen[key] = option


def check_output_dir(path: str | os.PathLike, option: str) -> Path:
    """Refuse an output folder that is a file or cannot be created / written, before any work."""
    from accelsim.errors import InputError

    p = Path(path)
    if str(path) == "":
        raise InputError(f"{option}: expected a folder name (got an empty string)")
    if p.exists() and not p.is_dir():
        raise InputError(f"{option} {p}: is a file, expected a folder")
    _probe_folder(p, option, p)
    return p


def write_output_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write an output: a regular file (or a new one) is replaced atomically (through a symbolic
    link: the file it points to); an existing device or fifo (``/dev/null``) is written into and
    stays what it is, as is the name of an open file descriptor (``/dev/stdout``; a regular file
    behind it is appended to). A failure is one line (``InputError``), not a traceback."""
    from accelsim.errors import InputError

    p = Path(path)
    try:
        if _is_special(p):
            with open(p, "wb") as f:
                f.write(data)
        elif _names_fd(p):
            with open(p, "ab") as f:
                f.write(data)
        else:
            atomic_write_bytes(_replace_target(p), data)
    except OSError as e:
        raise InputError(f"{p}: cannot write ({e.strerror or e})") from None


def write_output_text(path: str | os.PathLike, text: str) -> None:
    write_output_bytes(path, text.encode("utf-8"))
