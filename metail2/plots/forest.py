"""Forest and funnel plots of a :class:`~metail2.results.MetaResult`.

Drawn with matplotlib directly (loaded late). The forest plot lays out a
table and a plot region row by row: a header per subgroup, study rows with a
square scaled by the study's weight in its (sub)group and its 95% CI (an
arrow where the CI runs past the axis), a subtotal diamond with its
heterogeneity and test lines per subgroup, the overall diamond, the
prediction interval when asked, the test for subgroup differences, and the
rows that were not pooled with their reasons. Column widths are measured
from the text itself, so text never overlaps and the figure's height follows
the number of rows.

Why not the ``forestplot`` package: forestplot 0.4.1 places rows by their
label text (equal labels collapse), writes its right-hand table at the data
coordinate ``xlim[1] · 1.05`` (which lands inside or left of the plot for
difference measures whose axis ends at or below 0), draws no diamonds or
weight-scaled squares, and on import silences every warning of the process
(``warnings.filterwarnings("ignore")``), sets ``np.seterr(all="ignore")``
and changes ``rcParams``. metail2 does not import it.
"""
from __future__ import annotations

import math
import os
import textwrap
from dataclasses import dataclass, replace

from ..effects import study_ci
from ..models.subgroups import MISSING_GROUP
from ..report.format import MINUS, heterogeneity_line, number, overall_test_line, subgroup_test_line

#: Styles: a RevMan 5-like default and a JAMA-like preset.


@dataclass(frozen=True)
class ForestStyle:
    """Fonts, sizes, colours and layout of a forest plot (all sizes in points
    unless named otherwise)."""

    name: str = "revman"
    font: str = "DejaVu Sans"
    fontsize: float = 8.0
    small: float = 7.0
    decimals: int = 2
    row_height: float = 13.0
    plot_width_in: float = 2.6
    gap: float = 10.0
    square_color: str = "#1f5fa8"
    diamond_color: str = "black"
    ci_color: str = "black"
    null_color: str = "#555555"
    pi_color: str = "#b2182b"
    max_square: float = 90.0  # area (pt²) of the heaviest study's square
    header_rule: bool = True
    weight_column: bool = True


STYLES = {
    "revman": ForestStyle(),
    "jama": ForestStyle(name="jama", fontsize=8.0, small=7.0, square_color="black", diamond_color="#1f5fa8",
                        row_height=12.0, plot_width_in=2.4, max_square=60.0),
}

MEASURE_LABEL = {"OR": "Odds ratio", "RR": "Risk ratio", "HR": "Hazard ratio", "RD": "Risk difference",
                 "MD": "Mean difference", "SMD": "Std. mean difference", "PR": "Proportion",
                 "PLO": "Proportion", "PFT": "Proportion"}


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
class ForestPlot:
    """What :func:`forest` drew: the figure and axes, the rows, and the
    numbers behind every mark (for checking and reuse)."""

    figure: object
    ax: object
    rows: tuple[PlotRow, ...]
    squares: tuple[tuple[str, float, float, float], ...]  # (study_id, x, y, area pt²)
    diamonds: tuple[tuple[str, tuple[tuple[float, float], ...]], ...]  # (name, vertices)
    xlim: tuple[float, float]
    log: bool
    null: float | None

    def savefig(self, path: str | os.PathLike, **kwargs) -> None:
        save_figure(self.figure, path, **kwargs)


# --------------------------------------------------------------------------- helpers

def _fmt(x, d):
    return number(x, d, minus=MINUS)


