"""Importing record files: PubMed XML, MEDLINE text (``.txt``/``.nbib``) and RIS.

The format is read from the content, not the name (:func:`inspect_file`):
XML starts with ``<``, MEDLINE has a ``PMID-`` line, RIS a ``TY  -`` line;
a file whose name says otherwise is read by its content and the import says
so; an empty file, a folder or a file that is none of the three is refused.

Each file is one entry of the search log (source ``file``, the file's
absolute path as the query, its format as the database, the SHA-256 of its
content). Its records stream from the parser into the store in batches of
:data:`BATCH`, each batch one transaction marked as stored, so memory stays
flat however large the file, and the log entry is created in the same
transaction as the first batch: an import that stops before it leaves no
trace. An import that stops later (killed, Ctrl-C, a full disk) keeps its
whole batches, and importing the same content again resumes after them. A
file whose content was already imported completely is recognised by its hash
and not imported or counted again (PRISMA's "identified" counts it once).
"""
from __future__ import annotations

import codecs
import hashlib
import itertools
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from ..errors import InputError
from .encoding import Encoding, decide, read_chunks
from .medline import iter_medline
from .pubmed_xml import iter_pubmed_xml
from .records import ParseIssue
from .ris import iter_ris
from .store import SearchLog, Store

#: format -> reader(path, issues, encoding=) yielding records.
READERS: dict[str, Callable[..., Iterator]] = {"ris": iter_ris, "medline": iter_medline,
                                               "pubmed-xml": iter_pubmed_xml}
LABELS = {"pubmed-xml": "PubMed XML", "medline": "MEDLINE", "ris": "RIS"}
#: Records stored per transaction.
BATCH = 500
_FIRST_TAG = re.compile(r"^(?:PMID- |TY  - )", re.M)


def format_from_name(path: str) -> str | None:
    """The format a file's name suggests (``None`` when it suggests none)."""
    low = os.fspath(path).lower()
    if low.endswith(".ris"):
        return "ris"
    if low.endswith((".txt", ".nbib", ".medline")):
        return "medline"
    return "pubmed-xml" if low.endswith(".xml") else None


def sniff_format(text: str) -> str | None:
    """The format of a record file from its first characters, or ``None``."""
    s = text.lstrip("\ufeff \t\r\n")
    if s.startswith("<"):
        return "pubmed-xml"
    m = _FIRST_TAG.search(text)
    if m is None:
        return None
    return "medline" if m.group().startswith("PMID") else "ris"


@dataclass(frozen=True)
class FileFacts:
    """What reading a record file once tells: its size and content hash,
    format (from the content) and encoding, and a note when its name
    suggests another format."""

    path: str
    size: int
    sha256: str
    format: str
    encoding: Encoding
    note: str | None = None


def inspect_file(path: str) -> FileFacts:
    """Read a record file once (in chunks): its hash, format and encoding.
    Raises :class:`~metail2.errors.InputError` for a missing file, a folder,
    an empty file or a file that is not PubMed XML, MEDLINE or RIS."""
    name = os.fspath(path)
    if os.path.isdir(name):
        raise InputError(f"{name}: is a folder; give the record files in it")
    if not os.path.exists(name):
        raise InputError(f"{name}: no such file")
    h, size, decoder, is_utf8 = hashlib.sha256(), 0, codecs.getincrementaldecoder("utf-8")(), True
    head = b""
    for chunk in read_chunks(name)():
        head = head or chunk[:65536]
        h.update(chunk)
        size += len(chunk)
        if is_utf8:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                is_utf8 = False
    if size == 0:
        raise InputError(f"{name}: empty file")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        is_utf8 = False
    bom = decide(head, False, name, None, is_utf8=True)
    fmt = sniff_format(head.decode(bom.codec if "byte-order" in bom.how else "latin-1", errors="ignore"))
    if fmt is None:
        first = head.lstrip()[:40].decode("utf-8", errors="backslashreplace").splitlines()[0] if head.strip() else ""
        raise InputError(f"{name}: not PubMed XML, MEDLINE or RIS (it starts with {first!r}; PubMed XML starts "
                         "with '<', MEDLINE has 'PMID- ' lines, RIS 'TY  - ' lines)")
    encoding = decide(head, fmt == "pubmed-xml", name, read_chunks(name), is_utf8=is_utf8)
    named = format_from_name(name)
    note = (f"read as {LABELS[fmt]} (its content), though its name says {LABELS[named]}"
            if named is not None and named != fmt else None)
    return FileFacts(name, size, h.hexdigest(), fmt, encoding, note)


def file_format(path: str) -> str:
    """The format of a record file, from its content (:func:`inspect_file`)."""
    return inspect_file(path).format


@dataclass(frozen=True)
class FileImport:
    """What importing one file did: the search-log entry, the format, how
    many records were new, duplicates (linked) or already stored, the
    records skipped (with where and why), how the file was decoded; for a
    file already imported, that import (``already``: nothing was done); for
    a resumed import, how many items the run that stopped had stored."""

    search_id: int
    format: str
    counts: dict = field(default_factory=dict)
    issues: tuple[ParseIssue, ...] = ()
    encoding: Encoding | None = None
    already: SearchLog | None = None
    resumed: int = 0
    note: str | None = None

    def count(self, status: str) -> int:
        """How many records were 'new', 'duplicate' (linked) or 'existing' (already stored)."""
        return self.counts.get(status, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_file(store: Store, path: str, *, facts: FileFacts | None = None, batch_size: int | None = None
                ) -> FileImport:
    """Import the records of ``path`` into ``store`` as one logged import,
    streamed in batches (see the module docstring); ``facts`` from
    :func:`inspect_file` when already read; ``batch_size`` records per
    transaction (default :data:`BATCH`). Skipped records are kept in the
    search log's message."""
    batch_size = BATCH if batch_size is None else batch_size
    if batch_size < 1:
        raise InputError(f"batch size must be 1 or more (is {batch_size})")
    facts = facts or inspect_file(path)
    earlier = store.file_imports(facts.sha256)
    done = next((s for s in earlier if s.status == "complete"), None)
    if done is not None:
        return FileImport(done.id, facts.format, encoding=facts.encoding, already=done, note=facts.note)
    search_id = earlier[-1].id if earlier else None
    skip = store.stored_through(search_id, 0) if search_id is not None else 0
    issues: list[ParseIssue] = []
    counts: Counter = Counter()
    items = itertools.islice(READERS[facts.format](path, issues, encoding=facts.encoding), skip, None)
    start = skip
    try:
        for batch in _batches(items, batch_size):
            mark = (0, start, len(batch))
            if search_id is None:
                search_id, results = store.start_file_import(os.path.abspath(path), facts.format, facts.sha256,
                                                             batch, mark)
            else:
                results = store.add_records(search_id, batch, batch=mark)
            counts.update(r.status for r in results)
            start += len(batch)
        if search_id is None:  # no records: the import is still logged (PRISMA-S lists every source)
            search_id, _ = store.start_file_import(os.path.abspath(path), facts.format, facts.sha256, [], (0, 0, 0))
    except BaseException as exc:
        if search_id is not None:
            try:
                store.finish_search(search_id, "failed", f"stopped: {type(exc).__name__}: {exc}"[:1000])
            except Exception:  # noqa: BLE001  (the store may be what failed; the first error is the one to report)
                pass
        raise
    store.finish_search(search_id, "complete", "; ".join(map(str, issues)) or None,
                        count=store.search_record_count(search_id))
    return FileImport(search_id, facts.format, dict(counts), tuple(issues), facts.encoding, resumed=skip,
                      note=facts.note)
