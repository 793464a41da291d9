"""What a records store is: the interface every backend implements, and the
values it hands back.

A store keeps one review: the PRISMA-S search log (query, database, date
run, count, tool version), the date-range parts and ID lists of PubMed
searches, which EFetch batches are stored (what a resumed fetch skips), the
records with the raw text they were parsed from, which search or file found
which record, and the reviewers' screening decisions. Every method that
changes the store is one transaction: the store is never left half-written.
Only a backend speaks its database's language (SQL for
:class:`~metail2.review.store.sqlite.SQLiteStore`); everything above it calls
these methods.
"""
from __future__ import annotations

import abc
import datetime
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from ...errors import StoreError as _StoreError
from ..records import Deletion, Record

#: The fields of the records export (JSON Lines, CSV, RIS), in order.
EXPORT_FIELDS = ("pmid", "doi", "pmcid", "title", "abstract", "authors", "journal", "year", "volume", "issue",
                 "pages", "mesh_terms", "publication_types", "language", "kind")


class StoreError(_StoreError, RuntimeError):
    """The store cannot be opened or used: missing, not a store, corrupt, a
    newer schema, locked by another process past the timeout, read-only when
    writing, the disk full, an unknown URL scheme (exit code 3). The message
    names the store and says what to do; the store is left as it was."""


def now() -> str:
    """The current UTC time, to the second, in ISO 8601 (the store's timestamps)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class AddResult:
    """What adding one record did: the record's id, and whether it was new,
    a duplicate (with the id it duplicates and why), or already stored."""

    record_id: int
    status: str  # 'new', 'duplicate', 'existing'
    duplicate_of: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SearchLog:
    """One entry of the search log: a PubMed search or an imported file."""

    id: int
    source: str  # 'pubmed' or 'file'
    query: str  # the query, or the imported file's absolute path
    database: str  # 'pubmed', or the file's format
    params: dict  # mindate/maxdate/batch size
    run_at: str
    count: int | None
    tool_version: str
    status: str  # 'running', 'complete', 'failed'
    completed_at: str | None = None
    message: str | None = None
    content_sha256: str | None = None  # an imported file's content (recognises a re-import)


@dataclass(frozen=True)
class SearchPart:
    """A publication-date range of a search (the whole search when it was not split)."""

    part: int
    mindate: str | None
    maxdate: str | None
    count: int


@dataclass(frozen=True)
class Decision:
    """One reviewer's screening decision on one record at one stage."""

    record_id: int
    stage: str  # 'title-abstract' or 'full-text'
    reviewer: str
    decision: str  # 'include', 'exclude', 'maybe'
    reason: str
    decided_at: str


