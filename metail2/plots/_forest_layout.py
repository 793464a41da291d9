"""The layout of a forest plot, computed without a figure or axes.

:func:`forest_layout` turns a pooled result into plain values: the rows top
to bottom (:mod:`._forest_rows`), the marks in the plot region on the
natural scale clipped to the axis (:mod:`._forest_axis`), every text with its
column and alignment, the column widths measured from the text, the axis
limits, ticks and their labels, the null line's segments (broken where a
heterogeneity line runs into the plot region), risk-of-bias columns, the
notes (footnotes, the rows not pooled) wrapped to measured widths, and the
figure's size. :func:`metail2.plots.forest` draws it.

Text widths come from a function ``text_width(text, size, bold, italic) ->
points``; by default the fonts' metrics (matplotlib, loaded on the first
call; no renderer). Pass another to lay out without matplotlib at all.

Sizes: by default the figure follows the text and the rows. ``size=(w, h)``
(inches, either may be None) fits it into a given box: the plot region
takes the spare width and the rows the spare height, and when the table is
too large every size shrinks together (down to half; smaller is refused).
``fit`` does the same for a plot drawn into a given axes.

Coordinates: ``y`` in rows (the first row at 0, downwards negative; header
lines above 0); ``x`` of a text in points from an anchor: the plot region's
``"left"`` edge (the left table, negative offsets), its ``"right"`` edge (the
right table) or its ``"center"``.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InputError
from ._forest_axis import (LOG_TICKS, difference_limits, linear_ticks, log_ticks, proportion_limits,
                           ratio_limits, resolve_marks, tick_label)
from ._forest_columns import data_columns
from ._forest_rows import Mark, PlotRow, build_rows
from ._rob_data import JUDGEMENTS, RobTool, judgements, legend_text
from .fonts import metrics_width, wrap
from .style import PROPORTIONS, ForestStyle, level_label, measure_label, model_label

#: ``text_width(text, size_pt, bold, italic) -> width_pt``
TextWidth = Callable[..., float]

#: Row kinds whose text is bold.
BOLD_KINDS = ("header", "subtotal", "overall")
#: Header lines, in rows above the first row: the column heads, the lines above them.
TOP, UPPER = 0.95, 1.75
MARGIN = 8.0  # points around the figure
MIN_PLOT = 72.0  # the plot region is never narrower (points)
MIN_SCALE = 0.5  # text is never shrunk below half its size to fit a box


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
class AxesFit:
    """Room around a given axes, in points: its size, and the space left, right, above and below it."""

    width: float
    height: float
    left: float
    right: float
    above: float
    below: float


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
    ticks: tuple[float, ...]
    tick_labels: tuple[str, ...]
    x_label: str
    favours: tuple[str, str] | None  # texts left and right of favours_x, favours_offset points below the axis
    favours_x: float | None
    favours_offset: float
    favours_pad: float  # points between the favours labels and favours_x
    title: Text | None
    notes: tuple[str, ...]  # footnotes, then the rows not pooled, wrapped
    notes_bold: tuple[int, ...]  # indices of the notes set in bold (headings)
    notes_top: float  # points below the axes' bottom (negative) and left of its left edge
    notes_left: float
    note_step: float
    null_segments: tuple[tuple[float, float], ...]  # (top, bottom) in rows where the null line is drawn
    rob: tuple[tuple[float, float, str], ...]  # (x points from the right edge, y rows, judgement)
    rob_size: float  # diameter (points) of a risk-of-bias circle
    figsize: tuple[float, float]  # inches, when the figure is made for the plot
    axes_rect: tuple[float, float, float, float]  # figure fractions
    row_height: float  # points
    scale: float = 1.0  # every size relative to the style's (< 1 when fitted into a smaller box)
    families: tuple[str, ...] = ("DejaVu Sans", "sans-serif")

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


def font_metrics_width(font) -> TextWidth:
    """Widths in points from the font's metrics (see :func:`.fonts.metrics_width`)."""
    return metrics_width(font)


def axis_limits(result, marks) -> tuple[tuple[float, float], bool, float | None]:
    """(limits, log axis?, null) of a result's axis (see :mod:`._forest_axis`)."""
    m = result.measure
    if m.natural == "exp":
        return ratio_limits(marks), True, 1.0
    if m.name in PROPORTIONS:
        return proportion_limits(marks), False, None
    return difference_limits(marks), False, 0.0


