"""The records store: :func:`open_store` and the :class:`Store` interface.

``open_store("review.sqlite")`` or ``open_store("sqlite:///review.sqlite")``
opens (and migrates) a review's SQLite store; ``create=True`` also makes a
new one (only ``metail2 search`` and ``metail2 records import`` do, so a
mistyped ``--db`` is refused, not silently made empty); ``readonly=True``
never writes and reads a store the user may not write. A server backend is
one opener in :data:`BACKENDS` under its URL scheme (``postgresql``, …)
returning another :class:`Store`; nothing above the store writes SQL.
"""
from __future__ import annotations

import os
import re
from typing import Callable
from urllib.parse import unquote

from .base import EXPORT_FIELDS, AddResult, Decision, SearchLog, SearchPart, Store, StoreError


def _open_sqlite(rest: str, **how) -> Store:
    """``sqlite:///relative/path``, ``sqlite:////absolute/path``, ``sqlite://`` (in memory)."""
    from .sqlite import SQLiteStore

    path = unquote(rest.split("?", 1)[0])
    path = path[1:] if path.startswith("/") else path
    return SQLiteStore(path or ":memory:", **how)


#: URL scheme -> opener of the rest of the URL (what follows ``scheme://``)
#: taking the keywords of :func:`open_store` (``create``, ``readonly``, ``timeout``).
BACKENDS: dict[str, Callable[..., Store]] = {"sqlite": _open_sqlite}

_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)\Z", re.S)


def open_store(path_or_url: str | os.PathLike, *, create: bool = False, readonly: bool = False,
               timeout: float | None = None) -> Store:
    """Open the records store at a file path (SQLite) or a URL
    (``sqlite:///review.sqlite``).

    A store with an older schema is migrated (in one transaction under a
    write lock, so two processes opening it at once both succeed); a newer
    one is refused. Every problem is a :class:`StoreError` naming the store.

    Parameters
    ----------
    create : bool
        Make a new store when there is none (otherwise a missing store is refused).
    readonly : bool
        Never write: a store whose file or folder the user may not write can
        still be read (``prisma``, ``records export``).
    timeout : float, optional
        Seconds to wait for another process's write lock before giving up
        (default: ``METAIL2_STORE_TIMEOUT`` or 30).

    Use it as a context manager: ``with open_store(path) as store: …``.
    """
    if create and readonly:
        raise ValueError("open_store: create and readonly exclude each other")
    how = {"create": create, "readonly": readonly, "timeout": timeout}
    target = os.fspath(path_or_url)
    m = _URL.match(target)
    if m is None:  # a plain path: SQLite, taken as it is (no URL decoding)
        from .sqlite import SQLiteStore

        return SQLiteStore(target, **how)
    scheme = m.group(1).lower()
    if scheme not in BACKENDS:
        raise StoreError(f"{target}: no store backend for {scheme}:// URLs (known: "
                         + ", ".join(f"{s}://" for s in sorted(BACKENDS)) + "; or give a file path)")
    return BACKENDS[scheme](m.group(2), **how)


__all__ = ["open_store", "Store", "StoreError", "AddResult", "Decision", "SearchLog", "SearchPart", "BACKENDS",
           "EXPORT_FIELDS"]
