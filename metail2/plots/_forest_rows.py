"""The forest plot's rows and marks, top to bottom, as plain values.

A heading per subgroup naming the variable ("route = systemic"), study rows
(sorted as asked), a subtotal diamond with its weight, its prediction
interval (k ≥ 3), heterogeneity and overall-effect lines, the overall
diamond and the test for subgroup differences. A subgroup whose rows were
all excluded keeps its heading and a "Not estimable" subtotal.

Weights are those of the overall analysis (RevMan): study weights and
subtotal weights sum to 100 %, and squares compare across subgroups.
Proportions from counts are shown as observed, with exact (Clopper–Pearson)
study CIs; the test for an overall effect (against 0 on the transformed
scale, a proportion of 0.5 for logits) is not shown for them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..effects import study_ci
from ..models.subgroups import MISSING_GROUP
from ..report.format import heterogeneity_line, number, overall_test_line, subgroup_test_line
from ._forest_columns import data_columns, totals
from .fonts import wrap
from .style import PROPORTIONS, TRANSFORMATION, ForestStyle, level_label, measure_label

MARKERS = "†‡§¶"
SORTS = ("year", "weight", "effect")


@dataclass(frozen=True)
class PlotRow:
    """One row of the forest plot, top to bottom (``y`` decreases downwards).
    ``height`` is in rows (a wrapped study label takes more than one)."""

    kind: str  # header, study, subtotal, het, test, overall, pi, subgroup_test, blank
    y: float
    cells: tuple[str, ...] = ()
    right: tuple[str, ...] = ()
    span: str = ""  # text spanning the left table (heterogeneity and test lines)
    group: str | None = None
    study: str | None = None
    height: float = 1.0


@dataclass(frozen=True)
class Mark:
    """A mark in the plot region, on the natural scale, at row ``y``.

    ``kind`` is "study" (CI line, arrows, square), "diamond" or "pi"; ``name``
    the study or the fit ("Overall", a subgroup). ``line`` is the drawn
    segment clipped to the axis, ``arrows`` whether the interval runs past the
    left and right limits, ``area`` the square's area in pt² (a study inside
    the axis with a weight), ``vertices`` the diamond's (left, top, right, bottom).
    """

    kind: str
    name: str
    y: float
    estimate: float
    lower: float
    upper: float
    weight: float | None = None
    line: tuple[float, float] | None = None
    arrows: tuple[bool, bool] = (False, False)
    area: float | None = None
    vertices: tuple[tuple[float, float], ...] = ()


def clopper_pearson(x: float, n: float, level: float) -> tuple[float, float]:
    """Exact binomial CI of x/n (Clopper & Pearson 1934), as R meta's forest plots of proportions."""
    from scipy.special import betaincinv

    a = (1 - level) / 2
    lo = 0.0 if x <= 0 else float(betaincinv(x, n - x + 1, a))
    hi = 1.0 if x >= n else float(betaincinv(x + 1, n - x, 1 - a))
    return lo, hi


def study_interval(result, s) -> tuple[float, float, float, bool]:
    """A study's estimate and CI on the natural scale, and whether it is the
    exact CI of an observed proportion."""
    if result.measure.name in PROPORTIONS and s.counts is not None and len(s.counts) == 2:
        x, n = s.counts
        return (x / n, *clopper_pearson(x, n, result.level), True)
    est, lo, hi = study_ci(result.measure, s, result.level)
    if result.measure.name in PROPORTIONS:
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    return est, lo, hi, False


def _sorted(studies, sort, weights, result):
    if sort is None:
        return list(studies)

    def year(s):
        try:
            return float(s.row.text("year"))
        except ValueError:
            return math.inf

    key = {"year": year, "weight": lambda s: -weights.get(s.study_id, 0.0), "effect": lambda s: s.yi}[sort]
    return sorted(studies, key=key)


def groups_of(result):
    """(name, fit or None, studies) per subgroup in order, all-excluded subgroups (fit None) included."""
    by = result.by
    members: dict[str, list] = {g: [] for g in result.subgroups}
    for s in result.effects.studies:
        members.setdefault(s.row.text(by) or MISSING_GROUP, []).append(s)
    lines = {r.line: r for r in result.effects.sheet.rows}
    empty = []
    for e in result.effects.excluded:
        row = lines.get(e.source.line)
        g = (row.text(by) if row is not None else "") or MISSING_GROUP
        if g not in members and g not in empty:
            empty.append(g)
    names = list(result.subgroups)
    if names == sorted(names):
        names = sorted(names + empty)
    else:
        names += empty
    return [(g, result.subgroups.get(g), members.get(g, [])) for g in names]


