"""The PRISMA 2020 flow counts (Page et al. 2021, BMJ 372:n71).

Identification counts every record each search or imported file found
(a file imported again with the same content is recognised and counted once;
a search or import that stopped is labelled incomplete until it is run
again); duplicates and records withdrawn by NCBI are removed; screening and
full-text assessment count the decision that counts for each unique record
(:func:`metail2.review.screening.settle`): a record whose reviewers disagree
is counted as a conflict awaiting a decision, never given one reviewer's
decision or exclusion reason. Exclusion reasons are compared and counted
ignoring case and spacing (they once had to match exactly).
"""
from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field

from .screening import CONFLICT, DECISIONS, reason_key, settled
from .store import Store


@dataclass(frozen=True)
class Prisma:
    """PRISMA 2020 flow counts (identification, screening, included)."""

    identified: dict = field(default_factory=dict)  # source label -> records
    identified_total: int = 0
    duplicates_removed: int = 0
    records_removed_other: int = 0  # withdrawn by NCBI (DeleteCitation)
    screened: int = 0
    excluded_screening: int = 0
    screening_pending: int = 0
    screening_conflicts: int = 0
    reports_sought: int = 0
    reports_assessed: int = 0
    reports_excluded: dict = field(default_factory=dict)  # reason -> n
    fulltext_pending: int = 0
    fulltext_conflicts: int = 0  # reviewers disagree on the decision or on the exclusion reason
    included: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    def table(self) -> str:
        lines = ["PRISMA 2020 flow", "Identification"]
        lines += [f"  Records identified from {src}: {n}" for src, n in self.identified.items()]
        lines += [f"  Records identified, total: {self.identified_total}",
                  f"  Duplicate records removed: {self.duplicates_removed}",
                  f"  Records removed for other reasons (withdrawn): {self.records_removed_other}",
                  "Screening",
                  f"  Records screened: {self.screened}",
                  f"  Records excluded: {self.excluded_screening}",
                  f"  Records awaiting screening: {self.screening_pending} (conflicts: {self.screening_conflicts})",
                  f"  Reports sought for retrieval: {self.reports_sought}",
                  f"  Reports assessed for eligibility: {self.reports_assessed}",
                  f"  Reports excluded: {sum(self.reports_excluded.values())}"]
        lines += [f"    {reason}: {n}" for reason, n in self.reports_excluded.items()]
        lines += [f"  Reports awaiting assessment: {self.fulltext_pending}"
                  + (f" (conflicts: {self.fulltext_conflicts})" if self.fulltext_conflicts else ""),
                  "Included", f"  Studies included in review: {self.included}"]
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def _source_label(s) -> str:
    unfinished = "" if s.status == "complete" else "; incomplete: run the same command again to finish it"
    if s.source == "pubmed":
        return f"PubMed (search {s.id}: {s.query}{unfinished})"
    return f"file {os.path.basename(s.query)} ({s.database}, import {s.id}{unfinished})"


def _by_reason(reasons) -> Counter:
    """Exclusion reasons counted ignoring case and spacing ("Not IL-2" is
    "not  IL-2"), each under its most used spelling (ties: the first in
    sorted order)."""
    spellings: dict[str, Counter] = {}
    for r in reasons:
        spellings.setdefault(reason_key(r), Counter())[r] += 1
    return Counter({max(sorted(c), key=c.__getitem__): sum(c.values()) for c in spellings.values()})


def prisma_counts(store: Store) -> Prisma:
    """The PRISMA 2020 counts of the review in ``store``."""
    identified = {_source_label(s): store.search_record_count(s.id) for s in store.searches()}
    total = sum(identified.values())
    unique = store.count_records()
    withdrawn = store.count_records(withdrawn=True)
    live = store.record_ids()
    ta = {k: v.decision for k, v in settled(store, "title-abstract").items() if k in live}
    sought = {k for k, v in ta.items() if v in ("include", "maybe")}
    ft = {k: v for k, v in settled(store, "full-text").items() if k in sought}
    assessed = sum(v.decision in ("include", "exclude") for v in ft.values())
    reasons = _by_reason(v.reason or "(no reason)" for v in ft.values() if v.decision == "exclude")
    return Prisma(
        identified=identified, identified_total=total, duplicates_removed=total - unique - withdrawn,
        records_removed_other=withdrawn, screened=unique,
        excluded_screening=sum(v == "exclude" for v in ta.values()),
        screening_pending=unique - sum(v in DECISIONS for v in ta.values()),
        screening_conflicts=sum(v == CONFLICT for v in ta.values()),
        reports_sought=len(sought), reports_assessed=assessed,
        reports_excluded=dict(sorted(reasons.items())),
        fulltext_pending=len(sought) - assessed,
        fulltext_conflicts=sum(v.decision == CONFLICT for v in ft.values()),
        included=sum(v.decision == "include" for v in ft.values()))
