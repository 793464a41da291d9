"""Dual extraction: compare two reviewers' sheets of the same studies.

Rows are matched by ``study_id`` (with ``outcome`` and ``analysis`` where the
sheets have them); cells are compared one by one, numbers exactly (as
numbers: ``19`` equals ``19.0``), text after whitespace normalisation. The
reconciled sheet takes every cell where the two agree or one is empty, and
marks each conflict for a human as ``CONFLICT: A=… | B=…``, and a row
present in one sheet only as ``CONFLICT: row only in A`` in ``reconcile_note``
(which no check or pooling accepts until a human resolves it).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from types import MappingProxyType

from ..errors import Problem, SheetError
from .schema import BY_NAME, parse_number
from ._sheet import Row, Sheet

CONFLICT = "CONFLICT: "
#: The column that marks a row present in one sheet only.
NOTE = "reconcile_note"


@dataclass(frozen=True)
class Disagreement:
    """One cell (or row) where the two sheets differ.

    ``kind`` is ``conflict`` (both filled, different), ``only in A`` /
    ``only in B`` (one side empty: the filled value is taken), or
    ``row only in A`` / ``row only in B``.
    """

    study_id: str
    column: str | None
    a: str
    b: str
    kind: str
    line_a: int | None
    line_b: int | None

    @property
    def is_conflict(self) -> bool:
        return self.kind in ("conflict", "row only in A", "row only in B")

    def __str__(self) -> str:
        where = f"A:{self.line_a or '-'} B:{self.line_b or '-'}"
        if self.column is None:
            return f"{self.study_id} ({where}): {self.kind}"
        return f"{self.study_id} ({where}): {self.column}: A={self.a!r} B={self.b!r} ({self.kind})"


@dataclass(frozen=True)
class Reconciliation:
    """The comparison of two sheets and the reconciled sheet."""

    a: Sheet
    b: Sheet
    disagreements: tuple[Disagreement, ...]
    cells_compared: int
    merged: Sheet

    @property
    def conflicts(self) -> tuple[Disagreement, ...]:
        return tuple(d for d in self.disagreements if d.is_conflict)


def _norm_text(s: str) -> str:
    return " ".join(s.split())


def same_value(column: str, a: str, b: str) -> bool:
    """Equal as numbers when both are numbers, else equal as normalised text."""
    na, nb = _norm_text(a), _norm_text(b)
    if na == nb:
        return True
    spec = BY_NAME.get(column)
    if spec is None or spec.numeric:
        try:
            xa, xb = parse_number(na), parse_number(nb)
        except ValueError:
            return False
        return xa is not None and xa == xb
    return False


def _key(row: Row) -> tuple[str, str, str]:
    return (_norm_text(row.study_id), _norm_text(row.text("outcome")), _norm_text(row.text("analysis")))


def _describe(key: tuple[str, str, str]) -> str:
    sid, outcome, analysis = key
    extra = [f"{name} {v!r}" for name, v in (("outcome", outcome), ("analysis", analysis)) if v]
    return f"study_id {sid!r}" + (f" ({', '.join(extra)})" if extra else "")


def _only(side: str, sheet: Sheet) -> str:
    return (f"{CONFLICT}row only in {side} ({os.path.basename(sheet.path)}): "
            "keep the row or delete it, and clear this cell")


def _index(sheet: Sheet) -> tuple[dict[tuple, Row], list[Problem]]:
    """Rows by key; a key that appears twice is a problem naming both lines."""
    rows: dict[tuple, Row] = {}
    problems = []
    for r in sheet.rows:
        k = _key(r)
        if k in rows:
            problems.append(Problem(sheet.path, r.line, r.study_id or None, "study_id",
                                    f"{_describe(k)} also on line {rows[k].line}: rows are matched by study_id, "
                                    "outcome and analysis, so each must be unique in a sheet"))
        else:
            rows[k] = r
    return rows, problems


def reconcile(a: Sheet, b: Sheet) -> Reconciliation:
    """Compare sheet ``a`` with sheet ``b`` cell by cell; see the module doc.

    The comparison is symmetric: ``reconcile(b, a)`` reports the same
    disagreements with A and B swapped. A row present in one sheet only is
    taken into the reconciled sheet with ``reconcile_note`` marked
    ``CONFLICT: row only in A`` (or B), so that checking and pooling refuse it
    until a human keeps or deletes it.

    Raises
    ------
    SheetError
        A key (``study_id``, ``outcome``, ``analysis``) appears twice in
        either sheet: rows could not be matched (every duplicate named, with
        both lines).
    """
    a_rows, problems = _index(a)
    b_rows, more = _index(b)
    if problems or more:
        raise SheetError(problems + more)
    columns = list(a.columns) + [c for c in b.columns if c not in a.columns]
    found: list[Disagreement] = []
    changes: dict[tuple[int, str], str] = {}
    compared = 0
    for i, ra in enumerate(a.rows):
        sid = ra.study_id
        rb = b_rows.get(_key(ra))
        if rb is None:
            found.append(Disagreement(sid, None, "", "", "row only in A", ra.line, None))
            changes[(i, NOTE)] = _only("A", a)
            continue
        for col in columns:
            va, vb = ra.cells.get(col, ""), rb.cells.get(col, "")
            compared += 1
            if same_value(col, va, vb):
                continue
            if not va.strip():
                found.append(Disagreement(sid, col, va, vb, "only in B", ra.line, rb.line))
                changes[(i, col)] = vb
            elif not vb.strip():
                found.append(Disagreement(sid, col, va, vb, "only in A", ra.line, rb.line))
            else:
                found.append(Disagreement(sid, col, va, vb, "conflict", ra.line, rb.line))
                changes[(i, col)] = f"{CONFLICT}A={_norm_text(va)} | B={_norm_text(vb)}"
    merged = a.with_cells(changes) if changes else a
    extra = [r for k, r in b_rows.items() if k not in a_rows]
    if extra:
        cols = list(merged.columns)
        if NOTE not in cols:
            cols.append(NOTE)
        rows = list(merged.rows)
        last = max([r.line for r in rows] + [1])
        for n, rb in enumerate(extra, 1):
            found.append(Disagreement(rb.study_id, None, "", "", "row only in B", None, rb.line))
            cells = {c: rb.cells.get(c, "") for c in cols}
            cells[NOTE] = _only("B", b)
            rows.append(Row(last + n, MappingProxyType(cells)))
        merged = replace(merged, columns=tuple(cols), rows=tuple(rows),
                         header=merged.header if tuple(cols) == merged.columns else None)
    return Reconciliation(a, b, tuple(found), compared, merged)
