"""Atomic file writes, shared by every stage (the bottom layer, beside :mod:`metail2.errors`).

A reader sees the old file or the new one, never a mix; a write to a file
that changed since it was read is refused.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Callable

from .errors import MetailError


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class StaleFileError(MetailError, RuntimeError):
    """The file changed on disk since it was read; writing would lose those changes (exit 2)."""


def atomic_write(path: str | os.PathLike, data: bytes, *, expected_sha256: str | None = None,
                 writer: Callable[[object, bytes], None] | None = None) -> None:
    """Write ``data`` to ``path`` atomically.

    The bytes go to a temporary file in the same directory, are flushed and
    fsynced, and the temporary file then replaces ``path`` (``os.replace``):
    a reader sees the old file or the new one, never a mix; a failure leaves
    the old file untouched and removes the temporary one.

    Parameters
    ----------
    expected_sha256 : str, optional
        The hash of the file as it was read; if the file on disk now differs,
        :class:`StaleFileError` is raised and nothing is written.
    writer : callable, optional
        ``writer(fileobj, data)``; the default writes all bytes (tests pass a
        failing writer to show the original survives).
    """
    path = os.fspath(path)
    if expected_sha256 is not None and os.path.exists(path):
        with open(path, "rb") as f:
            current = sha256(f.read())
        if current != expected_sha256:
            raise StaleFileError(f"{path} changed on disk since it was read; re-read it, or force the write")

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            (writer or (lambda fh, d: fh.write(d)))(f, data)
            f.flush()
            os.fsync(f.fileno())

    atomic_output(path, write, suffix=".tmp")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_output(path: str | os.PathLike, save: Callable[[str], None], *, suffix: str | None = None) -> None:
    """Write a file through ``save(temporary_path)`` atomically: the temporary
    file (same directory; by default the same extension, so writers that look
    at the extension still work) replaces ``path`` only when ``save``
    succeeded, with the old file's mode or, for a new file, the user's umask
    (``mkstemp`` makes 0600 files); a failure removes the temporary file."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    base, ext = os.path.splitext(os.path.basename(path))
    fd, tmp = tempfile.mkstemp(prefix="." + (base + ext if suffix else base) + ".",
                               suffix=suffix or ".tmp" + ext, dir=directory)
    os.close(fd)
    try:
        save(tmp)
        if os.path.exists(path):
            os.chmod(tmp, os.stat(path).st_mode & 0o777)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
