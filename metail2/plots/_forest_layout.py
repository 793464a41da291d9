"""The layout of a forest plot, computed without a figure or axes.

:func:`forest_layout` turns a pooled result into plain values: the rows top to
bottom (a header per subgroup, study rows, a subtotal diamond with its
prediction interval, heterogeneity and test lines, the overall diamond, the
test for subgroup differences), the marks in the plot region on the natural
scale (CI lines clipped to the axis with arrows, squares whose area is
proportional to the weight, diamonds, prediction intervals), every text with
its column and alignment, the column widths measured from the text, the axis
limits and ticks, the notes on the rows not pooled, and the figure's size.
:func:`metail2.plots.forest` draws it.

Text widths come from a function ``text_width(text, size, bold) -> points``;
by default the font's metrics (matplotlib, loaded on the first call; no
renderer). Pass another to lay out without matplotlib at all.

Coordinates: ``y`` in rows (the first row at 0, downwards negative; header
lines above 0); ``x`` of a text in points from an anchor: the plot region's
``"left"`` edge (the left table, negative offsets), its ``"right"`` edge (the
right table) or its ``"center"``.
"""
from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..effects import study_ci
from ..models.subgroups import MISSING_GROUP
from ..report.format import (MINUS, estimate_ci, heterogeneity_line, interval, number, overall_test_line,
                             subgroup_test_line)
from ._forest_columns import data_columns, totals
from .style import ForestStyle, measure_label, model_label

#: ``text_width(text, size_pt, bold) -> width_pt``
TextWidth = Callable[[str, float, bool], float]

#: Row kinds whose text is bold.
BOLD_KINDS = ("header", "subtotal", "overall")
#: Header lines, in rows above the first row: the column heads, the lines above them.
TOP, UPPER = 0.95, 1.75
MARGIN = 8.0  # points around the figure
DIAMOND_HALF_HEIGHT = 0.32  # rows
LOG_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)


@dataclass(frozen=True)
class PlotRow:
    """One row of the forest plot, top to bottom (``y`` decreases downwards)."""

    kind: str  # header, study, subtotal, het, test, overall, pi, subgroup_test, blank
    y: float
    cells: tuple[str, ...] = ()
    right: tuple[str, ...] = ()
    span: str = ""  # text spanning the left table (heterogeneity and test lines)
    group: str | None = None


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


@dataclass(frozen=True)
class Text:
    """A text: ``x`` in points from ``anchor``, ``y`` in rows, ``size`` in points."""

    text: str
    x: float
    y: float
    size: float
    anchor: str = "left"  # left / right edge of the plot region, or its center
    ha: str = "left"
    va: str = "center"
    bold: bool = False
    italic: bool = False


@dataclass(frozen=True)
class ForestLayout:
    """Everything :func:`metail2.plots.forest` draws, as plain values (points,
    rows, natural-scale data)."""

    style: ForestStyle
    rows: tuple[PlotRow, ...]
    marks: tuple[Mark, ...]
    texts: tuple[Text, ...]  # column heads and table cells, in drawing order
    left_columns: tuple[tuple[float, float], ...]  # (offset from the left edge, width), points
    right_columns: tuple[tuple[float, float], ...]  # (offset from the right edge, width), points
    rule: tuple[float, float] | None  # header rule: from (left edge + a) to (right edge + b), points
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    log: bool
    null: float | None
    ticks: tuple[float, ...] | None  # fixed ticks (log axis); None: automatic
    x_label: str
    favours: tuple[str, str] | None  # texts left and right of favours_x, favours_offset points below the axis
    favours_x: float | None
    favours_offset: float
    title: Text | None
    notes: tuple[str, ...]  # rows not pooled, wrapped; the first line is a heading
    notes_top: float  # points below the axes' bottom (negative) and left of its left edge
    notes_left: float
    note_step: float
    figsize: tuple[float, float]  # inches, when the figure is made for the plot
    axes_rect: tuple[float, float, float, float]  # figure fractions

    @property
    def show_null(self) -> bool:
        return self.null is not None and self.xlim[0] < self.null < self.xlim[1]

    @property
    def squares(self) -> tuple[tuple[str, float, float, float], ...]:
        """(study_id, x, y, area pt²) of every square drawn."""
        return tuple((m.name, m.estimate, m.y, m.area) for m in self.marks
                     if m.kind == "study" and m.area is not None)

    @property
    def diamonds(self) -> tuple[tuple[str, tuple[tuple[float, float], ...]], ...]:
        return tuple((m.name, m.vertices) for m in self.marks if m.kind == "diamond")


