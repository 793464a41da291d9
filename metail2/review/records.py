"""The bibliographic record, whatever file it came from, and the keys that
find its duplicates.

A :class:`Record` is what every parser yields (:mod:`.pubmed_xml`,
:mod:`.medline`, :mod:`.ris`) and what the store keeps; a
:class:`Deletion` is PubMed's ``DeleteCitation``; a :class:`ParseIssue`
names a record that was skipped. Duplicates are found by PMID, then by
:func:`normalize_doi`, then by :func:`title_key` (normalised title + year +
first author's surname).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Record:
    """One bibliographic record, whatever file it came from.

    ``authors`` are "Last Initials" for a person and the group's name for a
    collective author; ``abstract`` joins structured sections as
    "LABEL: text" paragraphs (``abstract_sections`` keeps them apart).
    ``raw`` is the text the record was parsed from; ``raw_format`` says which
    (``pubmed-xml``, ``medline``, ``ris``).
    """

    pmid: str | None
    title: str = ""
    abstract: str = ""
    abstract_sections: tuple[tuple[str, str], ...] = ()
    authors: tuple[str, ...] = ()
    journal: str = ""
    year: int | None = None
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str | None = None
    pmcid: str | None = None
    mesh_terms: tuple[str, ...] = ()
    publication_types: tuple[str, ...] = ()
    language: str = ""
    kind: str = "article"  # article, book
    raw: str = field(default="", repr=False)
    raw_format: str = "pubmed-xml"

    def to_json(self) -> dict:
        d = asdict(self)
        for k in ("raw", "raw_format", "abstract_sections"):
            d.pop(k)
        for k in ("authors", "mesh_terms", "publication_types"):
            d[k] = list(d[k])
        return d


@dataclass(frozen=True)
class Deletion:
    """A ``DeleteCitation``: PMIDs NCBI has withdrawn."""

    pmids: tuple[str, ...]


@dataclass(frozen=True)
class ParseIssue:
    """A record skipped, or a file that stopped parsing, with where and why."""

    source: str
    where: str  # "PMID 123", "record 4", "line 17"
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.where}: {self.message}"


def normalize_doi(doi: str | None) -> str | None:
    """Lower-case DOI without resolver prefix or "doi:"; None if not a DOI.

    Examples
    --------
    >>> normalize_doi("https://doi.org/10.1136/GUTJNL-2016-312510")
    '10.1136/gutjnl-2016-312510'
    >>> normalize_doi("PMC5442267") is None
    True
    """
    if not doi:
        return None
    d = doi.strip().lower()
    d = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", d)
    return d if d.startswith("10.") else None


def title_key(title: str, year: int | None, first_author: str) -> str:
    """Normalised title + year + first author's surname: the last-resort
    duplicate key (accents, case, punctuation and spacing removed).

    Examples
    --------
    >>> title_key("Ünïcode: Title!", 2000, "Müller A")
    'unicode title|2000|muller'
    """
    t = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    t = re.sub(r"[^a-z0-9]+", " ", t).strip()
    surname = unicodedata.normalize("NFKD", first_author.split(" ")[0] if first_author else "")
    surname = re.sub(r"[^a-z]", "", surname.encode("ascii", "ignore").decode().lower())
    return f"{t}|{year or ''}|{surname}" if t else ""


def year_in(text: str) -> int | None:
    """The first plausible publication year (1600–2099) in free text
    ("1998 Dec-1999 Jan", "2001 Spring"), or None."""
    m = re.search(r"\b(1[6-9]\d\d|20\d\d)\b", text or "")
    return int(m.group(1)) if m else None
