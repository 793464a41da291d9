"""RIS files in and out (via rispy).

The file is read line by line (bounded memory), decoded by the rule of
:mod:`.encoding`; records are split at ``ER  -`` lines and parsed one at a
time, so a broken record (or one holding bytes that are not text) is skipped
with an issue naming its line and the rest of the file is kept.
"""
from __future__ import annotations

import os
import re
from typing import IO, Iterable, Iterator

from .encoding import Encoding, decoded_records
from .records import ParseIssue, Record, normalize_doi, year_in

_END = re.compile(r"ER\s+-")


def _chunks(fh: IO[str]) -> Iterator[tuple[int, str]]:
    """(first line, text) of each record: the lines up to an ``ER  -`` line."""
    lines: list[str] = []
    start = 0
    for n, line in enumerate(fh, 1):
        if _END.match(line):
            if any(x.strip() for x in lines):
                yield start, "".join(lines).strip()
            lines = []
            continue
        if not lines or not any(x.strip() for x in lines):
            start = n
        lines.append(line)
    if any(x.strip() for x in lines):
        yield start, "".join(lines).strip()


def iter_ris(path, issues: list[ParseIssue] | None = None, *, encoding: Encoding | None = None
             ) -> Iterator[Record]:
    """Records of an RIS file (via rispy); a broken record is skipped with an
    issue; ``encoding`` by default decided by the rule of :mod:`.encoding`."""
    import rispy

    issues = issues if issues is not None else []
    name = os.fspath(path)
    for where, chunk in decoded_records(name, _chunks, issues, encoding):
        yield from _records(rispy, name, where, chunk + "\nER  - \n", issues)


def _records(rispy, name: str, where: str, body: str, issues: list[ParseIssue]) -> Iterator[Record]:
    try:
        entries = rispy.loads(body)
    except Exception as exc:  # rispy raises on a malformed line
        issues.append(ParseIssue(name, where, f"broken RIS record: {exc}"))
        return
    for e in entries:
        title = e.get("title") or e.get("primary_title") or ""
        if not title and not e.get("doi"):
            issues.append(ParseIssue(name, where, "no title and no DOI: skipped"))
            continue
        pmid = None
        for key in ("accession_number", "pubmed_id"):
            v = str(e.get(key) or "").strip()
            if v.isdigit():
                pmid = v
        authors = tuple(_ris_author(a) for a in (e.get("authors") or e.get("first_authors") or []))
        yield Record(
            pmid=pmid, title=title, abstract=e.get("abstract", ""), authors=authors,
            journal=e.get("secondary_title") or e.get("journal_name") or e.get("alternate_title1") or "",
            year=year_in(str(e.get("year") or e.get("publication_year") or "")),
            volume=str(e.get("volume", "")), issue=str(e.get("number", "")),
            pages="-".join(x for x in (str(e.get("start_page", "")), str(e.get("end_page", ""))) if x),
            doi=normalize_doi(e.get("doi")), mesh_terms=tuple(e.get("keywords", [])),
            language=e.get("language", ""), raw=body, raw_format="ris")


def _ris_author(a: str) -> str:
    """RIS "Last, First M." -> "Last FM"."""
    if "," not in a:
        return a.strip()
    last, first = a.split(",", 1)
    initials = "".join(p[0] for p in re.split(r"[\s.\-]+", first.strip()) if p)
    return f"{last.strip()} {initials}".strip()


def ris_entry(r: dict) -> dict:
    """A record (the store's dict) as a rispy entry."""
    e = {"type_of_reference": "BOOK" if r["kind"] == "book" else "JOUR", "title": r["title"],
         "authors": [_ris_name(a) for a in r["authors"]], "year": str(r["year"] or ""),
         "secondary_title": r["journal"], "volume": r["volume"], "number": r["issue"],
         "abstract": r["abstract"], "doi": r["doi"] or "", "keywords": r["mesh_terms"],
         "language": r["language"]}
    if r["pmid"]:
        e["accession_number"] = r["pmid"]
    if r["pages"]:
        sp, _, ep = r["pages"].partition("-")
        e["start_page"] = sp
        if ep:
            e["end_page"] = ep
    return {k: v for k, v in e.items() if v not in ("", [], None)}


def iter_ris_text(records: Iterable[dict]) -> Iterator[str]:
    """RIS text record by record (rispy), numbered and separated exactly as
    ``rispy.dumps`` of the whole list would be, without holding the list."""
    import rispy

    for i, r in enumerate(records, 1):
        text = rispy.dumps([ris_entry(r)])  # "1.\nTY  - …\nER  - \n"
        yield ("\n" if i > 1 else "") + f"{i}." + text[len("1."):]


def to_ris(records: Iterable[dict]) -> str:
    """Records (the store's dicts) as RIS text (rispy)."""
    return "".join(iter_ris_text(records))


def _ris_name(a: str) -> str:
    parts = a.rsplit(" ", 1)
    if len(parts) == 2 and parts[1].isupper() and len(parts[1]) <= 4:
        return f"{parts[0]}, {'. '.join(parts[1])}."
    return a
