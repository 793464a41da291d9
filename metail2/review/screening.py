"""Screening: sheets for reviewers, their decisions, and which decision counts.

Reviewers screen in a spreadsheet: ``export_screening`` writes one row per
unique record (title, abstract, …) with empty ``decision``/``reason``
columns and the sheet's ``stage`` on every row, atomically; text cells are
inert in a spreadsheet (CSV: a formula-like cell gets a leading ``'``,
:func:`metail2._spreadsheet.neutralise`; xlsx: string cells, never formulas)
and a cell a spreadsheet cannot hold (control characters, more than 32,767
characters) is refused with its record and column. ``import_screening``
reads a reviewer's filled sheet back, at the stage the sheet carries (a
``--stage`` that disagrees is refused). Nothing is stored when any row is
wrong: an unknown record, a bad decision, a full-text exclusion without a
reason, a record on two rows, another reviewer's name in the ``reviewer``
column. Reviewer names are compared ignoring case and spacing (``Consensus``
is ``consensus``) and may not be empty; a sheet that would change decisions
the reviewer already stored lists the changes and needs ``replace=True``
(``--replace``); rows left blank never remove a decision. Decisions are
``include``, ``exclude`` or ``maybe``; a full-text exclusion needs a reason.

Which decision counts for a record at a stage (:func:`settle`), the same
for every reader (the full-text sheet, PRISMA, ``sheet from-records``):

1. a decision by the reviewer named ``consensus`` settles the record: its
   decision and its reason count, whatever the others said;
2. otherwise, when every reviewer made the same decision, that decision
   counts; at full text an exclusion also needs the same reason from every
   reviewer, because PRISMA reports excluded reports by reason (reasons are
   compared ignoring case and spacing: "Not IL-2" is "not  IL-2");
3. otherwise the record is a ``conflict``: listed by ``screen conflicts``,
   counted as not yet decided, never given one reviewer's decision or
   reason.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .._io import atomic_write
from .._spreadsheet import cell_problem, neutralise, restore
from ..errors import InputError, Problem, SheetError
from .store import Decision, Store

STAGES = ("title-abstract", "full-text")
DECISIONS = ("include", "exclude", "maybe")
CONSENSUS = "consensus"
CONFLICT = "conflict"
COLUMNS = ("record_id", "pmid", "doi", "year", "first_author", "title", "journal", "abstract", "decision", "reason",
           "reviewer", "stage")
_FIELDS = ("id", "pmid", "doi", "year", "authors", "title", "journal", "abstract")


def reason_key(reason: str) -> str:
    """An exclusion reason as compared: case and spacing ignored."""
    return " ".join(reason.split()).casefold()


def same_reviewer(a: str, b: str) -> bool:
    return reason_key(a) == reason_key(b)


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
        if same_reviewer(d.reviewer, CONSENSUS):
            return Settled(d.decision, d.reason)
    if len({d.decision for d in decisions}) > 1:
        return Settled(CONFLICT, about="decision")
    reasons = {reason_key(d.reason) for d in decisions}
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


def _stage_records(store: Store, stage: str):
    recs = store.iter_records(_FIELDS)
    if stage == "full-text":
        keep = {rid for rid, d in final_decisions(store, "title-abstract").items() if d in ("include", "maybe")}
        recs = (r for r in recs if r["id"] in keep)
    return recs


def _check_stage(stage: str, what: str = "stage") -> None:
    if stage not in STAGES:
        raise InputError(f"{what} {stage!r} is not one of: {', '.join(STAGES)}")


def export_screening(store: Store, stage: str, path: str) -> int:
    """Write the screening sheet of ``stage`` (CSV or, for .xlsx, a
    workbook) atomically; return the number of records in it."""
    _check_stage(stage)
    rows = [[str(r["id"]), r["pmid"] or "", r["doi"] or "", str(r["year"] or ""),
             r["authors"][0] if r["authors"] else "", r["title"], r["journal"], r["abstract"], "", "", "", stage]
            for r in _stage_records(store, stage)]
    problems = [Problem(path, line, row[0], col, bad) for line, row in enumerate(rows, 2)
                for col, cell in zip(COLUMNS, row) if (bad := cell_problem(cell)) is not None]
    if problems:
        raise SheetError(problems)
    if path.lower().endswith(".xlsx"):
        atomic_write(path, _xlsx(rows, stage))
    else:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows([neutralise(c) for c in row] for row in rows)
        atomic_write(path, out.getvalue().encode("utf-8"))
    return len(rows)


def _xlsx(rows: list[list[str]], stage: str) -> bytes:
    """The workbook's bytes: every cell a string cell (text starting with
    "=" is text, not a formula), a decision list in column I."""
    from openpyxl import Workbook
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = f"screening {stage}"[:31]
    ws.append(list(COLUMNS))
    for r in rows:
        ws.append(r)
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":
                cell.data_type = "s"
    dv = DataValidation(type="list", formula1='"' + ",".join(DECISIONS) + '"', allow_blank=True)
    dv.add(f"I2:I{max(2, len(rows) + 1)}")
    ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _read_rows(path: str) -> tuple[list[str], list[tuple[int, dict]]]:
    """(header, [(line, row)]) of a filled screening sheet (CSV cells restored
    from their spreadsheet-safe form)."""
    if path.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            ws = load_workbook(path, read_only=True, data_only=True).worksheets[0]
            values = list(ws.iter_rows(values_only=True))
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001  (openpyxl raises many kinds for a file that is not a workbook)
            raise InputError(f"{path}: not an .xlsx workbook metail2 can read ({type(exc).__name__}: {exc})") from None
        if not values:
            raise InputError(f"{path}: the workbook's first sheet is empty")
        head = [str(h or "").strip() for h in values[0]]
        return head, [(i, {h: ("" if v is None else str(v)) for h, v in zip(head, row)})
                      for i, row in enumerate(values[1:], start=2)]
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            rows = [(reader.line_num, {k: restore(v or "") for k, v in row.items() if k is not None})
                    for row in reader]
            return [h.strip() for h in reader.fieldnames or []], rows
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02X}); save it as "
                         "\"CSV UTF-8\"") from None
    except csv.Error as exc:
        raise InputError(f"{path}: not a CSV file metail2 can read: {exc}") from None


@dataclass(frozen=True)
class ImportReport:
    """What importing a screening sheet stored: ``stored`` decisions written
    (``new`` ones plus ``changed`` ones), ``unchanged`` ones already stored,
    rows left ``blank``, the ``stage`` and ``reviewer`` (as stored), and the
    conflicts at that stage afterwards."""

    stored: int
    blank: int
    conflicts: tuple[dict, ...]
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    stage: str = ""
    reviewer: str = ""


def reviewer_name(store: Store, name: str) -> str:
    """The reviewer's name as stored: spacing collapsed, ``consensus`` in
    any case is ``consensus``, a name already in the store (ignoring case)
    keeps its stored spelling; an empty name is refused."""
    name = " ".join((name or "").split())
    if not name:
        raise InputError("the reviewer's name is empty: give it with --reviewer NAME")
    if same_reviewer(name, CONSENSUS):
        return CONSENSUS
    return next((r for r in store.reviewers() if same_reviewer(r, name)), name)


def _sheet_stage(path: str, head: list[str], rows: list[tuple[int, dict]], stage: str | None) -> str:
    """The stage the sheet carries, checked against ``stage`` (``--stage``)."""
    if stage is not None:
        _check_stage(stage, "--stage")
    if "stage" not in head:
        if stage is None:
            raise InputError(f"{path}: the sheet has no stage column (an older export): say which stage it is "
                             "with --stage title-abstract or --stage full-text")
        return stage
    found = {}
    for line, row in rows:
        value = (row.get("stage") or "").strip().lower()
        if value or (row.get("record_id") or "").strip():
            found.setdefault(value, line)
    if len(found) != 1 or next(iter(found)) not in STAGES:
        raise InputError(f"{path}: the stage column must hold one of {', '.join(STAGES)} on every row; it holds "
                         + ", ".join(f"{v or '(empty)'!r} (line {n})" for v, n in found.items()))
    sheet = next(iter(found))
    if stage is not None and stage != sheet:
        raise InputError(f"{path}: this is a {sheet} sheet (its stage column) but --stage {stage} was given; "
                         "nothing stored")
    return sheet


def _changes(path: str, reviewer: str, stage: str, prev: dict, changed: list) -> str:
    shown = [f"  record {rid}: {prev[rid].decision}{f' ({prev[rid].reason})' if prev[rid].reason else ''} -> "
             f"{d}{f' ({r})' if r else ''}" for rid, d, r in changed[:20]]
    more = [f"  … and {len(changed) - 20} more"] if len(changed) > 20 else []
    return "\n".join([f"{path}: {reviewer} already has {len(prev)} {stage} decisions stored (from an earlier "
                      f"sheet); this sheet changes {len(changed)} of them:", *shown, *more,
                      "import it with --replace to store these changes (rows left blank keep the earlier decisions); "
                      "nothing stored"])


def import_screening(store: Store, path: str, reviewer: str, stage: str | None = None, *,
                     replace: bool = False) -> ImportReport:
    """Store a reviewer's decisions from a filled screening sheet (see the
    module docstring); every bad row is reported (file, line, record,
    column) and nothing is stored then."""
    reviewer = reviewer_name(store, reviewer)
    head, rows = _read_rows(path)
    missing = [c for c in ("record_id", "decision") if c not in head]
    if missing:
        raise InputError(f"{path}: no {' or '.join(missing)} column: not a screening sheet")
    stage = _sheet_stage(path, head, rows, stage)
    problems: list[Problem] = []
    decisions: list[tuple[int, str, str]] = []
    known = store.record_ids(duplicates=True, withdrawn=True)
    first_line: dict[str, int] = {}
    blank = 0
    for line, row in rows:
        rid_text = (row.get("record_id") or "").strip()
        decision = (row.get("decision") or "").strip().lower()
        if not rid_text and not decision:
            continue
        if rid_text in first_line:
            problems.append(Problem(path, line, rid_text, "record_id",
                                    f"the same record as line {first_line[rid_text]}: one row per record"))
            continue
        first_line[rid_text] = line
        named = (row.get("reviewer") or "").strip()
        if named and not same_reviewer(named, reviewer):
            problems.append(Problem(path, line, rid_text, "reviewer", f"{named!r} here, but the sheet is "
                                    f"imported as {reviewer!r}'s; one reviewer per sheet"))
            continue
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
        reason = " ".join((row.get("reason") or "").split())
        if stage == "full-text" and decision == "exclude" and not reason:
            problems.append(Problem(path, line, rid_text, "reason", "a full-text exclusion needs a reason (PRISMA)"))
            continue
        decisions.append((int(rid_text), decision, reason))
    if problems:
        raise SheetError(problems)
    prev = {d.record_id: d for d in store.decisions(stage) if d.reviewer == reviewer}
    changed = [(rid, d, r) for rid, d, r in decisions if rid in prev and (prev[rid].decision, prev[rid].reason) != (d, r)]
    if changed and not replace:
        raise InputError(_changes(path, reviewer, stage, prev, changed))
    write = [x for x in decisions if x[0] not in prev or (prev[x[0]].decision, prev[x[0]].reason) != x[1:]]
    stored = store.save_decisions(stage, reviewer, write)
    return ImportReport(stored, blank, tuple(conflicts(store, stage)), new=len(write) - len(changed),
                        changed=len(changed), unchanged=len(decisions) - len(write), stage=stage, reviewer=reviewer)
