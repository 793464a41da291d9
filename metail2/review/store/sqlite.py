"""The SQLite store: one file per review (standard library ``sqlite3``).

Tables: ``searches`` (the search log), ``search_parts`` (date ranges of a
split search), ``search_pmids`` (the IDs a search returned, in order),
``batches`` (which EFetch batches are stored), ``records`` (parsed fields
and the raw XML/MEDLINE/RIS text), ``search_records`` (which search or file
found which record), ``screening`` (decisions). A schema version is kept in
``meta`` and applied by :data:`MIGRATIONS`, checked and applied inside one
``BEGIN IMMEDIATE`` transaction, so processes that open a new store at the
same moment wait for each other instead of failing. The connection runs in
autocommit mode with WAL, ``synchronous=FULL`` and a busy timeout; every
change is one ``BEGIN IMMEDIATE`` transaction. Every SQLite error leaves as
a :class:`~.base.StoreError` naming the store and saying what to do
(:func:`_store_error`).
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import contextmanager
from typing import Iterable, Iterator, Sequence
from urllib.parse import quote

from ..._version import __version__
from ..records import Deletion, Record, normalize_doi, title_key
from ._sqlite_errors import guarded as _guarded, timeout as _timeout
from .base import AddResult, Decision, SearchLog, SearchPart, Store, StoreError, now

SCHEMA_VERSION = 2

MIGRATIONS = {
    1: """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE searches (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,              -- 'pubmed' or 'file'
        query TEXT NOT NULL,               -- the query, or the imported file's name
        database TEXT NOT NULL,            -- 'pubmed', or the file format
        params TEXT NOT NULL DEFAULT '{}', -- mindate/maxdate/batch size, JSON
        run_at TEXT NOT NULL,
        count INTEGER,
        tool_version TEXT NOT NULL,
        status TEXT NOT NULL,              -- 'running', 'complete', 'failed'
        completed_at TEXT,
        message TEXT
    );
    CREATE TABLE search_parts (
        search_id INTEGER NOT NULL REFERENCES searches(id),
        part INTEGER NOT NULL,
        mindate TEXT, maxdate TEXT,
        count INTEGER NOT NULL,
        PRIMARY KEY (search_id, part)
    );
    CREATE TABLE search_pmids (
        search_id INTEGER NOT NULL REFERENCES searches(id),
        part INTEGER NOT NULL,
        position INTEGER NOT NULL,
        pmid TEXT NOT NULL,
        PRIMARY KEY (search_id, part, position)
    );
    CREATE TABLE batches (
        search_id INTEGER NOT NULL REFERENCES searches(id),
        part INTEGER NOT NULL,
        retstart INTEGER NOT NULL,
        size INTEGER NOT NULL,
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (search_id, part, retstart)
    );
    CREATE TABLE records (
        id INTEGER PRIMARY KEY,
        pmid TEXT UNIQUE,
        doi TEXT, pmcid TEXT,
        title TEXT NOT NULL DEFAULT '', abstract TEXT NOT NULL DEFAULT '',
        authors TEXT NOT NULL DEFAULT '[]', journal TEXT NOT NULL DEFAULT '',
        year INTEGER, volume TEXT NOT NULL DEFAULT '', issue TEXT NOT NULL DEFAULT '',
        pages TEXT NOT NULL DEFAULT '',
        mesh_terms TEXT NOT NULL DEFAULT '[]', publication_types TEXT NOT NULL DEFAULT '[]',
        language TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL DEFAULT 'article',
        raw TEXT NOT NULL, raw_format TEXT NOT NULL,
        title_key TEXT NOT NULL DEFAULT '',
        deleted INTEGER NOT NULL DEFAULT 0,
        duplicate_of INTEGER REFERENCES records(id),
        duplicate_reason TEXT
    );
    CREATE INDEX records_doi ON records(doi);
    CREATE INDEX records_title_key ON records(title_key);
    CREATE TABLE search_records (
        search_id INTEGER NOT NULL REFERENCES searches(id),
        record_id INTEGER NOT NULL REFERENCES records(id),
        PRIMARY KEY (search_id, record_id)
    );
    CREATE TABLE screening (
        record_id INTEGER NOT NULL REFERENCES records(id),
        stage TEXT NOT NULL,               -- 'title-abstract' or 'full-text'
        reviewer TEXT NOT NULL,
        decision TEXT NOT NULL,            -- 'include', 'exclude', 'maybe'
        reason TEXT NOT NULL DEFAULT '',
        decided_at TEXT NOT NULL,
        PRIMARY KEY (record_id, stage, reviewer)
    );
    """,
    2: """
    ALTER TABLE searches ADD COLUMN content_sha256 TEXT;
    CREATE INDEX searches_content ON searches(content_sha256);
    """,
}

_JSON_LISTS = ("authors", "mesh_terms", "publication_types")
_RECORD_FIELDS = ("id", "pmid", "doi", "pmcid", "title", "abstract", "authors", "journal", "year", "volume", "issue",
                  "pages", "mesh_terms", "publication_types", "language", "kind", "raw_format", "duplicate_of",
                  "duplicate_reason")
@_guarded
class SQLiteStore(Store):
    """A review's records store in one SQLite file (``:memory:`` for a throwaway one).
    ``create``, ``readonly`` and ``timeout`` as in :func:`~metail2.review.store.open_store`."""

    def __init__(self, path: str, *, create: bool = False, readonly: bool = False, timeout: float | None = None):
        self.path = path
        self.timeout = _timeout(timeout)
        self.readonly = readonly
        self.db = self._connect(create or path == ":memory:", readonly)
        try:
            self._migrate(create or path == ":memory:")
        except BaseException:
            self.db.close()
            raise

    def _connect(self, create: bool, readonly: bool) -> sqlite3.Connection:
        path = self.path
        if path == ":memory:":
            db = sqlite3.connect(path, isolation_level=None, timeout=self.timeout)
        else:
            if os.path.isdir(path):
                raise StoreError(f"{path}: is a folder, not a records store; check --db")
            if not os.path.exists(path) and not create:
                raise StoreError(f"{path}: no records store there (only `metail2 search` and `metail2 records "
                                 "import` make a new one); check --db")
            # a reader that may write the file opens it as writers do (it never writes, and the last
            # connection to close tidies the -wal and -shm files away); one that may not, read-only
            mode = "rwc" if create else "ro" if readonly and not self._writable() else "rw"
            uri = "file:" + quote(os.path.abspath(path)) + "?mode=" + mode
            if mode == "ro" and not self._pending_wal():
                uri += "&immutable=1"  # no lock or -shm file can be made; nobody may change the file either
            db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=self.timeout)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                db.execute("PRAGMA synchronous = FULL")
        except BaseException:
            db.close()
            raise
        return db

    def _writable(self) -> bool:
        folder = os.path.dirname(os.path.abspath(self.path))
        return os.access(self.path, os.W_OK) and os.access(folder, os.W_OK)

    def _pending_wal(self) -> bool:
        """Changes a writer left in the write-ahead log (read through SQLite's lock, never around it)."""
        wal = self.path + "-wal"
        return os.path.exists(wal) and os.path.getsize(wal) > 0

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            if self.db.in_transaction:  # SQLite may already have rolled back (disk full, I/O error)
                try:
                    self.db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise
        else:
            self.db.execute("COMMIT")

    def _version(self) -> int | None:
        """The schema version; 0 for an empty database, None for one that is not a store."""
        names = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" not in names:
            return 0 if not names else None
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0]) if row and str(row[0]).isdigit() else None

    def _check_version(self, version: int | None, create: bool) -> bool:
        """True when the schema must be migrated; raise when it cannot be used."""
        if version is None:
            raise StoreError(f"{self.path}: an SQLite database but not a metail2 records store; check --db")
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: the store's schema is version {version}, newer than this metail2 "
                             f"({__version__}) knows ({SCHEMA_VERSION}); upgrade metail2")
        if version == 0 and not create:
            raise StoreError(f"{self.path}: an empty file, not a records store; check --db")
        if version < SCHEMA_VERSION and self.readonly:
            raise StoreError(f"{self.path}: the store's schema is version {version}, older than this metail2's "
                             f"({SCHEMA_VERSION}); open it once with a command that writes (records import, "
                             "screen import) to upgrade it")
        return version < SCHEMA_VERSION

    def _migrate(self, create: bool) -> None:
        if not self._check_version(self._version(), create):
            return
        self._wal()
        with self._transaction() as db:  # checked again under the write lock: another process may have done it
            version = self._version()
            if not self._check_version(version, create):
                return
            for v in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[v].split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def _wal(self) -> None:
        """Switch to write-ahead logging (kept in the file). Changing the
        journal mode needs the database to itself and SQLite does not wait
        for that, so wait here, up to the timeout."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self.db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])

    # ----------------------------------------------------------------- the search log

    def _insert_search(self, db, source, query, database, params, count, content_sha256=None) -> int:
        cur = db.execute(
            "INSERT INTO searches (source, query, database, params, run_at, count, tool_version, status, "
            "content_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?)",
            (source, query, database, json.dumps(params, sort_keys=True), now(), count, f"metail2 {__version__}",
             content_sha256))
        return int(cur.lastrowid)

    def start_search(self, source: str, query: str, database: str, params: dict, count: int | None,
                     parts: Sequence[tuple[str | None, str | None, int]] = ()) -> int:
        with self._transaction() as db:
            search_id = self._insert_search(db, source, query, database, params, count)
            db.executemany("INSERT INTO search_parts VALUES (?, ?, ?, ?, ?)",
                           [(search_id, i, a, b, c) for i, (a, b, c) in enumerate(parts)])
            return search_id

    def start_file_import(self, query: str, database: str, content_sha256: str, items: Iterable[Record | Deletion],
                          batch: tuple[int, int, int]) -> tuple[int, list[AddResult]]:
        with self._transaction() as db:
            search_id = self._insert_search(db, "file", query, database, {}, None, content_sha256)
            return search_id, self._add_all(db, search_id, items, batch)

    def file_imports(self, content_sha256: str) -> list[SearchLog]:
        return [self._search(r) for r in self.db.execute(
            "SELECT * FROM searches WHERE source='file' AND content_sha256=? ORDER BY id", (content_sha256,))]

    def finish_search(self, search_id: int, status: str, message: str | None = None, *,
                      count: int | None = None) -> None:
        with self._transaction() as db:
            db.execute("UPDATE searches SET status=?, completed_at=?, message=?, count=COALESCE(?, count) "
                       "WHERE id=?", (status, now(), message, count, search_id))

    @staticmethod
    def _search(row: sqlite3.Row) -> SearchLog:
        d = dict(row)
        d["params"] = json.loads(d["params"])
        return SearchLog(**d)

    def unfinished_search(self, query: str, params: dict) -> SearchLog | None:
        row = self.db.execute(
            "SELECT * FROM searches WHERE source='pubmed' AND query=? AND params=? AND status != 'complete' "
            "ORDER BY id DESC LIMIT 1", (query, json.dumps(params, sort_keys=True))).fetchone()
        return self._search(row) if row else None

    def searches(self) -> list[SearchLog]:
        return [self._search(r) for r in self.db.execute("SELECT * FROM searches ORDER BY id")]

    def search_record_count(self, search_id: int) -> int:
        return self.db.execute("SELECT COUNT(*) FROM search_records WHERE search_id=?", (search_id,)).fetchone()[0]

    # ----------------------------------------------------------------- a PubMed search's parts and IDs

    def search_parts(self, search_id: int) -> list[SearchPart]:
        return [SearchPart(r["part"], r["mindate"], r["maxdate"], r["count"]) for r in self.db.execute(
            "SELECT part, mindate, maxdate, count FROM search_parts WHERE search_id=? ORDER BY part", (search_id,))]

    def part_pmids(self, search_id: int, part: int) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT pmid FROM search_pmids WHERE search_id=? AND part=? ORDER BY position", (search_id, part))]

    def save_part_pmids(self, search_id: int, part: int, pmids: Sequence[str]) -> None:
        with self._transaction() as db:
            db.executemany("INSERT INTO search_pmids VALUES (?, ?, ?, ?)",
                           [(search_id, part, i, p) for i, p in enumerate(pmids)])

    def fetched_batches(self, search_id: int, part: int) -> set[int]:
        return {r[0] for r in self.db.execute(
            "SELECT retstart FROM batches WHERE search_id=? AND part=?", (search_id, part))}

    def stored_through(self, search_id: int, part: int) -> int:
        return self.db.execute("SELECT COALESCE(MAX(retstart + size), 0) FROM batches WHERE search_id=? AND part=?",
                               (search_id, part)).fetchone()[0]

    # ----------------------------------------------------------------- records
    def _add(self, db, rec: Record, search_id: int) -> AddResult:
        if rec.pmid:
            row = db.execute("SELECT id FROM records WHERE pmid=?", (rec.pmid,)).fetchone()
            if row:
                db.execute("INSERT OR IGNORE INTO search_records VALUES (?, ?)", (search_id, row[0]))
                return AddResult(row[0], "existing")
        dup, reason = None, None
        doi = normalize_doi(rec.doi)
        key = title_key(rec.title, rec.year, rec.authors[0] if rec.authors else "")
        if doi:
            row = db.execute("SELECT id, duplicate_of FROM records WHERE doi=? ORDER BY id LIMIT 1", (doi,)).fetchone()
            if row:
                dup, reason = row["duplicate_of"] or row["id"], "same DOI"
        if dup is None and key:
            row = db.execute("SELECT id, duplicate_of FROM records WHERE title_key=? ORDER BY id LIMIT 1",
                             (key,)).fetchone()
            if row:
                dup, reason = row["duplicate_of"] or row["id"], "same title, year and first author"
        cur = db.execute(
            "INSERT INTO records (pmid, doi, pmcid, title, abstract, authors, journal, year, volume, issue, pages, "
            "mesh_terms, publication_types, language, kind, raw, raw_format, title_key, duplicate_of, "
            "duplicate_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rec.pmid, doi, rec.pmcid, rec.title, rec.abstract, json.dumps(list(rec.authors)), rec.journal,
             rec.year, rec.volume, rec.issue, rec.pages, json.dumps(list(rec.mesh_terms)),
             json.dumps(list(rec.publication_types)), rec.language, rec.kind, rec.raw, rec.raw_format, key,
             dup, reason))
        rid = int(cur.lastrowid)
        db.execute("INSERT OR IGNORE INTO search_records VALUES (?, ?)", (search_id, rid))
        return AddResult(rid, "duplicate" if dup else "new", dup, reason)

    def _add_all(self, db, search_id: int, items: Iterable[Record | Deletion],
                 batch: tuple[int, int, int] | None) -> list[AddResult]:
        out = []
        for item in items:
            if isinstance(item, Deletion):
                db.executemany("UPDATE records SET deleted=1 WHERE pmid=?", [(p,) for p in item.pmids])
            else:
                out.append(self._add(db, item, search_id))
        if batch is not None:
            db.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?)", (search_id, *batch, now()))
        return out

    def add_records(self, search_id: int, items: Iterable[Record | Deletion],
                    batch: tuple[int, int, int] | None = None) -> list[AddResult]:
        with self._transaction() as db:
            return self._add_all(db, search_id, items, batch)

    def records(self, include_duplicates: bool = False, *, raw: bool = False) -> list[dict]:
        return list(self.iter_records(_RECORD_FIELDS + (("raw",) if raw else ()), include_duplicates))

    def iter_records(self, fields: Sequence[str], include_duplicates: bool = False) -> Iterator[dict]:
        known = set(_RECORD_FIELDS) | {"raw"}
        unknown = [f for f in fields if f not in known]
        if unknown:
            raise ValueError(f"no record field {', '.join(map(repr, unknown))}")
        sql = (f"SELECT {', '.join(fields)} FROM records WHERE deleted=0"
               + ("" if include_duplicates else " AND duplicate_of IS NULL") + " ORDER BY id")
        lists = [k for k in _JSON_LISTS if k in fields]
        for r in self.db.execute(sql):
            d = dict(r)
            for k in lists:
                d[k] = json.loads(d[k])
            yield d

    def record_ids(self, *, duplicates: bool = False, withdrawn: bool = False) -> set[int]:
        where = [c for c, wanted in (("duplicate_of IS NULL", not duplicates), ("deleted=0", not withdrawn)) if wanted]
        sql = "SELECT id FROM records" + (" WHERE " + " AND ".join(where) if where else "")
        return {r[0] for r in self.db.execute(sql)}

    def count_records(self, *, withdrawn: bool = False) -> int:
        return self.db.execute("SELECT COUNT(*) FROM records WHERE duplicate_of IS NULL AND deleted=?",
                               (1 if withdrawn else 0,)).fetchone()[0]

    # ----------------------------------------------------------------- screening

    def save_decisions(self, stage: str, reviewer: str, decisions: Iterable[tuple[int, str, str]]) -> int:
        at = now()
        with self._transaction() as db:
            cur = db.executemany("INSERT OR REPLACE INTO screening VALUES (?, ?, ?, ?, ?, ?)",
                                 [(rid, stage, reviewer, decision, reason, at) for rid, decision, reason in decisions])
            return max(cur.rowcount, 0)

    def reviewers(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT reviewer FROM screening ORDER BY reviewer")]

    def decisions(self, stage: str) -> list[Decision]:
        return [Decision(*r) for r in self.db.execute(
            "SELECT record_id, stage, reviewer, decision, reason, decided_at FROM screening WHERE stage=? "
            "ORDER BY record_id, reviewer", (stage,))]
