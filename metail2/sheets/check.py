"""Checking a sheet: every problem in one pass, and the rows that cannot be pooled.

The data-only rules of each input group (totals > 0, events ≤ total, SDs,
CI order, p in (0, 1]) are defined here once, in :func:`group_problem`;
the effect-size formulas of :mod:`metail2.effects` apply the same rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..errors import Problem, SheetError
from ._sheet import Row, Sheet
from .._spreadsheet import cell_problem
from .schema import BY_NAME, GENERIC, INPUT_COLUMNS, REQUIRED, check_cell, parse_number, text_cell_problems


@dataclass(frozen=True)
class Source:
    """Where a row came from: the sheet file and the line the row starts on."""

    file: str
    line: int

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line}


@dataclass(frozen=True)
class Excluded:
    """A row that was not pooled, with the reason."""

    study_id: str
    reason: str
    source: Source

    def to_dict(self) -> dict:
        return {"study_id": self.study_id, "reason": self.reason, "source": self.source.to_dict()}



def group_problem(group: str, v: Mapping[str, float]) -> tuple[str, str] | None:
    """The first data problem of one complete input group, as (column, message), or None.

    Notes
    -----
    Two-arm and single-arm counts: totals > 0, 0 ≤ events ≤ total;
    two-arm continuous: totals > 0, SDs ≥ 0, not both SDs 0; O−E and V:
    V > 0; generic: SE > 0, ci_lower < ci_upper with the estimate inside,
    0 < p ≤ 1 and an estimate off the null (0) when p < 1. Rules that depend
    on the measure (a ratio must be > 0) are the formulas' own.
    """
    if group == "two-arm counts":
        for col in ("exp_total", "ctrl_total"):
            if v[col] <= 0:
                return col, f"total must be > 0 (is {v[col]:g})"
        for col, tcol in (("exp_events", "exp_total"), ("ctrl_events", "ctrl_total")):
            if v[col] < 0:
                return col, f"events must be >= 0 (is {v[col]:g})"
            if v[col] > v[tcol]:
                return col, f"events ({v[col]:g}) exceed {tcol} ({v[tcol]:g})"
    elif group == "two-arm continuous":
        for col in ("exp_total", "ctrl_total"):
            if v[col] <= 0:
                return col, f"total must be > 0 (is {v[col]:g})"
        for col in ("exp_sd", "ctrl_sd"):
            if v[col] < 0:
                return col, f"SD must be >= 0 (is {v[col]:g})"
        if v["exp_sd"] == 0 and v["ctrl_sd"] == 0:
            return "exp_sd", "both SDs are 0: the mean difference has no variance"
    elif group == "single-arm counts":
        if v["total"] <= 0:
            return "total", f"total must be > 0 (is {v['total']:g})"
        if v["events"] < 0:
            return "events", f"events must be >= 0 (is {v['events']:g})"
        if v["events"] > v["total"]:
            return "events", f"events ({v['events']:g}) exceed total ({v['total']:g})"
    elif group == "O-E and V":
        if v["variance"] <= 0:
            return "variance", f"V must be > 0 (is {v['variance']:g})"
    elif group == "estimate and SE":
        if v["se"] <= 0:
            return "se", f"SE must be > 0 (is {v['se']:g})"
    elif group == "estimate and 95% CI":
        lo, hi, est = v["ci_lower"], v["ci_upper"], v["estimate"]
        if lo >= hi:
            return "ci_lower", f"ci_lower ({lo:g}) must be below ci_upper ({hi:g})"
        if not lo <= est <= hi:
            return "estimate", f"estimate ({est:g}) lies outside its CI [{lo:g}, {hi:g}]"
    elif group == "estimate and p":
        p = v["p_value"]
        if not 0 < p <= 1:
            return "p_value", f"p must be in (0, 1] (is {p:g})"
    return None


FAMILIES: Mapping[str, tuple[str, ...]] = {
    "two-arm binary (OR, RR, RD)": ("two-arm counts",),
    "two-arm continuous (MD, SMD)": ("two-arm continuous",),
    "single-arm (PR, PLO, PFT)": ("single-arm counts",),
    "survival (HR)": ("O-E and V",),
    "generic estimate (OR, RR, RD, HR, MD, SMD)": GENERIC,
}

@dataclass(frozen=True)
class SheetCheck:
    """What :func:`check_sheet` found.

    Attributes
    ----------
    sheet : Sheet
    problems : tuple of Problem
        Errors and warnings in file order.
    poolable : Mapping[str, int]
        Rows with a complete input group, per measure family.
    excluded : tuple
        :class:`~metail2.effects.Excluded` rows with no complete input group.
    """

    sheet: Sheet
    problems: tuple[Problem, ...]
    poolable: Mapping[str, int]
    excluded: tuple

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity != "error")

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> None:
        if self.errors:
            raise SheetError(self.errors)

    def summary(self) -> str:
        s = self.sheet
        lines = [f"{s.path}: {len(s.rows)} rows, {len(self.errors)} errors, {len(self.warnings)} warnings"]
        for fam, n in self.poolable.items():
            lines.append(f"  poolable, {fam}: {n}")
        lines.append(f"  not poolable (no complete input group): {len(self.excluded)}")
        lines += [f"    {e.study_id} (line {e.source.line}): {e.reason}" for e in self.excluded]
        return "\n".join(lines)


def check_sheet(sheet: Sheet) -> SheetCheck:
    """Validate a sheet against the schema; every problem in one pass.

    Checks: required columns; every canonical column's cells on their own
    (numbers, whole counts, ranges, year, PMID, DOI, URL, categories, stray
    whitespace); each complete input group's values together (totals > 0,
    events ≤ total, SD/SE/V, CI order and containment, p in (0, 1]); empty,
    duplicate (per ``outcome`` and ``analysis``) study_id; a row with several
    complete input groups for the same measure and no ``input`` saying which
    to use; ``count_basis`` against the counts (a "derived from percentage"
    row must reproduce ``reported_percent``; "percentage only" and
    "insufficient" rows must have no ``events``); empty rows and a byte-order
    mark (warnings).
    """
    name = sheet.path
    problems: list[Problem] = []
    if sheet.bom:
        problems.append(Problem(name, 1, None, None, "the file starts with a UTF-8 byte-order mark "
                                "(as Excel writes); harmless, but other tools may see it in the first column name",
                                "warning"))
    for c in sheet.columns:
        bad = cell_problem(c)
        if bad is not None:
            problems.append(Problem(name, 1, None, c, f"column name: {bad}"))
    for c in REQUIRED:
        if c not in sheet.columns:
            problems.append(Problem(name, 1, None, c, "required column is missing"))
    for line in sheet.blank_lines:
        problems.append(Problem(name, line, None, None, "empty row", "warning"))

    present = [g for g, cols in INPUT_COLUMNS.items() if all(c in sheet.columns for c in cols)]
    poolable = {fam: 0 for fam, groups in FAMILIES.items() if any(g in present for g in groups)}
    excluded = []
    seen: dict[tuple, int] = {}
    for row in sheet.rows:
        sid = row.study_id or None
        rp: list[Problem] = []

        def add(col, msg, severity="error"):
            rp.append(Problem(name, row.line, sid, col, msg, severity))

        if "study_id" in sheet.columns and not sid:
            add("study_id", "empty study_id")
        elif sid:
            key = (sid, row.text("outcome"), row.text("analysis"))
            if key in seen:
                add("study_id", f"duplicate study_id (first on line {seen[key]})")
            else:
                seen[key] = row.line
        values: dict[str, float] = {}
        for col in sheet.columns:
            spec = BY_NAME.get(col)
            text = row.cells.get(col, "")
            if spec is None:  # a column of the reviewer's own: kept, checked only as a cell
                bad = cell_problem(text)
                for severity, msg in [("error", bad)] if bad else text_cell_problems(text.strip()):
                    add(col, msg, severity)
                continue
            found = check_cell(spec, text)
            for severity, msg in found:
                add(col, msg, severity)
            if spec.numeric and not any(s == "error" for s, _ in found):
                x = parse_number(text)
                if x is not None:
                    values[col] = x
        bad_cols = {p.column for p in rp if p.severity == "error"}
        complete = [g for g in present if all(c in values for c in INPUT_COLUMNS[g])]
        for g in complete:
            found = group_problem(g, {c: values[c] for c in INPUT_COLUMNS[g]})
            if found is None and g == "estimate and p" and values["p_value"] < 1 and values["estimate"] == 0:
                found = ("estimate", f"estimate at the null value with p = {values['p_value']:g} < 1 is inconsistent")
            if found is not None and found[0] not in bad_cols:
                add(*found)
        generic = [g for g in complete if g in GENERIC]
        competing = [g for g in complete if g in ("two-arm counts", "two-arm continuous", "O-E and V")]
        if (len(generic) > 1 or (generic and competing)) and not row.text("input"):
            add("input", f"several complete input groups for one measure ({', '.join(competing + generic)}): "
                "name the one to use in column `input`")
        _check_count_basis(row, values, add)
        input_cols = {c for g in present for c in INPUT_COLUMNS[g]}
        has_errors = any(p.severity == "error" and p.column in input_cols for p in rp)
        if complete and not has_errors:
            for fam, groups in FAMILIES.items():
                if fam in poolable and any(g in complete for g in groups):
                    poolable[fam] += 1
        elif present and not has_errors:
            excluded.append(Excluded(sid or "", why_incomplete(row, values, "pooling", present),
                                     Source(name, row.line)))
        problems += rp
    problems.sort(key=lambda p: (p.line or 0))
    return SheetCheck(sheet, tuple(problems), poolable, tuple(excluded))


def _check_count_basis(row: Row, values: Mapping[str, float], add) -> None:
    basis = row.text("count_basis").lower()
    if not basis:
        return
    if basis.startswith(("percentage only", "insufficient")) and "events" in values:
        add("count_basis", "says there are no counts, but events is filled")
    if basis.startswith("derived from percentage"):
        pct_text = row.text("reported_percent")
        if not {"events", "total", "reported_percent"} <= set(values):
            add("count_basis", "derived from percentage needs events, total and reported_percent")
            return
        decimals = len(pct_text.split(".")[1]) if "." in pct_text else 0
        got = 100 * values["events"] / values["total"]
        if round(got, decimals) != round(values["reported_percent"], decimals):
            add("events", f"{values['events']:g}/{values['total']:g} = {got:.{decimals + 2}f}% does not reproduce "
                f"reported_percent {pct_text}")


def why_incomplete(row: Row, values: Mapping[str, float], measure: str, available: list[str]) -> str:
    """Why a row has no complete input group, naming what is empty (and the
    row's ``count_basis``, where the sheet has one)."""
    partial = []
    for g in available:
        have = [c for c in INPUT_COLUMNS[g] if c in values]
        if have:
            missing = [c for c in INPUT_COLUMNS[g] if c not in values]
            partial.append(f"{' and '.join(missing)} empty (has {', '.join(f'{c} = {values[c]:g}' for c in have)})")
    if partial:
        reason = f"no complete input for {measure}: " + "; ".join(partial)
    else:
        cols = list(dict.fromkeys(c for g in available for c in INPUT_COLUMNS[g]))
        reason = f"no input for {measure}: {', '.join(cols[:-1])} and {cols[-1]} are empty"
    basis = row.text("count_basis")
    if basis:
        reason += f" [count_basis: {basis}]"
    return reason
