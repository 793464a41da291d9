"""The records store: one SQLite file per review (standard library).

Tables: ``searches`` (the PRISMA-S search log: query, database, date run,
count, tool version), ``search_parts`` (date ranges of a split search),
``search_pmids`` (the IDs a search returned, in order), ``batches`` (which
EFetch batches are stored: what a resumed fetch skips), ``records`` (parsed
fields and the raw XML/MEDLINE/RIS text), ``search_records`` (which search or
file found which record), ``screening`` (decisions). A schema version is kept
in ``meta`` and applied by :data:`MIGRATIONS`. Every change is one
transaction: the store is never left half-written.
"""
from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator

from .._version import __version__
from .records import Deletion, Record, normalize_doi

SCHEMA_VERSION = 1

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
}


def title_key(title: str, year: int | None, first_author: str) -> str:
    """Normalised title + year + first author's surname: the last-resort
    duplicate key (accents, case, punctuation and spacing removed)."""
    t = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    t = re.sub(r"[^a-z0-9]+", " ", t).strip()
    surname = unicodedata.normalize("NFKD", first_author.split(" ")[0] if first_author else "")
    surname = re.sub(r"[^a-z]", "", surname.encode("ascii", "ignore").decode().lower())
    return f"{t}|{year or ''}|{surname}" if t else ""


def now() -> str:
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class AddResult:
    """What adding one record did: the record's id, and whether it was new,
    a duplicate (with the id it duplicates and why), or already stored."""

    record_id: int
    status: str  # 'new', 'duplicate', 'existing'
    duplicate_of: int | None = None
    reason: str | None = None


class Store:
    """A review's records store (see the module docstring)."""

    def __init__(self, path: str):
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = FULL")
        self._migrate()

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    def _migrate(self) -> None:
        have = self.db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
        version = 0
        if have:
            row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise RuntimeError(f"{self.path}: store schema {version} is newer than this metail2 ({SCHEMA_VERSION})")
        for v in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction() as db:
                for statement in MIGRATIONS[v].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(v),))

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])

    # ----------------------------------------------------------------- searches

    def start_search(self, source: str, query: str, database: str, params: dict, count: int | None) -> int:
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO searches (source, query, database, params, run_at, count, tool_version, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'running')",
                (source, query, database, json.dumps(params, sort_keys=True), now(), count, f"metail2 {__version__}"))
            return int(cur.lastrowid)

    def unfinished_search(self, query: str, params: dict) -> sqlite3.Row | None:
        return self.db.execute(
            "SELECT * FROM searches WHERE source='pubmed' AND query=? AND params=? AND status != 'complete' "
            "ORDER BY id DESC LIMIT 1", (query, json.dumps(params, sort_keys=True))).fetchone()

    def finish_search(self, search_id: int, status: str, message: str | None = None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE searches SET status=?, completed_at=?, message=? WHERE id=?",
                       (status, now(), message, search_id))

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

    def add_records(self, search_id: int, items: Iterable[Record | Deletion],
                    batch: tuple[int, int, int] | None = None) -> list[AddResult]:
        """Store records (and apply deletions) in one transaction; with
        ``batch=(part, retstart, size)`` also mark that batch as fetched."""
        out = []
        with self.transaction() as db:
            for item in items:
                if isinstance(item, Deletion):
                    db.executemany("UPDATE records SET deleted=1 WHERE pmid=?", [(p,) for p in item.pmids])
                else:
                    out.append(self._add(db, item, search_id))
            if batch is not None:
                db.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?)", (search_id, *batch, now()))
        return out

    def records(self, include_duplicates: bool = False) -> list[dict]:
        sql = "SELECT * FROM records WHERE deleted=0" + ("" if include_duplicates else " AND duplicate_of IS NULL")
        return [self._row(r) for r in self.db.execute(sql + " ORDER BY id")]

    @staticmethod
    def _row(r: sqlite3.Row) -> dict:
        d = dict(r)
        for k in ("authors", "mesh_terms", "publication_types"):
            d[k] = json.loads(d[k])
        return d

    def export_json(self) -> list[dict]:
        """One object per unique record, with the fields of the JSON Lines export."""
        keys = ("pmid", "doi", "pmcid", "title", "abstract", "authors", "journal", "year", "volume", "issue",
                "pages", "mesh_terms", "publication_types", "language", "kind")
        return [{k: r[k] for k in keys} for r in self.records()]
