"""Effect sizes from extraction sheets: metafor's ``escalc`` stage.

``escalc(sheet, measure)`` turns every row of a sheet into an effect size
``yi`` with its sampling variance ``vi`` on the analysis scale, or into an
exclusion with its reason. Each row uses whichever complete *input group* it
has (two-arm counts, means/SDs, single-arm counts, O−E and V, or a generic
estimate with SE, 95% CI or p-value), so one sheet can mix studies that report
counts with studies that report only a ratio and its CI.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..errors import Problem, SheetError
from ..sheets import Row, Sheet, check_sheet, read_sheet
from ..sheets.check import Excluded, Source, why_incomplete
from ..sheets.schema import INPUT_COLUMNS, parse_number
from .formulas import COMPUTE, Options, _Bad, _Exclude
from .measures import Measure, get_measure

# --------------------------------------------------------------------------- values

@dataclass(frozen=True)
class StudyEffect:
    """One study's effect size.

    Attributes
    ----------
    study_id : str
    yi, vi : float
        Effect size and sampling variance on the analysis scale.
    input : str
        The input group it was computed from (e.g. ``"two-arm counts"``).
    note : str or None
        Any adjustment made (e.g. the zero-cell correction).
    ni : float or None
        Total sample size, where the input gives one (used by ``PFT``).
    source : Source
    row : Row
        The sheet row (cells as written), for grouping and display.
    counts : tuple or None
        The raw counts as extracted, no correction: (a, n1, c, n2) for
        two-arm counts, (x, n) for single-arm counts — for Mantel–Haenszel,
        Peto and GLMMs; ``None`` for other inputs.
    """

    study_id: str
    yi: float
    vi: float
    input: str
    note: str | None
    ni: float | None
    source: Source
    row: Row = field(repr=False, compare=False)
    counts: tuple[float, ...] | None = None

    @property
    def sei(self) -> float:
        return math.sqrt(self.vi)

    def to_dict(self) -> dict:
        d = {"study_id": self.study_id, "yi": self.yi, "vi": self.vi, "input": self.input}
        if self.note:
            d["note"] = self.note
        d["source"] = self.source.to_dict()
        return d


@dataclass(frozen=True)
class EffectSizes:
    """The effect-size stage's value: studies with ``yi``/``vi``, and exclusions.

    Attributes
    ----------
    measure : Measure
    studies : tuple of StudyEffect
        In sheet order.
    excluded : tuple of Excluded
        In sheet order.
    sheet : Sheet
    selection : tuple of (column, value)
        The ``outcome``/``analysis`` this analysis is restricted to.
    """

    measure: Measure
    studies: tuple[StudyEffect, ...]
    excluded: tuple[Excluded, ...]
    sheet: Sheet = field(repr=False, compare=False)
    selection: tuple[tuple[str, str], ...] = ()

    @property
    def k(self) -> int:
        return len(self.studies)

    @classmethod
    def from_arrays(cls, yi, vi, measure: str | Measure = "MD", study_ids=None,
                    groups: Mapping[str, list] | None = None) -> "EffectSizes":
        """Effect sizes computed elsewhere (metafor's ``rma(yi, vi)``).

        ``groups`` maps extra column names to one value per study (for ``by``).
        Rows are numbered as lines 2, 3, … of a sheet named ``<arrays>``.
        """
        from types import MappingProxyType

        m = get_measure(measure)
        yi, vi = list(map(float, yi)), list(map(float, vi))
        if len(yi) != len(vi):
            raise ValueError("yi and vi differ in length")
        ids = [str(x) for x in (study_ids or range(1, len(yi) + 1))]
        extra = dict(groups or {})
        columns = ("study_id", "yi", "vi") + tuple(extra)
        rows, studies = [], []
        for i, (sid, y, v) in enumerate(zip(ids, yi, vi)):
            if not (math.isfinite(y) and math.isfinite(v) and v > 0):
                raise ValueError(f"study {sid}: yi must be finite and vi > 0 (yi={y}, vi={v})")
            cells = {"study_id": sid, "yi": repr(y), "vi": repr(v), **{c: str(vals[i]) for c, vals in extra.items()}}
            row = Row(i + 2, MappingProxyType(cells))
            rows.append(row)
            studies.append(StudyEffect(sid, y, v, "yi and vi", None, None, Source("<arrays>", i + 2), row))
        sheet = Sheet("<arrays>", columns, tuple(rows))
        return cls(m, tuple(studies), (), sheet)

    @property
    def yi(self) -> np.ndarray:
        return np.array([s.yi for s in self.studies], dtype=float)

    @property
    def vi(self) -> np.ndarray:
        return np.array([s.vi for s in self.studies], dtype=float)


def escalc(sheet, measure: str | Measure, *, drop00: bool = False, smd: str = "exact",
           outcome: str | None = None, analysis: str | None = None) -> EffectSizes:
    """Compute effect sizes ``yi`` and sampling variances ``vi`` for every row.

    Parameters
    ----------
    sheet : Sheet, path or pandas.DataFrame
        The extraction sheet.
    measure : str
        One of :data:`MEASURES` (``OR``, ``RR``, ``RD``, ``HR``, ``MD``,
        ``SMD``, ``PR``, ``PLO``, ``PFT``).
    drop00 : bool
        Drop two-arm tables with no events (or only events) in both arms, as
        RevMan does; by default they are kept with the 1/2 correction (metafor).
    smd : {"exact", "revman5"}
        Hedges' correction of the SMD (:class:`~metail2.effects.formulas.Options`).
    outcome, analysis : str, optional
        Restrict to the rows with this ``outcome`` / ``analysis``. A sheet
        holding more than one value in either column is refused without
        them: pooling several outcomes would count a study more than once.

    Returns
    -------
    EffectSizes
        Studies in sheet order; rows without a complete input group are listed
        in ``excluded`` with the reason.

    Raises
    ------
    SheetError
        With every problem found: the sheet's own (see
        :func:`~metail2.sheets.check_sheet`: cells that are not numbers,
        impossible values, empty or duplicate ``study_id``, …), missing columns
        for the measure, an ``input`` the measure cannot use, and no usable
        study.

    Notes
    -----
    A row uses the input group named in its ``input`` cell, else the first
    complete group in the measure's order (:attr:`Measure.inputs`): the
    study's own raw data first, then a generic estimate with its SE, 95% CI or
    p-value (a sheet check refuses rows where two complete groups compete and
    ``input`` is empty). Formulas are those of metafor's ``escalc``
    (Viechtbauer 2010) and are given in each input group's function.
    """
    if not isinstance(sheet, Sheet):
        sheet = read_sheet(sheet, validate=False) if not hasattr(sheet, "columns") else Sheet.from_frame(sheet)
    m = get_measure(measure)
    opts = Options(drop00=drop00, smd=smd)
    name = sheet.path
    problems: list[Problem] = list(check_sheet(sheet).errors)

    available = [g for g in m.inputs if all(c in sheet.columns for c in INPUT_COLUMNS[g])]
    if not available:
        wanted = " or ".join("+".join(INPUT_COLUMNS[g]) for g in m.inputs)
        problems.append(Problem(name, 1, None, None, f"no input columns for measure {m.name}: needs {wanted}"))
    if problems and (not available or "study_id" not in sheet.columns):
        raise SheetError(problems)

    selection, select_problems = _selection(sheet, outcome=outcome, analysis=analysis)
    if select_problems:
        raise SheetError(problems + select_problems)
    used_columns = sorted({c for g in available for c in INPUT_COLUMNS[g]})
    bad_rows = {p.line for p in problems}
    studies: list[StudyEffect] = []
    excluded: list[Excluded] = []
    for row in sheet.rows:
        if row.line in bad_rows:
            continue
        sid = row.study_id
        src = Source(name, row.line)
        other = [(c, w) for c, w in selection if row.text(c) != w]
        if other:
            if any(not row.text(c) for c, _ in other):
                excluded.append(Excluded(sid, "; ".join(f"{c} is empty (this analysis: {c} = {w})"
                                                        for c, w in other if not row.text(c)), src))
            continue
        values = {c: x for c in used_columns if (x := parse_number(row.cells.get(c, ""))) is not None}
        complete = [g for g in available if all(c in values for c in INPUT_COLUMNS[g])]
        chosen = row.text("input")
        if chosen:
            if chosen not in m.inputs:
                problems.append(Problem(name, row.line, sid, "input", f"input {chosen!r} cannot give {m.name}; "
                                        f"{m.name} takes: {', '.join(m.inputs)}"))
                continue
            if chosen not in complete:
                problems.append(Problem(name, row.line, sid, "input",
                                        f"input {chosen!r} is not complete in this row (needs "
                                        f"{', '.join(INPUT_COLUMNS[chosen])})"))
                continue
            complete = [chosen]
        if not complete:
            excluded.append(Excluded(sid, why_incomplete(row, values, m.name, available), src))
            continue
        group = complete[0]
        try:
            yi, vi, ni, note = COMPUTE[group]({c: values[c] for c in INPUT_COLUMNS[group]}, m, opts)
        except _Bad as exc:
            problems.append(Problem(name, row.line, sid, exc.column, exc.message))
            continue
        except _Exclude as exc:
            excluded.append(Excluded(sid, str(exc), src))
            continue
        except (OverflowError, ZeroDivisionError, ValueError) as exc:
            problems.append(Problem(name, row.line, sid, None,
                                    f"{group}: numbers too extreme to compute an effect size "
                                    f"({'a result overflows' if isinstance(exc, OverflowError) else exc})"))
            continue
        if not (math.isfinite(yi) and math.isfinite(vi) and vi > 0):
            problems.append(Problem(name, row.line, sid, None,
                                    f"{group} give no finite effect size (yi={yi}, vi={vi})"))
            continue
        counts = (tuple(values[c] for c in ("exp_events", "exp_total", "ctrl_events", "ctrl_total"))
                  if group == "two-arm counts" else
                  (values["events"], values["total"]) if group == "single-arm counts" else None)
        studies.append(StudyEffect(sid, float(yi), float(vi), group, note,
                                   None if ni is None else float(ni), src, row, counts))
    if not problems and not studies:
        problems.append(Problem(name, None, None, None,
                                f"no usable study for measure {m.name} "
                                f"({len(excluded)} row(s) excluded, {len(sheet.rows)} in the sheet)"))
    if problems:
        unique = list(dict.fromkeys(problems))
        unique.sort(key=lambda p: p.line or 0)
        raise SheetError(unique)
    return EffectSizes(m, tuple(studies), tuple(excluded), sheet, selection)


def _selection(sheet: Sheet, **wanted: str | None) -> tuple[tuple[tuple[str, str], ...], list[Problem]]:
    """The (column, value) restrictions asked for, and the problems: a column
    with several values and no choice, or a choice no row has."""
    selection, problems = [], []
    for col, want in wanted.items():
        if col not in sheet.columns:
            if want is not None:
                problems.append(Problem(sheet.path, 1, None, col, f"--{col} {want!r} given, but the sheet has no "
                                        f"{col!r} column"))
            continue
        values = sorted({r.text(col) for r in sheet.rows if r.text(col)})
        if want is None:
            if len(values) > 1:
                problems.append(Problem(sheet.path, None, None, col,
                                        f"the sheet holds {len(values)} values of {col} ({', '.join(map(repr, values))}); "
                                        f"pooling them together would count a study more than once: choose one "
                                        f"with --{col} VALUE"))
        elif want not in values:
            problems.append(Problem(sheet.path, None, None, col, f"no row has {col} = {want!r} "
                                    f"(values: {', '.join(map(repr, values)) or 'none'})"))
        else:
            selection.append((col, want))
    return tuple(selection), problems
