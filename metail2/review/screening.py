"""Screening: sheets for reviewers, their decisions, and which decision counts.

Reviewers screen in a spreadsheet: ``export_screening`` writes one row per
unique record (title, abstract, …) with empty ``decision``/``reason``
columns; ``import_screening`` reads a reviewer's filled sheet back.
Decisions are ``include``, ``exclude`` or ``maybe``; a full-text exclusion
needs a reason.

Which decision counts for a record at a stage (:func:`settle`), the same
for every reader (the full-text sheet, PRISMA, ``sheet from-records``):

1. a decision by the reviewer named ``consensus`` settles the record: its
   decision and its reason count, whatever the others said;
2. otherwise, when every reviewer made the same decision, that decision
   counts; at full text an exclusion also needs the same reason from every
   reviewer, because PRISMA reports excluded reports by reason;
3. otherwise the record is a ``conflict``: listed by ``screen conflicts``,
   counted as not yet decided, never given one reviewer's decision or
   reason.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .._io import atomic_write
from ..errors import Problem, SheetError
from .store import Decision, Store

STAGES = ("title-abstract", "full-text")
DECISIONS = ("include", "exclude", "maybe")
CONSENSUS = "consensus"
CONFLICT = "conflict"
COLUMNS = ("record_id", "pmid", "doi", "year", "first_author", "title", "journal", "abstract", "decision", "reason",
           "reviewer")


@dataclass(frozen=True)
class Settled:
    """The decision that counts for one record at one stage (see the module
    docstring): ``decision`` is include, exclude, maybe or ``conflict``;
    ``reason`` is the reason that counts ("" when none does); ``about`` says
    what a conflict is about ("decision" or "reason"; "" when settled)."""

    decision: str
    reason: str = ""
    about: str = ""


def settle(decisions: list[Decision]) -> Settled:
    """The decision that counts among one record's decisions at one stage."""
    for d in decisions:
        if d.reviewer == CONSENSUS:
            return Settled(d.decision, d.reason)
    if len({d.decision for d in decisions}) > 1:
        return Settled(CONFLICT, about="decision")
    reasons = {d.reason for d in decisions}
    first = decisions[0]
    if first.stage == "full-text" and first.decision == "exclude" and len(reasons) > 1:
        return Settled(CONFLICT, about="reason")
    return Settled(first.decision, first.reason if len(reasons) == 1 else "")


def _by_record(store: Store, stage: str) -> dict[int, list[Decision]]:
    out: dict[int, list[Decision]] = {}
    for d in store.decisions(stage):
        out.setdefault(d.record_id, []).append(d)
    return out


def settled(store: Store, stage: str) -> dict[int, Settled]:
    """record id -> the decision that counts at ``stage``, for every record with a decision."""
    return {rid: settle(ds) for rid, ds in _by_record(store, stage).items()}


def final_decisions(store: Store, stage: str) -> dict[int, str]:
    """record id -> include/exclude/maybe, or 'conflict' when reviewers disagree."""
    return {rid: s.decision for rid, s in settled(store, stage).items()}


def conflicts(store: Store, stage: str) -> list[dict]:
    """Records whose reviewers disagree at ``stage`` (and no consensus yet), by
    record id: ``record_id``, ``about`` ("decision" or "reason"), and each
    reviewer's ``decisions`` and ``reasons``."""
    out = []
    for rid, ds in _by_record(store, stage).items():
        s = settle(ds)
        if s.decision == CONFLICT:
            out.append({"record_id": rid, "about": s.about, "decisions": {d.reviewer: d.decision for d in ds},
                        "reasons": {d.reviewer: d.reason for d in ds}})
    return out


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
    known = store.record_ids(duplicates=True, withdrawn=True)
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
        decisions.append((int(rid_text), decision, reason))
    if problems:
        raise SheetError(problems)
    store.save_decisions(stage, reviewer, decisions)
    return ImportReport(len(decisions), blank, tuple(conflicts(store, stage)))
