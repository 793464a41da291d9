"""SQLite's errors as :class:`~.base.StoreError` lines a reviewer can act on,
and the busy timeout (``METAIL2_STORE_TIMEOUT``, seconds; 30 by default)."""
from __future__ import annotations

import functools
import inspect
import os
import sqlite3

from .base import StoreError

_DEFAULT_TIMEOUT = 30.0


def timeout(given: float | None) -> float:
    if given is not None:
        return float(given)
    text = os.environ.get("METAIL2_STORE_TIMEOUT", "")
    try:
        return float(text) if text else _DEFAULT_TIMEOUT
    except ValueError:
        raise StoreError(f"METAIL2_STORE_TIMEOUT={text!r} is not a number of seconds") from None


def store_error(path: str, exc: sqlite3.Error, timeout: float) -> StoreError:
    """An SQLite error as one line a reviewer can act on."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    msg = str(exc)
    if name.startswith("SQLITE_BUSY") or "locked" in msg:
        return StoreError(f"{path}: the store is locked by another process (waited {timeout:g} s); try again when "
                          "it has finished (METAIL2_STORE_TIMEOUT sets the wait)")
    if name.startswith("SQLITE_READONLY") or "readonly" in msg:
        return StoreError(f"{path}: the store is read-only ({msg}); nothing was written")
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "not a database" in msg or "malformed" in msg:
        return StoreError(f"{path}: not a metail2 records store, or damaged ({msg}); restore it from a backup")
    if name.startswith("SQLITE_FULL") or "full" in msg:
        return StoreError(f"{path}: the disk is full ({msg}); this step was not stored, the store is as it was")
    if name.startswith("SQLITE_IOERR") or "I/O" in msg:
        return StoreError(f"{path}: could not write or read the store ({msg}: a full disk, a file size limit or a "
                          "failing device); this step was not stored, the store is as it was")
    if name.startswith("SQLITE_CANTOPEN"):
        return StoreError(f"{path}: cannot open the store ({msg}); does its folder exist and may you read it?")
    return StoreError(f"{path}: {msg}")


def guarded(cls):
    """Every public method (and ``__init__``) of ``cls`` turns an SQLite error into a StoreError."""
    def wrap(fn):
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen(self, *a, **k):
                try:
                    yield from fn(self, *a, **k)
                except sqlite3.Error as exc:
                    raise store_error(self.path, exc, self.timeout) from exc
            return gen

        @functools.wraps(fn)
        def call(self, *a, **k):
            try:
                return fn(self, *a, **k)
            except sqlite3.Error as exc:
                raise store_error(self.path, exc, self.timeout) from exc
        return call

    for name, attr in list(vars(cls).items()):
        if isinstance(attr, property):
            setattr(cls, name, property(wrap(attr.fget)))
        elif inspect.isfunction(attr) and (name == "__init__" or not name.startswith("_")):
            setattr(cls, name, wrap(attr))
    return cls
