"""Dual extraction: compare two reviewers' sheets of the same studies.

Rows are matched by ``study_id`` (with ``outcome`` and ``analysis`` where the
sheets have them); cells are compared one by one, numbers exactly (as
numbers: ``19`` equals ``19.0``), text after whitespace normalisation. The
reconciled sheet takes every cell where the two agree or one is empty, and
marks each conflict for a human as ``CONFLICT: A=… | B=…`` (which no check
or pooling accepts until it is resolved).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from .schema import BY_NAME, parse_number
from ._sheet import Row, Sheet

CONFLICT = "CONFLICT: "


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
    return (row.study_id, row.text("outcome"), row.text("analysis"))


def reconcile(a: Sheet, b: Sheet) -> Reconciliation:
    """Compare sheet ``a`` with sheet ``b`` cell by cell; see the module doc."""
    columns = list(a.columns) + [c for c in b.columns if c not in a.columns]
    b_rows = {_key(r): r for r in b.rows}
    a_keys = {_key(r) for r in a.rows}
    found: list[Disagreement] = []
    changes: dict[tuple[int, str], str] = {}
    compared = 0
    for i, ra in enumerate(a.rows):
        sid = ra.study_id
        rb = b_rows.get(_key(ra))
        if rb is None:
            found.append(Disagreement(sid, None, "", "", "row only in A", ra.line, None))
            changes[(i, "reconcile_note")] = "row only in A"
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
                if col not in a.columns:
                    changes[(i, col)] = va
            else:
                found.append(Disagreement(sid, col, va, vb, "conflict", ra.line, rb.line))
                changes[(i, col)] = f"{CONFLICT}A={_norm_text(va)} | B={_norm_text(vb)}"
    merged = a.with_cells(changes) if changes else a
    extra = [r for r in b.rows if _key(r) not in a_keys]
    if extra:
        cols = list(merged.columns)
        if "reconcile_note" not in cols:
            cols.append("reconcile_note")
        rows = list(merged.rows)
        last = max([r.line for r in rows] + [1])
        for n, rb in enumerate(extra, 1):
            found.append(Disagreement(rb.study_id, None, "", "", "row only in B", None, rb.line))
            cells = {c: rb.cells.get(c, "") for c in cols}
            cells["reconcile_note"] = "row only in B"
            rows.append(Row(last + n, MappingProxyType(cells)))
        from dataclasses import replace

        merged = replace(merged, columns=tuple(cols), rows=tuple(rows),
                         header=merged.header if tuple(cols) == merged.columns else None)
    return Reconciliation(a, b, tuple(found), compared, merged)