def _text_width(s: str, size: float, font: str, bold: bool = False) -> float:
    """Width of a string in points (font metrics; no renderer needed)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    if not s:
        return 0.0
    prop = FontProperties(family=font, size=size, weight="bold" if bold else "normal")
    return TextToPath().get_text_width_height_descent(s, prop, ismath=False)[0]


def _data_columns(result):
    """Left data columns (headers, per-study text) for the studies' input."""
    studies = result.effects.studies
    inputs = {s.input for s in studies}

    def cell(s, col):
        return s.row.text(col)

    if inputs == {"two-arm counts"}:
        heads = (("Experimental", "Events"), ("Experimental", "Total"), ("Control", "Events"), ("Control", "Total"))
        cols = ("exp_events", "exp_total", "ctrl_events", "ctrl_total")
    elif inputs == {"single-arm counts"}:
        heads, cols = (("", "Events"), ("", "Total")), ("events", "total")
    elif inputs == {"two-arm continuous"}:
        heads = (("Experimental", "Mean"), ("Experimental", "SD"), ("Experimental", "Total"),
                 ("Control", "Mean"), ("Control", "SD"), ("Control", "Total"))
        cols = ("exp_mean", "exp_sd", "exp_total", "ctrl_mean", "ctrl_sd", "ctrl_total")
    elif inputs == {"O-E and V"}:
        heads, cols = (("", "O−E"), ("", "V")), ("o_minus_e", "variance")
    else:
        return (("", "Reported"),), {s.study_id: (_reported(s),) for s in studies}
    return heads, {s.study_id: tuple(cell(s, c) for c in cols) for s in studies}


def _reported(s) -> str:
    r = s.row
    if s.input == "estimate and 95% CI":
        return f"{r.text('estimate')} [{r.text('ci_lower')}, {r.text('ci_upper')}]"
    if s.input == "estimate and SE":
        return f"{r.text('estimate')} (SE {r.text('se')})"
    if s.input == "estimate and p":
        return f"{r.text('estimate')} (p {r.text('p_value')})"
    if s.input == "two-arm counts":
        return f"{r.text('exp_events')}/{r.text('exp_total')} vs {r.text('ctrl_events')}/{r.text('ctrl_total')}"
    if s.input == "single-arm counts":
        return f"{r.text('events')}/{r.text('total')}"
    if s.input == "O-E and V":
        return f"O−E {r.text('o_minus_e')}, V {r.text('variance')}"
    return ""


def _totals(result, studies) -> tuple[str, ...]:
    heads = tuple(h for _, h in _data_columns(result)[0])
    if heads == ("Events", "Total"):
        return (str(sum(int(float(s.row.text("events"))) for s in studies)),
                str(sum(int(float(s.row.text("total"))) for s in studies)))
    if heads == ("Events", "Total", "Events", "Total"):
        return tuple(str(sum(int(float(s.row.text(c))) for s in studies))
                     for c in ("exp_events", "exp_total", "ctrl_events", "ctrl_total"))
    return ("",) * len(heads)


# --------------------------------------------------------------------------- layout

def _build_rows(result, style: ForestStyle, prediction: bool):
    d = style.decimals
    _, data = _data_columns(result)
    rows: list[PlotRow] = []
    marks = []  # (kind, name, est, lo, hi, weight, y)
    y = 0.0

    def add(kind, cells=(), right=(), span="", group=None, step=1.0):
        nonlocal y
        rows.append(PlotRow(kind, y, tuple(cells), tuple(right), span, group))
        y -= step

    def ci_text(est, lo, hi):
        return f"{_fmt(est, d)} [{_fmt(lo, d)}, {_fmt(hi, d)}]"

    def study_rows(studies, weights):
        for s in studies:
            est, lo, hi = study_ci(result.measure, s, result.level)
            w = weights.get(s.study_id)
            marks.append(("study", s.study_id, est, lo, hi, w, y))
            add("study", (s.study_id,) + data[s.study_id],
                ((f"{w:.1f}%" if w is not None else ""), ci_text(est, lo, hi)))

    def summary_rows(name, g, studies, label, with_weight=""):
        n = g.natural
        marks.append(("diamond", name, n.estimate, n.ci_lower, n.ci_upper, None, y))
        add("subtotal" if name != "Overall" else "overall", (label,) + _totals(result, studies),
            (with_weight, ci_text(n.estimate, n.ci_lower, n.ci_upper)), group=name)
        if prediction and getattr(g, "pi_lower", None) is not None:
            marks.append(("pi", name, n.estimate, n.pi_lower, n.pi_upper, None, y))
            add("pi", ("Prediction interval",), ("", f"[{_fmt(n.pi_lower, d)}, {_fmt(n.pi_upper, d)}]"), group=name)
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


