"""Screening decisions and the PRISMA 2020 flow counts.

Reviewers screen in a spreadsheet: ``export_screening`` writes one row per
unique record (title, abstract, …) with empty ``decision``/``reason``
columns; ``import_screening`` reads a reviewer's filled sheet back.
Decisions are ``include``, ``exclude`` or ``maybe``; a reviewer named
``consensus`` settles a conflict. ``prisma_counts`` gives the PRISMA 2020
numbers (Page et al. 2021, BMJ 372:n71).
"""
from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field

from .._io import atomic_write
from ..errors import Problem, SheetError
from .store import Store, now

STAGES = ("title-abstract", "full-text")
DECISIONS = ("include", "exclude", "maybe")
COLUMNS = ("record_id", "pmid", "doi", "year", "first_author", "title", "journal", "abstract", "decision", "reason",
           "reviewer")


def _stage_records(store: Store, stage: str) -> list[dict]:
    recs = store.records()
    if stage == "full-text":
        keep = {rid for rid, d in final_decisions(store, "title-abstract").items() if d in ("include", "maybe")}
        recs = [r for r in recs if r["id"] in keep]
    return recs


def export_screening(store: Store, stage: str, path: str) -> int:
    """Write the screening sheet of ``stage`` (CSV or, for .xlsx, a workbook)."""
    if stage not in STAGES:
        raise SheetError([Problem("<arguments>", None, None, "stage", f"stage must be one of {', '.join(STAGES)}")])
    rows = [[str(r["id"]), r["pmid"] or "", r["doi"] or "", str(r["year"] or ""),
             r["authors"][0] if r["authors"] else "", r["title"], r["journal"], r["abstract"], "", "", ""]
            for r in _stage_records(store, stage)]
    if path.lower().endswith(".xlsx"):
        from openpyxl import Workbook
        from openpyxl.worksheet.datavalidation import DataValidation

        wb = Workbook()
        ws = wb.active
        ws.title = f"screening {stage}"[:31]
        ws.append(list(COLUMNS))
        for r in rows:
            ws.append(r)
        dv = DataValidation(type="list", formula1='"' + ",".join(DECISIONS) + '"', allow_blank=True)
        dv.add(f"I2:I{max(2, len(rows) + 1)}")
        ws.add_data_validation(dv)
        ws.freeze_panes = "A2"
        buf = io.BytesIO()
        wb.save(buf)
        atomic_write(path, buf.getvalue())
    else:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(rows)
        atomic_write(path, out.getvalue().encode("utf-8"))
    return len(rows)


def _read_rows(path: str) -> list[tuple[int, dict]]:
    if path.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        ws = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        values = list(ws.iter_rows(values_only=True))
        head = [str(h or "").strip() for h in values[0]]
        return [(i, {h: ("" if v is None else str(v)) for h, v in zip(head, row)})
                for i, row in enumerate(values[1:], start=2)]
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        return [(reader.line_num, row) for row in reader]


@dataclass(frozen=True)
class ImportReport:
    stored: int
    blank: int
    conflicts: tuple[dict, ...]


def import_screening(store: Store, path: str, reviewer: str, stage: str) -> ImportReport:
    """Store a reviewer's decisions from a filled screening sheet; every bad
    row is reported (file, line, record, column) and nothing is stored then."""
    problems: list[Problem] = []
    decisions = []
    known = {r[0] for r in store.db.execute("SELECT id FROM records")}
    blank = 0
    for line, row in _read_rows(path):
        rid_text = (row.get("record_id") or "").strip()
        decision = (row.get("decision") or "").strip().lower()
        if not decision:
            blank += 1
            continue
        if not rid_text.isdigit() or int(rid_text) not in known:
            problems.append(Problem(path, line, rid_text or None, "record_id", "unknown record"))
            continue
        if decision not in DECISIONS:
            problems.append(Problem(path, line, rid_text, "decision",
                                    f"{decision!r} is not one of: {', '.join(DECISIONS)}"))
            continue
        reason = (row.get("reason") or "").strip()
        if stage == "full-text" and decision == "exclude" and not reason:
            problems.append(Problem(path, line, rid_text, "reason", "a full-text exclusion needs a reason (PRISMA)"))
            continue
        decisions.append((int(rid_text), stage, reviewer, decision, reason, now()))
    if problems:
        raise SheetError(problems)
    with store.transaction() as db:
        db.executemany("INSERT OR REPLACE INTO screening VALUES (?, ?, ?, ?, ?, ?)", decisions)
    return ImportReport(len(decisions), blank, tuple(conflicts(store, stage)))


