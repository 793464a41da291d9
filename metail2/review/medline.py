"""PubMed's MEDLINE text export (``.txt``/``.nbib``), via Biopython's ``Bio.Medline``.

The file is read line by line (bounded memory), decoded by the rule of
:mod:`.encoding`; records are split at blank lines before ``PMID-`` and
parsed one at a time, so a broken record (or one holding bytes that are not
text) is skipped with an issue naming its line and the rest of the file is kept.
"""
from __future__ import annotations

import io
import os
from typing import IO, Iterator

from .encoding import Encoding, decoded_records
from .records import ParseIssue, Record, normalize_doi, year_in


def _doi(rec: dict) -> str | None:
    doi = None
    for aid in rec.get("AID", []):
        if aid.endswith("[doi]"):
            doi = aid[:-5].strip()
    lid = [x for x in rec.get("LID", []) if x.endswith("[doi]")] if isinstance(rec.get("LID"), list) else []
    return doi or (lid[0][:-5].strip() if lid else None)


def _authors(rec: dict) -> tuple[str, ...]:
    if rec.get("AU"):
        return tuple(rec["AU"])
    cn = rec.get("CN")
    return tuple(cn if isinstance(cn, list) else [cn] if cn else [])


def _chunks(fh: IO[str]) -> Iterator[tuple[int, str]]:
    """(first line, text) of each record: a ``PMID-`` line after a blank line starts one."""
    lines: list[str] = []
    start = 0
    blank = True
    for n, line in enumerate(fh, 1):
        line = line.rstrip("\n")
        if line.startswith("PMID-") and blank and lines:
            yield start, "\n".join(lines).strip()
            lines = []
        if not lines and not line.strip():
            blank = True
            continue
        if not lines:
            start = n
        lines.append(line)
        blank = not line.strip()
    if lines:
        yield start, "\n".join(lines).strip()


def iter_medline(path, issues: list[ParseIssue] | None = None, *, encoding: Encoding | None = None
                 ) -> Iterator[Record]:
    """Records of PubMed's MEDLINE text export (``.txt``/``.nbib``), via
    Biopython's ``Bio.Medline``; ``encoding`` by default decided by the rule
    of :mod:`.encoding`."""
    from Bio import Medline

    issues = issues if issues is not None else []
    name = os.fspath(path)
    for where, chunk in decoded_records(name, _chunks, issues, encoding):
        try:
            recs = list(Medline.parse(io.StringIO(chunk + "\n")))
        except Exception as exc:  # Bio.Medline raises ValueError and others on bad lines
            issues.append(ParseIssue(name, where, f"unreadable MEDLINE record: {exc}"))
            continue
        for rec in recs:
            pmid = (rec.get("PMID") or "").strip()
            if not pmid or not pmid.isdigit():
                issues.append(ParseIssue(name, where, "no PMID: skipped"))
                continue
            yield _record(rec, pmid, chunk)


def _record(rec: dict, pmid: str, chunk: str) -> Record:
    pmc = rec.get("PMC")
    la = rec.get("LA")
    return Record(
        pmid=pmid, title=rec.get("TI", ""), abstract=rec.get("AB", ""), authors=_authors(rec),
        journal=rec.get("JT", "") or rec.get("TA", ""), year=year_in(rec.get("DP", "")),
        volume=rec.get("VI", ""), issue=rec.get("IP", ""), pages=rec.get("PG", ""),
        doi=normalize_doi(_doi(rec)), pmcid=pmc.strip() if isinstance(pmc, str) else None,
        mesh_terms=tuple(h.split("/")[0].lstrip("*") for h in rec.get("MH", [])),
        publication_types=tuple(rec.get("PT", [])),
        language=(la or [""])[0] if isinstance(la, list) else rec.get("LA", ""),
        raw=chunk, raw_format="medline")