class Store(abc.ABC):
    """A review's records store (see the module docstring). Use it as a
    context manager, or call :meth:`close`."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""

    @property
    @abc.abstractmethod
    def schema_version(self) -> int:
        """The version of the store's schema."""

    # ----------------------------------------------------------------- the search log

    @abc.abstractmethod
    def start_search(self, source: str, query: str, database: str, params: dict, count: int | None,
                     parts: Sequence[tuple[str | None, str | None, int]] = ()) -> int:
        """Log a search (or a file import) as running, with its (mindate,
        maxdate, count) date ranges numbered from 0, in one transaction;
        return its id."""

    @abc.abstractmethod
    def start_file_import(self, query: str, database: str, content_sha256: str, items: Iterable[Record | Deletion],
                          batch: tuple[int, int, int]) -> tuple[int, list[AddResult]]:
        """Log an imported file as running and store its first batch of
        records, in one transaction (an import that stops before its first
        batch is stored leaves no trace); (search id, what adding did)."""

    @abc.abstractmethod
    def file_imports(self, content_sha256: str) -> list[SearchLog]:
        """The imports of a file with this content (SHA-256), oldest first."""

    @abc.abstractmethod
    def finish_search(self, search_id: int, status: str, message: str | None = None, *,
                      count: int | None = None) -> None:
        """Mark a search ``status`` ('complete', 'failed') with an optional
        message, and set its count when ``count`` is given."""

    @abc.abstractmethod
    def unfinished_search(self, query: str, params: dict) -> SearchLog | None:
        """The latest PubMed search of ``query`` with ``params`` that did not complete."""

    @abc.abstractmethod
    def searches(self) -> list[SearchLog]:
        """The search log, oldest first."""

    @abc.abstractmethod
    def search_record_count(self, search_id: int) -> int:
        """How many records (new, duplicate or already stored) the search or import found."""

    # ----------------------------------------------------------------- a PubMed search's parts and IDs

    @abc.abstractmethod
    def search_parts(self, search_id: int) -> list[SearchPart]:
        """A search's date ranges, in order."""

    @abc.abstractmethod
    def part_pmids(self, search_id: int, part: int) -> list[str]:
        """The PMIDs ESearch listed for a part, in ESearch's order (empty until saved)."""

    @abc.abstractmethod
    def save_part_pmids(self, search_id: int, part: int, pmids: Sequence[str]) -> None:
        """Keep the PMIDs ESearch listed for a part, so a resumed run does not search again."""

    @abc.abstractmethod
    def fetched_batches(self, search_id: int, part: int) -> set[int]:
        """The ``retstart`` of every batch of a part already stored."""

    @abc.abstractmethod
    def stored_through(self, search_id: int, part: int) -> int:
        """How many items from the start of a part its stored batches cover
        (``retstart + size`` of the last; 0 when none): where a resumed file import goes on."""

    # ----------------------------------------------------------------- records

    @abc.abstractmethod
    def add_records(self, search_id: int, items: Iterable[Record | Deletion],
                    batch: tuple[int, int, int] | None = None) -> list[AddResult]:
        """Store records (and apply deletions) in one transaction; with
        ``batch=(part, retstart, size)`` also mark that batch as fetched.
        A record already stored (same PMID) is linked to the search; a
        duplicate (same normalised DOI, else the same title key) is stored and
        linked to the record it duplicates."""

    @abc.abstractmethod
    def records(self, include_duplicates: bool = False, *, raw: bool = False) -> list[dict]:
        """Every record not withdrawn (unique ones only, by default), in the
        order stored, as dicts with the record's fields and ``id`` (and the
        raw text it was parsed from when ``raw``)."""

    @abc.abstractmethod
    def iter_records(self, fields: Sequence[str], include_duplicates: bool = False) -> Iterator[dict]:
        """Like :meth:`records`, streamed, with only ``fields`` read (bounded
        memory however many records the store holds)."""

    @abc.abstractmethod
    def record_ids(self, *, duplicates: bool = False, withdrawn: bool = False) -> set[int]:
        """The ids of the unique records not withdrawn, plus the duplicates
        and the withdrawn ones when asked."""

    @abc.abstractmethod
    def count_records(self, *, withdrawn: bool = False) -> int:
        """How many unique records are live (or, with ``withdrawn=True``, withdrawn by NCBI)."""

    def iter_export(self) -> Iterator[dict]:
        """One dict per unique record with the fields of the export
        (:data:`EXPORT_FIELDS`), streamed."""
        return self.iter_records(EXPORT_FIELDS)

    # ----------------------------------------------------------------- screening

    @abc.abstractmethod
    def save_decisions(self, stage: str, reviewer: str, decisions: Iterable[tuple[int, str, str]]) -> int:
        """Store a reviewer's (record id, decision, reason) at ``stage`` in one
        transaction, replacing that reviewer's earlier decision on a record;
        return how many decisions were written."""

    @abc.abstractmethod
    def reviewers(self) -> list[str]:
        """Every reviewer name with a decision at any stage, as stored."""

    @abc.abstractmethod
    def decisions(self, stage: str) -> list[Decision]:
        """Every decision at ``stage``, by record id, then reviewer."""