def build_rows(result, st: ForestStyle, prediction: bool, text_width, *, sort: str | None = None,
               i2: str = "q") -> tuple[list[PlotRow], list[Mark], list[str]]:
    """The rows top to bottom, the marks (not yet resolved against the axis)
    and the footnotes (zero-cell corrections, how proportions are shown)."""
    jama = st.layout == "jama"
    lvl = level_label(result.level)
    heads, data, cols = data_columns(result, jama)
    n_data = len(heads)
    proportion = result.measure.name in PROPORTIONS
    weights = dict(zip(result.overall.study_ids, result.overall.weights))
    line_rows = st.fontsize * 1.2 / st.row_height
    rows: list[PlotRow] = []
    marks: list[Mark] = []
    notes: list[str] = []
    markers: dict[str, str] = {}
    exact = False
    y = 0.0

    def add(kind, cells=(), right=(), span="", group=None, study=None, step=1.0, height=1.0):
        nonlocal y
        rows.append(PlotRow(kind, y, tuple(cells), tuple(right), span, group, study, height))
        y -= step

    def table(first, data_cells, weight, ci):
        """(left cells, right cells) of a row in the style's layout."""
        if jama:
            return (first, *data_cells, ci), ()
        return (first, *data_cells), ((weight,) if st.weight_column else ()) + (ci,)

    def study_rows(studies):
        nonlocal exact
        for s in studies:
            est, lo, hi, ex = study_interval(result, s)
            exact |= ex
            w = weights.get(s.study_id)
            label = s.study_id
            if s.note:
                markers.setdefault(s.note, MARKERS[len(markers) % len(MARKERS)] * (1 + len(markers) // 4))
                label += markers[s.note]
            lines = wrap(label, st.label_width_in * 72, lambda t: text_width(t, st.fontsize, False)) or [label]
            extra = (len(lines) - 1) * line_rows
            yc = y - extra / 2
            marks.append(Mark("study", s.study_id, yc, est, lo, hi, w))
            cells, right = table("\n".join(lines), data[s.study_id],
                                 number(w, 1) + "%" if w is not None else "", st.ci(est, lo, hi))
            rows.append(PlotRow("study", yc, cells, right, study=s.study_id, height=1 + extra))
            y_step(1 + extra)

    def y_step(step):
        nonlocal y
        y -= step

    def summary_rows(name, g, studies, label, weight):
        n = g.natural
        lo, hi = n.ci_lower, n.ci_upper
        if result.measure.name == "PR" and (lo < 0 or hi > 1):
            lo, hi = max(lo, 0.0), min(hi, 1.0)
            notes.append(f"{name}: the pooled CI of the raw proportion is clipped to [0, 1]")
        marks.append(Mark("diamond", name, y, n.estimate, lo, hi))
        cells, right = table(label, totals(cols, studies) if not jama else (), weight, st.ci(n.estimate, lo, hi))
        add("subtotal" if name != "Overall" else "overall", cells, right, group=name)
        if prediction and getattr(g, "pi_lower", None) is not None and g.k >= 3:
            marks.append(Mark("pi", name, y, n.estimate, n.pi_lower, n.pi_upper))
            cells, right = table("Prediction interval", ("",) * n_data, "", st.interval(n.pi_lower, n.pi_upper))
            add("pi", cells, right, group=name)
        if hasattr(g, "q"):
            add("het", span=heterogeneity_line(g, st.decimals, i2=i2, p=st.p), group=name)
        if not proportion:
            add("test", span=overall_test_line(g, p=st.p), group=name)

    if result.subgroups:
        for gname, g, studies in groups_of(result):
            add("header", (f"{result.by} = {gname}",), group=gname)
            if g is None:  # every row of the subgroup was excluded
                cells, right = table(f"Subtotal ({lvl})", ("",) * n_data, "", "Not estimable")
                add("subtotal", cells, right, group=gname)
            else:
                study_rows(_sorted(studies, sort, weights, result))
                w = sum(weights.get(s.study_id, 0.0) for s in studies)
                summary_rows(gname, g, studies, f"Subtotal ({lvl})", number(w, 1) + "%")
            add("blank", step=0.6)
    else:
        study_rows(_sorted(result.effects.studies, sort, weights, result))
        add("blank", step=0.4)
    summary_rows("Overall", result.overall, result.effects.studies, f"Total ({lvl})", "100.0%")
    if result.subgroups:
        text = subgroup_test_line(result, figure=True, i2=i2 == "q", p=st.p)
        left_out = getattr(result.subgroup_test, "unclassified", ())
        if text and left_out:  # unknown groups (empty, 'not reported') are drawn but not tested
            text += f"; {', '.join(f'{result.by} = {g}' for g in left_out)} left out"
        if text:
            add("subgroup_test", span=text)

    footnotes = [f"{m} {note}" for note, m in markers.items()]
    if proportion:
        how = f"pooled on the {TRANSFORMATION[result.measure.name]} scale" + (
            ", back-transformed" if result.measure.name != "PR" else "")
        first = f"{measure_label(result.measure.name)}s with exact (Clopper–Pearson) {lvl}s; " if exact else ""
        footnotes.append(f"{first}{how}; no test against a null proportion.")
    return rows, marks, footnotes + notes


__all__ = ["MARKERS", "SORTS", "Mark", "PlotRow", "build_rows", "clopper_pearson", "groups_of", "study_interval"]