def _nice_limits(marks, log: bool, null):
    ests = [x for k, _, e, lo, hi, _, _ in marks for x in (e,) if x is not None and math.isfinite(x)]
    pooled = [x for k, _, e, lo, hi, _, _ in marks if k != "study" for x in (lo, hi)
              if x is not None and math.isfinite(x)]
    cis = [x for k, _, e, lo, hi, _, _ in marks if k == "study" for x in (lo, hi)
           if x is not None and math.isfinite(x)]
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


def forest(result, ax=None, *, style: str | ForestStyle = "revman", prediction: bool = False,
           favours: tuple[str, str] = ("", ""), xlim: tuple[float, float] | None = None,
           decimals: int | None = None, fontsize: float | None = None, title: str | None = None,
           show_excluded: bool = True) -> ForestPlot:
    """Draw a forest plot of a pooled result (grouped by subgroup when the
    result has them).

    Parameters
    ----------
    result : MetaResult
        From :func:`metail2.pool`.
    ax : matplotlib Axes, optional
        The plot region; the table is drawn left and right of it (leave room).
        By default a figure is made whose size follows the rows and the text.
    style : {"revman", "jama"} or ForestStyle
    prediction : bool
        Draw the 95% prediction interval (random-effects fits) as its own row
        under each diamond.
    favours : (str, str)
        Labels under the axis, left and right of the null line.
    xlim : (float, float), optional
        Axis limits on the natural scale; CIs beyond them end in arrows.
    decimals, fontsize : optional
        Override the style's.
    title : str, optional
    show_excluded : bool
        List the rows not pooled, with reasons, under the plot.

    Returns
    -------
    ForestPlot

    Notes
    -----
    Values are drawn on the natural scale (exp for ratios, on a log axis with
    the null line at 1; expit or the Freeman–Tukey inverse for proportions;
    unchanged for differences, null line at 0). A square's area is
    proportional to the study's weight (%) in its subgroup's fit (or in the
    overall fit without subgroups, or with a common τ²), so areas compare
    across the plot; a diamond spans the pooled 95% CI.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon
    from matplotlib.transforms import blended_transform_factory

    st = STYLES[style] if isinstance(style, str) else style
    if decimals is not None:
        st = replace(st, decimals=decimals)
    if fontsize is not None:
        st = replace(st, fontsize=fontsize, small=fontsize - 1)
    m = result.measure
    log = m.natural == "exp"
    null = 1.0 if log else (0.0 if m.natural == "identity" and m.name not in ("PR",) else None)
    rows, marks = _build_rows(result, st, prediction)
    heads, _ = _data_columns(result)
    left_heads = ("Study or subgroup",) + tuple(h for _, h in heads)
    supers = ("",) + tuple(s for s, _ in heads)
    estimate_head = f"{MEASURE_LABEL.get(m.name, m.name)} [95% CI]"
    model = "IV, common effect" if result.method == "FE" else f"IV, random, {result.method}"
    plot_head = (MEASURE_LABEL.get(m.name, m.name), f"{model}, 95% CI" + (" (HK)" if result.test == "hk" else ""))
    right_heads = (("Weight",) if st.weight_column else ()) + (estimate_head,)
    if not st.weight_column:
        rows = [replace(r, right=r.right[1:]) for r in rows]

    # column widths from the text (points)
    def width(col_texts, bold_rows=()):
        return max(_text_width(t, st.fontsize, st.font, bold=(i in bold_rows)) for i, t in enumerate(col_texts))

    bold_kinds = ("header", "subtotal", "overall")
    left_w = []
    for j in range(len(left_heads)):
        texts = [left_heads[j]] + [r.cells[j] if j < len(r.cells) else "" for r in rows]
        bolds = {0} | {i + 1 for i, r in enumerate(rows) if r.kind in bold_kinds}
        left_w.append(width(texts, bolds))
    right_w = []
    for j in range(len(right_heads)):
        texts = [right_heads[j]] + [r.right[j] if j < len(r.right) else "" for r in rows]
        right_w.append(width(texts, {0} | {i + 1 for i, r in enumerate(rows) if r.kind in bold_kinds}))
    gap = st.gap
    plot_w = st.plot_width_in * 72
    left_total = sum(left_w) + gap * len(left_w)
    span_w = max([_text_width(r.span, st.small, st.font) for r in rows if r.span] + [0])
    if span_w > left_total + plot_w:
        left_w[0] += span_w - (left_total + plot_w)
        left_total = sum(left_w) + gap * len(left_w)
    right_total = sum(right_w) + gap * len(right_w)

    excluded_lines = []
    if show_excluded and result.effects.excluded:
        total_w_pt = left_total + plot_w + right_total
        chars = max(40, int(total_w_pt / (st.small * 0.55)))
        excluded_lines.append("Not pooled (no complete input):")
        for e in result.effects.excluded:
            excluded_lines += textwrap.wrap(f"{e.study_id}: {e.reason}", chars, initial_indent="  ",
                                            subsequent_indent="    ")
    notes_h = len(excluded_lines) * (st.small * 1.35)

    n_rows = -rows[-1].y + 1 if rows else 1
    header_h = 2.2 * st.row_height
    axis_h = 3.2 * st.row_height + (st.row_height if any(favours) else 0)
    title_h = 1.6 * st.row_height if title else 0
    body_h = n_rows * st.row_height
    margin = 8.0
    if ax is None:
        fig_w = (margin * 2 + left_total + plot_w + right_total) / 72
        fig_h = (margin * 2 + title_h + header_h + body_h + axis_h + notes_h) / 72
        fig = plt.figure(figsize=(fig_w, fig_h))
        ax = fig.add_axes([(margin + left_total) / 72 / fig_w, (margin + notes_h + axis_h) / 72 / fig_h,
                           plot_w / 72 / fig_w, body_h / 72 / fig_h])
    else:
        fig = ax.figure
    ax_w_pt = ax.get_position().width * fig.get_figwidth() * 72

    # axis
    lo_lim, hi_lim = xlim if xlim is not None else _nice_limits(marks, log, null)
    if log:
        ax.set_xscale("log")
    ax.set_xlim(lo_lim, hi_lim)
    ax.set_ylim(rows[-1].y - 0.5 if rows else -1, 0.5)
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", labelsize=st.small)
    if log:
        from matplotlib.ticker import FixedLocator, NullLocator

        cands = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100]
        ticks = [t for t in cands if lo_lim <= t <= hi_lim]
        if len(ticks) > 7:
            ticks = [t for t in ticks if str(t)[0] in "15"]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([f"{t:g}" for t in ticks])
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(5))
    text_kw = dict(fontsize=st.fontsize, family=st.font, va="center")
    tr = blended_transform_factory(ax.transAxes, ax.transData)

    def ax_x(offset_pt):  # offset from the axes' left edge, points -> axes fraction
        return offset_pt / ax_w_pt

    # null line
    if null is not None and lo_lim < null < hi_lim:
        ax.axvline(null, color=st.null_color, lw=0.8, zorder=1)
    # marks
    squares, diamonds = [], []
    max_w = max([w for k, *_rest in marks if k == "study" for w in [_rest[4]] if w] + [1e-12])
    xs, ys, areas = [], [], []
    for kind, name, est, lo, hi, w, y in marks:
        if kind == "study":
            a, b = max(lo, lo_lim), min(hi, hi_lim)
            ax.plot([a, b], [y, y], color=st.ci_color, lw=0.9, solid_capstyle="butt", zorder=2)
            if lo < lo_lim:
                ax.plot([lo_lim], [y], marker="<", ms=4, color=st.ci_color, zorder=3, clip_on=False)
            if hi > hi_lim:
                ax.plot([hi_lim], [y], marker=">", ms=4, color=st.ci_color, zorder=3, clip_on=False)
            if lo_lim <= est <= hi_lim and w:
                area = st.max_square * w / max_w
                xs.append(est)
                ys.append(y)
                areas.append(area)
                squares.append((name, est, y, area))
        elif kind == "diamond":
            h = 0.32
            verts = ((lo, y), (est, y + h), (hi, y), (est, y - h))
            ax.add_patch(Polygon(verts, closed=True, facecolor=st.diamond_color, edgecolor=st.diamond_color,
                                 lw=0.6, zorder=4, gid=f"diamond:{name}"))
            diamonds.append((name, verts))
        elif kind == "pi":
            ax.plot([max(lo, lo_lim), min(hi, hi_lim)], [y, y], color=st.pi_color, lw=2.2,
                    solid_capstyle="butt", zorder=3, gid=f"pi:{name}")
    if xs:
        sc = ax.scatter(xs, ys, s=areas, marker="s", color=st.square_color, edgecolors="none", zorder=5)
        sc.set_gid("squares")

    # table text
    x = -left_total
    left_x = []
    for j, w in enumerate(left_w):
        left_x.append((x, w))
        x += w + gap
    right_x = []
    x = ax_w_pt + gap
    for w in right_w:
        right_x.append((x, w))
        x += w + gap
    top, upper = 0.95, 1.75  # header lines, in rows above the first row
    for j, (x0, w) in enumerate(left_x):
        ax.text(ax_x(x0 if j == 0 else x0 + w), top, left_heads[j], transform=tr, fontweight="bold",
                ha="left" if j == 0 else "right", **text_kw)
    for sup in dict.fromkeys(s for s in supers if s):
        idx = [j for j, s in enumerate(supers) if s == sup]
        a, b = left_x[idx[0]][0], left_x[idx[-1]][0] + left_x[idx[-1]][1]
        ax.text(ax_x((a + b) / 2), upper, sup, transform=tr, fontweight="bold", ha="center", **text_kw)
    for (x0, w), head in zip(right_x, right_heads):
        ax.text(ax_x(x0 + w), top, head, transform=tr, fontweight="bold", ha="right", **text_kw)
    ax.text(0.5, upper, plot_head[0], transform=tr, fontweight="bold", ha="center", **text_kw)
    ax.text(0.5, top, plot_head[1], transform=tr, fontweight="bold", ha="center", **text_kw)
    if st.header_rule:
        rule_y = 0.5
        ax.plot([ax_x(-left_total), ax_x(right_x[-1][0] + right_x[-1][1])], [rule_y, rule_y], transform=tr,
                color="black", lw=0.6, clip_on=False)
    for r in rows:
        weight = "bold" if r.kind in bold_kinds else "normal"
        for j, t in enumerate(r.cells):
            if not t:
                continue
            x0, w = left_x[j]
            ax.text(ax_x(x0 if j == 0 else x0 + w), r.y, t, transform=tr, fontweight=weight,
                    ha="left" if j == 0 else "right", **text_kw)
        for (x0, w), t in zip(right_x, r.right):
            if not t:
                continue
            ax.text(ax_x(x0 + w), r.y, t, transform=tr, fontweight=weight, ha="right", **text_kw)
        if r.span:
            ax.text(ax_x(left_x[0][0]), r.y, r.span, transform=tr, ha="left", fontsize=st.small, family=st.font,
                    va="center", style="italic" if r.kind != "subgroup_test" else "normal")
    # axis labels
    label = MEASURE_LABEL.get(m.name, m.name) + (" (log scale)" if log else "")
    ax.set_xlabel(label, fontsize=st.small, family=st.font)
    if any(favours):
        fav_y = -2.6 * st.row_height / 72  # inches below the axis
        from matplotlib.transforms import ScaledTranslation

        off = ScaledTranslation(0, fav_y, fig.dpi_scale_trans)
        c = null if null is not None else math.sqrt(lo_lim * hi_lim) if log else (lo_lim + hi_lim) / 2
        xt = blended_transform_factory(ax.transData, ax.transAxes) + off
        ax.text(c, 0, f"Favours {favours[0]}  " if favours[0] else "", transform=xt, ha="right", va="top",
                fontsize=st.small, family=st.font)
        ax.text(c, 0, f"  Favours {favours[1]}" if favours[1] else "", transform=xt, ha="left", va="top",
                fontsize=st.small, family=st.font)
    if title:
        ax.text(ax_x(-left_total), upper + 1.2, title, transform=tr, fontsize=st.fontsize + 1, fontweight="bold",
                family=st.font, va="bottom")
    if excluded_lines:
        y0 = -(axis_h + 4) / 72  # inches below the axes' bottom
        from matplotlib.transforms import ScaledTranslation

        for i, line in enumerate(excluded_lines):
            off = ScaledTranslation(-left_total / 72, y0 - i * st.small * 1.35 / 72, fig.dpi_scale_trans)
            ax.text(0, 0, line, transform=ax.transAxes + off, fontsize=st.small, family=st.font, va="top",
                    ha="left", fontweight="bold" if i == 0 else "normal")
    return ForestPlot(fig, ax, tuple(rows), tuple(squares), tuple(diamonds), (lo_lim, hi_lim), log, null)


# --------------------------------------------------------------------------- funnel

@dataclass(frozen=True)
class FunnelPlot:
    figure: object
    ax: object
    points: tuple[tuple[str, float, float], ...]  # (study_id, yi, se)
    estimate: float
    se_max: float

    def savefig(self, path: str | os.PathLike, **kwargs) -> None:
        save_figure(self.figure, path, **kwargs)


def funnel(result, ax=None, *, contours: bool = False, style: str | ForestStyle = "revman") -> FunnelPlot:
    """Funnel plot: each study's effect (analysis scale) against its standard
    error, with pseudo 95% confidence limits around the pooled estimate.

    Parameters
    ----------
    contours : bool
        Contour-enhanced (Peters et al. 2008): shade the regions where a
        study's two-sided p against the null would be < 0.01, 0.01–0.05 and
        0.05–0.1.

    Notes
    -----
    The pseudo confidence limits are μ̂ ± 1.96·SE for SE from 0 to the largest
    SE (Sterne & Egger 2001); the y axis is inverted (precise studies on top).
    """
    import matplotlib.pyplot as plt
    import numpy as np

    st = STYLES[style] if isinstance(style, str) else style
    studies = result.effects.studies
    yi = np.array([s.yi for s in studies])
    se = np.sqrt([s.vi for s in studies])
    est = result.overall.estimate
    se_max = float(se.max()) * 1.08
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 3.6))
    else:
        fig = ax.figure
    grid = np.linspace(0, se_max, 100)
    if contours:
        null = result.measure.null
        xr = max(abs(yi - null).max(), 1.96 * se_max) * 1.15
        ax.fill_betweenx(grid, null - xr, null + xr, color="0.65", zorder=0, label="p < 0.01")
        ax.fill_betweenx(grid, null - 2.5758293035489004 * grid, null + 2.5758293035489004 * grid, color="0.80",
                         zorder=0, label="0.01 ≤ p < 0.05")
        ax.fill_betweenx(grid, null - 1.959963984540054 * grid, null + 1.959963984540054 * grid, color="0.93",
                         zorder=0, label="0.05 ≤ p < 0.1")
        ax.fill_betweenx(grid, null - 1.6448536269514722 * grid, null + 1.6448536269514722 * grid, color="white",
                         zorder=0, label="p ≥ 0.1")
        ax.legend(fontsize=st.small, frameon=False, loc="lower right")
        ax.set_xlim(null - xr, null + xr)
    ax.plot(est - 1.959963984540054 * grid, grid, ls="--", color="0.3", lw=0.8)
    ax.plot(est + 1.959963984540054 * grid, grid, ls="--", color="0.3", lw=0.8)
    ax.axvline(est, color="0.2", lw=0.8)
    ax.scatter(yi, se, s=18, color=st.square_color, zorder=3, gid="studies")
    ax.set_ylim(se_max, 0)
    ax.set_xlabel(result.measure.label, fontsize=st.fontsize, family=st.font)
    ax.set_ylabel("Standard error", fontsize=st.fontsize, family=st.font)
    ax.tick_params(labelsize=st.small)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return FunnelPlot(fig, ax, tuple((s.study_id, s.yi, math.sqrt(s.vi)) for s in studies), est, se_max)


# --------------------------------------------------------------------------- saving

def save_figure(fig, path: str | os.PathLike, dpi: int = 300) -> None:
    """Save a figure for a journal: PNG at ``dpi`` (300), SVG with text kept as
    text (``svg.fonttype = "none"``), PDF with embedded TrueType fonts
    (``pdf.fonttype = 42``), so authors can edit labels. The settings are
    local to this call; the user's rcParams are not changed."""
    import matplotlib as mpl

    path = os.fspath(path)
    with mpl.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42, "ps.fonttype": 42,
                         "svg.hashsalt": "metail2"}):
        fig.savefig(path, dpi=dpi, bbox_inches="tight", pad_inches=0.08,
                    metadata={"Date": None} if path.endswith((".svg", ".pdf")) else None)