def font_metrics_width(font: str) -> TextWidth:
    """Widths in points from the font's metrics (matplotlib's TextToPath,
    loaded on the first call; no figure or renderer)."""

    def width(s: str, size: float, bold: bool = False) -> float:
        if not s:
            return 0.0
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import TextToPath

        prop = FontProperties(family=font, size=size, weight="bold" if bold else "normal")
        return TextToPath().get_text_width_height_descent(s, prop, ismath=False)[0]

    return width


# --------------------------------------------------------------------------- rows and marks

def build_rows(result, style: ForestStyle, prediction: bool) -> tuple[list[PlotRow], list[Mark]]:
    """The rows top to bottom and the marks (not yet resolved against the axis)."""
    d = style.decimals
    heads, data = data_columns(result)
    rows: list[PlotRow] = []
    marks: list[Mark] = []
    y = 0.0

    def add(kind, cells=(), right=(), span="", group=None, step=1.0):
        nonlocal y
        rows.append(PlotRow(kind, y, tuple(cells), tuple(right), span, group))
        y -= step

    def study_rows(studies, weights):
        for s in studies:
            est, lo, hi = study_ci(result.measure, s, result.level)
            w = weights.get(s.study_id)
            marks.append(Mark("study", s.study_id, y, est, lo, hi, w))
            add("study", (s.study_id,) + data[s.study_id],
                ((number(w, 1) + "%" if w is not None else ""), estimate_ci(est, lo, hi, d, minus=MINUS)))

    def summary_rows(name, g, studies, label, with_weight=""):
        n = g.natural
        marks.append(Mark("diamond", name, y, n.estimate, n.ci_lower, n.ci_upper))
        add("subtotal" if name != "Overall" else "overall", (label,) + totals(heads, studies),
            (with_weight, estimate_ci(n.estimate, n.ci_lower, n.ci_upper, d, minus=MINUS)), group=name)
        if prediction and getattr(g, "pi_lower", None) is not None:
            marks.append(Mark("pi", name, y, n.estimate, n.pi_lower, n.pi_upper))
            add("pi", ("Prediction interval",), ("", interval(n.pi_lower, n.pi_upper, d, minus=MINUS)), group=name)
        if hasattr(g, "q"):
            add("het", span=heterogeneity_line(g, d), group=name)
        add("test", span=overall_test_line(g), group=name)

    if result.subgroups:
        by_group: dict[str, list] = {g: [] for g in result.subgroups}
        for s in result.effects.studies:
            by_group.setdefault(s.row.text(result.by) or MISSING_GROUP, []).append(s)
        for gname, g in result.subgroups.items():
            studies = by_group[gname]
            if result.subgroup_tau2 == "separate":
                weights = dict(zip(g.study_ids, g.weights))
            else:
                weights = dict(zip(result.overall.study_ids, result.overall.weights))
            add("header", (gname,), group=gname)
            study_rows(studies, weights)
            summary_rows(gname, g, studies, "Subtotal (95% CI)")
            add("blank", step=0.6)
    else:
        study_rows(result.effects.studies, dict(zip(result.overall.study_ids, result.overall.weights)))
        add("blank", step=0.4)
    summary_rows("Overall", result.overall, result.effects.studies, "Total (95% CI)",
                 "100.0%" if not result.subgroups else "")
    if result.subgroups:
        text = subgroup_test_line(result, figure=True)
        if text:
            add("subgroup_test", span=text)
    return rows, marks


def nice_limits(marks, log: bool, null) -> tuple[float, float]:
    """Axis limits covering every estimate, pooled CI and the null line, and
    the study CIs unless they run more than 1.5 spans beyond (then clipped), padded 4 %."""
    ests = [m.estimate for m in marks if m.estimate is not None and math.isfinite(m.estimate)]
    pooled = [x for m in marks if m.kind != "study" for x in (m.lower, m.upper) if x is not None and math.isfinite(x)]
    cis = [x for m in marks if m.kind == "study" for x in (m.lower, m.upper) if x is not None and math.isfinite(x)]
    f = (lambda v: math.log(v)) if log else (lambda v: v)
    g = (lambda v: math.exp(v)) if log else (lambda v: v)
    core = [f(v) for v in ests + pooled + ([null] if null is not None else []) if not log or v > 0]
    lo_c, hi_c = min(core), max(core)
    span = max(hi_c - lo_c, 1e-9)
    allv = core + [f(v) for v in cis if not log or v > 0]
    lo = max(min(allv), lo_c - 1.5 * span)  # a CI far outside is clipped (arrow)
    hi = min(max(allv), hi_c + 1.5 * span)
    pad = 0.04 * (hi - lo)
    return g(lo - pad), g(hi + pad)