def thin_ticks(ticks, labels, lim, log, plot_w, measure, keep=None):
    """Drop ticks whose labels would touch (3 pt apart at least), keeping
    the ends and ``keep`` (the null)."""
    f = (lambda v: math.log(v)) if log else (lambda v: v)
    span = f(lim[1]) - f(lim[0])
    pos = [(f(t) - f(lim[0])) / span * plot_w for t in ticks]
    wid = [measure(s) for s in labels]

    def fits(idx):
        return all(pos[j] - pos[i] >= (wid[i] + wid[j]) / 2 + 3 for i, j in zip(idx, idx[1:]))

    idx = list(range(len(ticks)))
    step = 1
    while not fits(idx) and step < len(ticks):
        step += 1
        must = {0, len(ticks) - 1} | {i for i, t in enumerate(ticks) if keep is not None and t == keep}
        anchor = min(must, key=lambda i: (ticks[i] != keep, i))
        idx = sorted({i for i in range(len(ticks)) if (i - anchor) % step == 0} | must)
        idx = [i for n, i in enumerate(idx) if n == 0 or i in must or pos[i] - pos[idx[n - 1]] > 0]
    if not fits(idx):
        idx = sorted({0, len(ticks) - 1})
    return tuple(ticks[i] for i in idx), tuple(labels[i] for i in idx)


def forest_layout(result, style: ForestStyle, *, prediction: bool = False, favours: tuple[str, str] = ("", ""),
                  xlim: tuple[float, float] | None = None, title: str | None = None,
                  show_excluded: bool = True, text_width: TextWidth | None = None, sort: str | None = None,
                  i2: str = "q", rob: RobTool | None = None, size: tuple[float | None, float | None] | None = None,
                  fit: AxesFit | None = None, footnotes: tuple[str, ...] = (),
                  families: tuple[str, ...] | None = None) -> ForestLayout:
    """Lay out the forest plot of a pooled result (see the module's doc); the
    arguments are :func:`metail2.plots.forest`'s, with ``style`` resolved."""
    fams = tuple(families or (style.font, "sans-serif"))
    tw = text_width or metrics_width(fams)
    kw = dict(prediction=prediction, favours=favours, xlim=xlim, title=title, show_excluded=show_excluded,
              tw=tw, sort=sort, i2=i2, rob=rob, footnotes=footnotes, families=fams)
    lay = _compose(result, style, **kw)
    if size is None and fit is None:
        return lay
    w0, h0 = lay.figsize[0] * 72 - 2 * MARGIN, lay.figsize[1] * 72 - 2 * MARGIN
    plot0 = style.plot_width_in * 72
    table, body = w0 - plot0, (0.5 - lay.ylim[0]) * lay.row_height
    fixed = h0 - body
    if fit is not None:
        lefts = -lay.left_columns[0][0] if lay.left_columns else 0.0
        rights = w0 - plot0 - lefts
        below = -lay.notes_top + len(lay.notes) * lay.note_step
        s = min(1.0, fit.left / max(lefts, 1), fit.right / max(rights, 1) if rights > 1 else 1.0,
                fit.height / body, fit.above / max(h0 - body - below, 1), fit.below / max(below, 1))
        if s < MIN_SCALE:
            import warnings

            from ..errors import MetailWarning
            warnings.warn(f"the axes leave too little room for this forest plot: text drawn at {100 * s:.0f}% "
                          "of its size; give the axes more room or let forest() make the figure",
                          MetailWarning, stacklevel=3)
        return _compose(result, style.scaled(s), plot_w=fit.width, row_h=fit.height / (0.5 - lay.ylim[0]),
                        scale=s, **kw)
    want_w, want_h = (None if v is None else v * 72 - 2 * MARGIN for v in size)
    s = 1.0
    if want_w is not None:
        s = min(s, (want_w - MIN_PLOT) / table)
    if want_h is not None:
        s = min(s, want_h / h0)
    if s < MIN_SCALE:
        need_w = (table * MIN_SCALE + MIN_PLOT + 2 * MARGIN) / 72
        need_h = (h0 * MIN_SCALE + 2 * MARGIN) / 72
        raise InputError(f"a forest plot of {len(lay.rows)} rows does not fit {_size_text(size)}: it needs at "
                         f"least {need_w:.1f} in wide and {need_h:.1f} in high (text at half size); "
                         "leave out --width/--height for the natural size")
    n_rows = 0.5 - lay.ylim[0]
    plot_w = want_w - table * s if want_w is not None else None
    rows_h = (want_h - fixed * s) / n_rows if want_h is not None else None
    for _ in range(6):  # notes wrap to the width and spans may widen a column: settle on the box
        out = _compose(result, style.scaled(s), plot_w=plot_w, row_h=rows_h, scale=s, **kw)
        got_w, got_h = out.figsize[0] * 72 - 2 * MARGIN, out.figsize[1] * 72 - 2 * MARGIN
        ok_w = want_w is None or abs(got_w - want_w) < 0.01
        ok_h = want_h is None or abs(got_h - want_h) < 0.01
        if ok_w and ok_h:
            break
        if not ok_w:
            plot_w += want_w - got_w
        if not ok_h:
            rows_h = (want_h - (got_h - n_rows * out.row_height)) / n_rows
    return out


