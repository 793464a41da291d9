"""Importing record files: PubMed XML, MEDLINE text (``.txt``/``.nbib``) and RIS.

Each file is one entry of the search log (source ``file``, the file's
absolute path as the query, its format as the database) and its records one
transaction. The format is taken from the file name: ``.ris`` is RIS,
``.txt``/``.nbib``/``.medline`` MEDLINE, anything else PubMed XML.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Iterator

from .encoding import Encoding, file_encoding
from .medline import iter_medline
from .pubmed_xml import iter_pubmed_xml
from .records import ParseIssue
from .ris import iter_ris
from .store import AddResult, Store

#: format -> reader(path, issues) yielding records.
READERS: dict[str, Callable[..., Iterator]] = {"ris": iter_ris, "medline": iter_medline,
                                               "pubmed-xml": iter_pubmed_xml}


def file_format(path: str) -> str:
    """The format of a record file, from its name."""
    low = os.fspath(path).lower()
    if low.endswith(".ris"):
        return "ris"
    if low.endswith((".txt", ".nbib", ".medline")):
        return "medline"
    return "pubmed-xml"


@dataclass(frozen=True)
class FileImport:
    """What importing one file did."""

    search_id: int
    format: str
    results: tuple[AddResult, ...]
    issues: tuple[ParseIssue, ...]  # records skipped, with where and why
    encoding: Encoding | None = None  # how the file was decoded

    def count(self, status: str) -> int:
        """How many records were 'new', 'duplicate' (linked) or 'existing' (already stored)."""
        return sum(r.status == status for r in self.results)


def import_file(store: Store, path: str) -> FileImport:
    """Read every record of ``path`` and store them as one logged import.

    The whole file is read before anything is stored: a file that is not XML
    (:class:`~metail2.review.pubmed_xml.NotXMLError`) or is an NCBI error
    reply (``RuntimeError``) stores nothing. Skipped records are kept in the
    search log's message.
    """
    kind = file_format(path)
    issues: list[ParseIssue] = []
    encoding = file_encoding(path, xml=kind == "pubmed-xml")
    items = list(READERS[kind](path, issues, encoding=encoding))
    search_id = store.start_search("file", os.path.abspath(path), kind, {}, None)
    results = store.add_records(search_id, items)
    store.finish_search(search_id, "complete", "; ".join(map(str, issues)) or None, count=len(results))
    return FileImport(search_id, kind, tuple(results), tuple(issues), encoding)