def log_ticks(lo: float, hi: float) -> tuple[float, ...]:
    """Ticks of a log axis: 1-2-5 steps inside the limits, only 1s and 5s when more than 7."""
    ticks = [t for t in LOG_TICKS if lo <= t <= hi]
    if len(ticks) > 7:
        ticks = [t for t in ticks if str(t)[0] in "15"]
    return tuple(ticks)


def resolve_marks(marks, xlim, max_square: float) -> tuple[Mark, ...]:
    """Clip the marks to the axis: CI lines and arrows, square areas (the
    heaviest study's square has ``max_square`` pt²), diamond vertices."""
    lo_lim, hi_lim = xlim
    max_w = max([m.weight for m in marks if m.kind == "study" and m.weight] + [1e-12])
    out = []
    for m in marks:
        if m.kind == "study":
            area = max_square * m.weight / max_w if lo_lim <= m.estimate <= hi_lim and m.weight else None
            m = replace(m, line=(max(m.lower, lo_lim), min(m.upper, hi_lim)),
                        arrows=(m.lower < lo_lim, m.upper > hi_lim), area=area)
        elif m.kind == "diamond":
            h = DIAMOND_HALF_HEIGHT
            m = replace(m, vertices=((m.lower, m.y), (m.estimate, m.y + h), (m.upper, m.y), (m.estimate, m.y - h)))
        elif m.kind == "pi":
            m = replace(m, line=(max(m.lower, lo_lim), min(m.upper, hi_lim)))
        out.append(m)
    return tuple(out)


# --------------------------------------------------------------------------- the layout

def forest_layout(result, style: ForestStyle, *, prediction: bool = False, favours: tuple[str, str] = ("", ""),
                  xlim: tuple[float, float] | None = None, title: str | None = None,
                  show_excluded: bool = True, text_width: TextWidth | None = None) -> ForestLayout:
    """Lay out the forest plot of a pooled result (see the module's doc); the
    arguments are :func:`metail2.plots.forest`'s, with ``style`` resolved."""
    st = style
    tw = text_width or font_metrics_width(st.font)
    m = result.measure
    log = m.natural == "exp"
    null = 1.0 if log else (0.0 if m.natural == "identity" and m.name not in ("PR",) else None)
    rows, marks = build_rows(result, st, prediction)
    heads, _ = data_columns(result)
    left_heads = ("Study or subgroup",) + tuple(h for _, h in heads)
    supers = ("",) + tuple(s for s, _ in heads)
    label = measure_label(m.name)
    plot_head = (label, model_label(result))
    right_heads = (("Weight",) if st.weight_column else ()) + (f"{label} [95% CI]",)
    if not st.weight_column:
        rows = [replace(r, right=r.right[1:]) for r in rows]

    # column widths from the text (points); the heads and the bold rows measured bold
    bold_rows = {0} | {i + 1 for i, r in enumerate(rows) if r.kind in BOLD_KINDS}

    def width(col_texts):
        return max(tw(t, st.fontsize, i in bold_rows) for i, t in enumerate(col_texts))

    left_w = [width([left_heads[j]] + [r.cells[j] if j < len(r.cells) else "" for r in rows])
              for j in range(len(left_heads))]
    right_w = [width([right_heads[j]] + [r.right[j] if j < len(r.right) else "" for r in rows])
               for j in range(len(right_heads))]
    gap = st.gap
    plot_w = st.plot_width_in * 72
    left_total = sum(left_w) + gap * len(left_w)
    span_w = max([tw(r.span, st.small, False) for r in rows if r.span] + [0])
    if span_w > left_total + plot_w:  # a long heterogeneity line widens the first column
        left_w[0] += span_w - (left_total + plot_w)
        left_total = sum(left_w) + gap * len(left_w)
    right_total = sum(right_w) + gap * len(right_w)
    left_x, x = [], -left_total
    for w in left_w:
        left_x.append((x, w))
        x += w + gap
    right_x, x = [], gap
    for w in right_w:
        right_x.append((x, w))
        x += w + gap

    excluded_lines = []
    if show_excluded and result.effects.excluded:
        chars = max(40, int((left_total + plot_w + right_total) / (st.small * 0.55)))
        excluded_lines.append("Not pooled (no complete input):")
        for e in result.effects.excluded:
            excluded_lines += textwrap.wrap(f"{e.study_id}: {e.reason}", chars, initial_indent="  ",
                                            subsequent_indent="    ")

    texts = _table_texts(st, rows, left_heads, supers, right_heads, plot_head, left_x, right_x)
    lim = tuple(xlim) if xlim is not None else nice_limits(marks, log, null)

    # heights (points) and the figure made for the plot
    rh = st.row_height
    note_step = st.small * 1.35
    notes_h = len(excluded_lines) * note_step
    n_rows = -rows[-1].y + 1 if rows else 1
    header_h = 2.2 * rh
    axis_h = 3.2 * rh + (rh if any(favours) else 0)
    title_h = 1.6 * rh if title else 0
    body_h = n_rows * rh
    fig_w = (MARGIN * 2 + left_total + plot_w + right_total) / 72
    fig_h = (MARGIN * 2 + title_h + header_h + body_h + axis_h + notes_h) / 72
    rect = ((MARGIN + left_total) / 72 / fig_w, (MARGIN + notes_h + axis_h) / 72 / fig_h,
            plot_w / 72 / fig_w, body_h / 72 / fig_h)

    fav = None
    fav_x = None
    if any(favours):
        fav = (f"Favours {favours[0]}  " if favours[0] else "", f"  Favours {favours[1]}" if favours[1] else "")
        fav_x = null if null is not None else math.sqrt(lim[0] * lim[1]) if log else (lim[0] + lim[1]) / 2
    return ForestLayout(
        style=st, rows=tuple(rows), marks=resolve_marks(marks, lim, st.max_square), texts=texts,
        left_columns=tuple(left_x), right_columns=tuple(right_x),
        rule=(-left_total, right_x[-1][0] + right_x[-1][1]) if st.header_rule else None,
        xlim=lim, ylim=(rows[-1].y - 0.5 if rows else -1, 0.5), log=log, null=null,
        ticks=log_ticks(*lim) if log else None, x_label=label + (" (log scale)" if log else ""),
        favours=fav, favours_x=fav_x, favours_offset=-2.6 * rh,
        title=Text(title, -left_total, UPPER + 1.2, st.fontsize + 1, va="bottom", bold=True) if title else None,
        notes=tuple(excluded_lines), notes_top=-(axis_h + 4), notes_left=-left_total, note_step=note_step,
        figsize=(fig_w, fig_h), axes_rect=rect)