def _size_text(size) -> str:
    w, h = size
    return " × ".join(f"{v:g} in" for v in (w, h) if v is not None)


def _compose(result, st: ForestStyle, *, prediction, favours, xlim, title, show_excluded, tw, sort, i2, rob,
             footnotes, families, plot_w=None, row_h=None, scale=1.0) -> ForestLayout:
    rows, marks, notes = build_rows(result, st, prediction, tw, sort=sort, i2=i2)
    jama = st.layout == "jama"
    lvl = level_label(result.level)
    heads, _, _ = data_columns(result, jama)
    label = measure_label(result.measure.name)
    left_heads = (st.study_head,) + tuple(h for _, h in heads) + ((f"{label} ({lvl})",) if jama else ())
    supers = ("",) + tuple(s for s, _ in heads) + (("",) if jama else ())
    right_heads = () if jama else (("Weight",) if st.weight_column else ()) + (f"{label} [{lvl}]",)
    fs, gap = st.fontsize, st.gap
    plot_w = st.plot_width_in * 72 if plot_w is None else plot_w
    rh = st.row_height if row_h is None else row_h

    def width(col_texts, bolds):
        return max(tw(t, fs, b, False) for t, b in zip(col_texts, bolds))

    bolds = [True] + [r.kind in BOLD_KINDS for r in rows]
    left_w = [width([left_heads[j]] + [r.cells[j] if j < len(r.cells) else "" for r in rows], bolds)
              for j in range(len(left_heads))]
    right_w = [width([right_heads[j]] + [r.right[j] if j < len(r.right) else "" for r in rows], bolds)
               for j in range(len(right_heads))]
    rob_size = fs * 1.35
    if rob is not None:
        right_w += [max(tw(h, fs, True, False), rob_size) for h in rob.heads]
    left_total = sum(left_w) + gap * len(left_w)
    spans = {i: tw(r.span, st.small, False, r.kind != "subgroup_test") for i, r in enumerate(rows) if r.span}
    span_w = max(spans.values(), default=0.0)
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

    texts = list(_table_texts(st, rows, left_heads, supers, right_heads, (label, model_label(result)),
                              left_x, right_x[:len(right_heads)]))
    rob_marks = []
    if rob is not None:
        cols = right_x[len(right_heads):]
        for (x0, w), head in zip(cols, rob.heads):
            texts.append(Text(head, x0 + w / 2, TOP, fs, anchor="right", ha="center", bold=True))
        texts.append(Text("Risk of bias", (cols[0][0] + cols[-1][0] + cols[-1][1]) / 2, UPPER, fs,
                          anchor="right", ha="center", bold=True))
        by_id = {s.study_id: s for s in result.effects.studies}
        for r in rows:
            if r.kind == "study":
                for (x0, w), j in zip(cols, judgements(by_id[r.study].row, rob)):
                    if j in JUDGEMENTS:
                        rob_marks.append((x0 + w / 2, r.y, j))
        notes.append(legend_text(rob))
    notes += list(footnotes)

    if xlim is not None:
        lim = (float(xlim[0]), float(xlim[1]))
        log, null = result.measure.natural == "exp", axis_limits(result, marks)[2]
    else:
        lim, log, null = axis_limits(result, marks)
    if log:
        ticks = log_ticks(*lim)
    else:
        ticks = linear_ticks(*lim) if null is not None else linear_ticks(*lim, n=6, mults=(1, 2, 5, 10))
    ticks, tick_labels = thin_ticks(ticks, tuple(tick_label(t) for t in ticks), lim, log, plot_w,
                                    lambda s: tw(s, st.small, False, False), keep=null)

    # notes under the plot, wrapped to the figure's measured width
    content_w = left_total + plot_w + right_total
    note_lines, bold_idx = [], []
    for n in notes:
        note_lines += wrap(n, content_w, lambda t: tw(t, st.small, False, False), subsequent="  ")
    if show_excluded and result.effects.excluded:
        bold_idx.append(len(note_lines))
        note_lines.append("Not pooled (no complete input):")
        for e in result.effects.excluded:
            note_lines += wrap(f"{e.study_id}: {e.reason}", content_w, lambda t: tw(t, st.small, False, False),
                               indent="  ", subsequent="    ")

    # heights (points) and the figure made for the plot
    note_step = st.small * 1.35
    notes_h = len(note_lines) * note_step
    bottom = rows[-1].y - rows[-1].height / 2 if rows else -1.0
    n_rows = 0.5 - bottom
    header_h = 2.2 * rh
    tick_zone = 3.5 + 3.5 + st.small * 1.25  # tick length, pad, labels
    label_zone = 4 + st.small * 1.25
    fav_h = st.small * 1.25 + 4 if any(favours) else 0.0
    axis_h = tick_zone + label_zone + fav_h + 6
    title_h = 1.6 * rh if title else 0
    body_h = n_rows * rh
    fig_w = (MARGIN * 2 + content_w) / 72
    fig_h = (MARGIN * 2 + title_h + header_h + body_h + axis_h + notes_h) / 72
    rect = ((MARGIN + left_total) / 72 / fig_w, (MARGIN + notes_h + axis_h) / 72 / fig_h,
            plot_w / 72 / fig_w, body_h / 72 / fig_h)

    fav = fav_x = None
    if any(favours):
        fav = tuple(f"{st.favours} {f}" if f else "" for f in favours)
        fav_x = null if null is not None and lim[0] < null < lim[1] else (
            math.sqrt(lim[0] * lim[1]) if log else (lim[0] + lim[1]) / 2)
    gaps = [(r.y + r.height / 2, r.y - r.height / 2) for i, r in enumerate(rows)
            if r.span and spans[i] > left_total - gap / 2]
    return ForestLayout(
        style=st, rows=tuple(rows), marks=resolve_marks(marks, lim, st.max_square, st.min_square),
        texts=tuple(texts), left_columns=tuple(left_x), right_columns=tuple(right_x),
        rule=(-left_total, right_x[-1][0] + right_x[-1][1] if right_x else 0.0) if st.header_rule else None,
        xlim=lim, ylim=(bottom, 0.5), log=log, null=null, ticks=ticks, tick_labels=tick_labels,
        x_label=label + (" (log scale)" if log else ""),
        favours=fav, favours_x=fav_x, favours_offset=-(tick_zone + label_zone + 2), favours_pad=4.0 * scale,
        title=Text(title, -left_total, UPPER + 1.2, st.fontsize + 1, va="bottom", bold=True) if title else None,
        notes=tuple(note_lines), notes_bold=tuple(bold_idx), notes_top=-(axis_h + 4), notes_left=-left_total,
        note_step=note_step, null_segments=_segments((bottom, 0.5), gaps), rob=tuple(rob_marks),
        rob_size=rob_size, figsize=(fig_w, fig_h), axes_rect=rect, row_height=rh, scale=scale, families=families)


def _segments(ylim, gaps) -> tuple[tuple[float, float], ...]:
    """(top, bottom) pieces of the null line from ylim's top to its bottom, around the gaps."""
    out, top = [], ylim[1]
    for a, b in sorted(gaps, reverse=True):
        if a < top:
            out.append((top, a))
        top = min(top, b)
    if top > ylim[0]:
        out.append((top, ylim[0]))
    return tuple(out)


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


__all__ = ["BOLD_KINDS", "LOG_TICKS", "TOP", "UPPER", "AxesFit", "ForestLayout", "Mark", "PlotRow", "Text",
           "TextWidth", "axis_limits", "build_rows", "font_metrics_width", "forest_layout", "log_ticks",
           "resolve_marks", "thin_ticks"]
