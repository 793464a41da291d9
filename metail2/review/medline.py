"""PubMed's MEDLINE text export (``.txt``/``.nbib``), via Biopython's ``Bio.Medline``.

Records are split at blank lines before ``PMID-`` and parsed one at a time,
so a broken record is skipped with an issue and the rest of the file is kept.
"""
from __future__ import annotations

import io
import os
import re
from typing import Iterator

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


def iter_medline(path, issues: list[ParseIssue] | None = None) -> Iterator[Record]:
    """Records of PubMed's MEDLINE text export (``.txt``/``.nbib``), via
    Biopython's ``Bio.Medline``."""
    from Bio import Medline

    issues = issues if issues is not None else []
    name = os.fspath(path)
    with open(name, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    chunks = [c for c in re.split(r"\n\s*\n(?=PMID-)", text.strip()) if c.strip()]
    for i, chunk in enumerate(chunks, 1):
        try:
            recs = list(Medline.parse(io.StringIO(chunk + "\n")))
        except Exception as exc:  # Bio.Medline raises ValueError and others on bad lines
            issues.append(ParseIssue(name, f"record {i}", f"unreadable MEDLINE record: {exc}"))
            continue
        for rec in recs:
            pmid = (rec.get("PMID") or "").strip()
            if not pmid or not pmid.isdigit():
                issues.append(ParseIssue(name, f"record {i}", "no PMID: skipped"))
                continue
            pmc = rec.get("PMC")
            la = rec.get("LA")
            yield Record(
                pmid=pmid, title=rec.get("TI", ""), abstract=rec.get("AB", ""), authors=_authors(rec),
                journal=rec.get("JT", "") or rec.get("TA", ""), year=year_in(rec.get("DP", "")),
                volume=rec.get("VI", ""), issue=rec.get("IP", ""), pages=rec.get("PG", ""),
                doi=normalize_doi(_doi(rec)), pmcid=pmc.strip() if isinstance(pmc, str) else None,
                mesh_terms=tuple(h.split("/")[0].lstrip("*") for h in rec.get("MH", [])),
                publication_types=tuple(rec.get("PT", [])),
                language=(la or [""])[0] if isinstance(la, list) else rec.get("LA", ""),
                raw=chunk, raw_format="medline")
