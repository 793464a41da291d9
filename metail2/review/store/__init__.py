"""The records store: :func:`open_store` and the :class:`Store` interface.

``open_store("review.sqlite")`` or ``open_store("sqlite:///review.sqlite")``
opens (and creates, or migrates) a review's SQLite store. A server backend
is one opener in :data:`BACKENDS` under its URL scheme (``postgresql``, …)
returning another :class:`Store`; nothing above the store writes SQL.
"""
from __future__ import annotations

import os
import re
from typing import Callable
from urllib.parse import unquote

from .base import AddResult, Decision, SearchLog, SearchPart, Store, StoreError


def _open_sqlite(rest: str) -> Store:
    """``sqlite:///relative/path``, ``sqlite:////absolute/path``, ``sqlite://`` (in memory)."""
    from .sqlite import SQLiteStore

    path = unquote(rest.split("?", 1)[0])
    path = path[1:] if path.startswith("/") else path
    return SQLiteStore(path or ":memory:")


#: URL scheme -> opener of the rest of the URL (what follows ``scheme://``).
BACKENDS: dict[str, Callable[[str], Store]] = {"sqlite": _open_sqlite}

_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)\Z", re.S)


def open_store(path_or_url: str | os.PathLike) -> Store:
    """Open the records store at a file path (SQLite) or a URL
    (``sqlite:///review.sqlite``); a new store is created with the current
    schema, an older one is migrated, a newer one refused (:class:`StoreError`).

    Use it as a context manager: ``with open_store(path) as store: …``.
    """
    target = os.fspath(path_or_url)
    m = _URL.match(target)
    if m is None:  # a plain path: SQLite, taken as it is (no URL decoding)
        from .sqlite import SQLiteStore

        return SQLiteStore(target)
    scheme = m.group(1).lower()
    if scheme not in BACKENDS:
        raise StoreError(f"{target}: no store backend for {scheme}:// URLs (known: "
                         + ", ".join(f"{s}://" for s in sorted(BACKENDS)) + "; or give a file path)")
    return BACKENDS[scheme](m.group(2))


__all__ = ["open_store", "Store", "StoreError", "AddResult", "Decision", "SearchLog", "SearchPart", "BACKENDS"]