def _table_texts(st, rows, left_heads, supers, right_heads, plot_head, left_x, right_x) -> tuple[Text, ...]:
    """Column heads, then each row's cells, right-hand cells and spanning line."""
    fs = st.fontsize
    out = []
    for j, (x0, w) in enumerate(left_x):  # the first column left-aligned, numbers right-aligned
        out.append(Text(left_heads[j], x0 if j == 0 else x0 + w, TOP, fs, ha="left" if j == 0 else "right",
                        bold=True))
    for sup in dict.fromkeys(s for s in supers if s):
        idx = [j for j, s in enumerate(supers) if s == sup]
        a, b = left_x[idx[0]][0], left_x[idx[-1]][0] + left_x[idx[-1]][1]
        out.append(Text(sup, (a + b) / 2, UPPER, fs, ha="center", bold=True))
    for (x0, w), head in zip(right_x, right_heads):
        out.append(Text(head, x0 + w, TOP, fs, anchor="right", ha="right", bold=True))
    out.append(Text(plot_head[0], 0.0, UPPER, fs, anchor="center", ha="center", bold=True))
    out.append(Text(plot_head[1], 0.0, TOP, fs, anchor="center", ha="center", bold=True))
    for r in rows:
        bold = r.kind in BOLD_KINDS
        for j, t in enumerate(r.cells):
            if t:
                x0, w = left_x[j]
                out.append(Text(t, x0 if j == 0 else x0 + w, r.y, fs, ha="left" if j == 0 else "right", bold=bold))
        for (x0, w), t in zip(right_x, r.right):
            if t:
                out.append(Text(t, x0 + w, r.y, fs, anchor="right", ha="right", bold=bold))
        if r.span:
            out.append(Text(r.span, left_x[0][0], r.y, st.small, italic=r.kind != "subgroup_test"))
    return tuple(out)


__all__ = ["BOLD_KINDS", "ForestLayout", "Mark", "PlotRow", "Text", "TextWidth", "build_rows", "font_metrics_width",
           "forest_layout", "log_ticks", "nice_limits", "resolve_marks"]