def conflicts(store: Store, stage: str) -> list[dict]:
    """Records whose reviewers disagree at ``stage`` (and no consensus yet)."""
    out = []
    by_rec: dict[int, dict[str, str]] = {}
    for rid, reviewer, decision in store.db.execute(
            "SELECT record_id, reviewer, decision FROM screening WHERE stage=? ORDER BY record_id, reviewer", (stage,)):
        by_rec.setdefault(rid, {})[reviewer] = decision
    for rid, ds in by_rec.items():
        if "consensus" not in ds and len(set(ds.values())) > 1:
            out.append({"record_id": rid, "decisions": ds})
    return out


def final_decisions(store: Store, stage: str) -> dict[int, str]:
    """record id -> include/exclude/maybe, or 'conflict' when reviewers disagree."""
    by_rec: dict[int, dict[str, str]] = {}
    for rid, reviewer, decision in store.db.execute(
            "SELECT record_id, reviewer, decision FROM screening WHERE stage=?", (stage,)):
        by_rec.setdefault(rid, {})[reviewer] = decision
    out = {}
    for rid, ds in by_rec.items():
        if "consensus" in ds:
            out[rid] = ds["consensus"]
        else:
            vals = set(ds.values())
            out[rid] = vals.pop() if len(vals) == 1 else "conflict"
    return out


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
        lines += [f"  Reports awaiting assessment: {self.fulltext_pending}", "Included",
                  f"  Studies included in review: {self.included}"]
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def prisma_counts(store: Store) -> Prisma:
    db = store.db
    identified = {}
    for s in db.execute("SELECT id, source, query, database FROM searches ORDER BY id"):
        n = db.execute("SELECT COUNT(*) FROM search_records WHERE search_id=?", (s["id"],)).fetchone()[0]
        label = f"PubMed (search {s['id']}: {s['query']})" if s["source"] == "pubmed" else \
            f"file {os.path.basename(s['query'])} ({s['database']}, import {s['id']})"
        identified[label] = n
    total = sum(identified.values())
    unique = db.execute("SELECT COUNT(*) FROM records WHERE duplicate_of IS NULL AND deleted=0").fetchone()[0]
    withdrawn = db.execute("SELECT COUNT(*) FROM records WHERE duplicate_of IS NULL AND deleted=1").fetchone()[0]
    ta = final_decisions(store, "title-abstract")
    live = {r[0] for r in db.execute("SELECT id FROM records WHERE duplicate_of IS NULL AND deleted=0")}
    ta = {k: v for k, v in ta.items() if k in live}
    sought = {k for k, v in ta.items() if v in ("include", "maybe")}
    ft = {k: v for k, v in final_decisions(store, "full-text").items() if k in sought}
    reasons = Counter()
    for rid, reason in db.execute("SELECT record_id, reason FROM screening WHERE stage='full-text' AND "
                                  "decision='exclude' GROUP BY record_id"):
        if ft.get(rid) == "exclude":
            reasons[reason or "(no reason)"] += 1
    return Prisma(
        identified=identified, identified_total=total, duplicates_removed=total - unique - withdrawn,
        records_removed_other=withdrawn, screened=unique,
        excluded_screening=sum(v == "exclude" for v in ta.values()),
        screening_pending=unique - sum(v in DECISIONS for v in ta.values()),
        screening_conflicts=sum(v == "conflict" for v in ta.values()),
        reports_sought=len(sought), reports_assessed=sum(v in ("include", "exclude") for v in ft.values()),
        reports_excluded=dict(sorted(reasons.items())),
        fulltext_pending=len(sought) - sum(v in ("include", "exclude") for v in ft.values()),
        included=sum(v == "include" for v in ft.values()))
