"""Forest plot of a :class:`~metail2.models.MetaResult`: lay out
(:mod:`._forest_layout`, pure), then draw with matplotlib (loaded late).

The table is drawn left and right of the plot region row by row (see
:mod:`._forest_rows`), column widths measured from the text itself, so text
never overlaps and the figure's height follows the number of rows; the
rows not pooled are listed under the plot with their reasons.

Two engines: ``"native"`` (the default) draws everything with matplotlib;
``"forestplot"`` lets the ``forestplot`` package draw the study rows and the
left table (:mod:`._forestplot_engine`) and adds the rest. Use the native
engine for journal figures (weight-scaled squares, measured columns, risk of
bias, any size); the forestplot engine where a figure should look like the
other forestplot figures of a paper.
"""
from __future__ import annotations

from dataclasses import replace

from ..errors import InputError
from ._forest_draw import ForestPlot
from ._forest_draw import draw_forest as _draw
from ._forest_layout import MARGIN, AxesFit, ForestLayout, forest_layout
from ._forest_rows import SORTS
from ._rob_data import detect_tool
from .fonts import font_families
from .style import ForestStyle, resolve_style

ENGINES = ("native", "forestplot")


def _user_texts(result, title, favours, footnotes):
    """The texts of a figure that come from the sheet or the user (for the font fallback)."""
    out = [s.study_id for s in result.effects.studies] + [title or "", *favours, *footnotes]
    out += [f"{e.study_id}: {e.reason}" for e in result.effects.excluded]
    if result.by:
        out += [r.text(result.by) for r in result.effects.sheet.rows]
    return out


def forest(result, ax=None, *, style: str | ForestStyle = "revman", prediction: bool = False,
           favours: tuple[str, str] = ("", ""), xlim: tuple[float, float] | None = None,
           decimals: int | None = None, fontsize: float | None = None, title: str | None = None,
           show_excluded: bool = True, sort: str | None = None, i2: str = "q", rob: bool | str = False,
           width: float | None = None, height: float | None = None, label_width: float | None = None,
           footnotes: tuple[str, ...] = (), engine: str = "native") -> ForestPlot:
    """Draw a forest plot of a pooled result (grouped by subgroup when the
    result has them).

    Parameters
    ----------
    result : MetaResult
        From :func:`metail2.pool`.
    ax : matplotlib Axes, optional
        The plot region; the table is drawn left and right of it, shrunk to
        the room the figure leaves (a warning below half size). By default a
        figure is made whose size follows the rows and the text.
    style : {"revman", "jama"} or ForestStyle
        RevMan 5-like, or R meta's JAMA layout (estimate left, no weights,
        "Favors", "P = .003").
    prediction : bool
        Draw the prediction interval (random-effects fits with k ≥ 3) as its
        own row under each diamond.
    favours : (str, str)
        Labels under the axis, left and right of the null line.
    xlim : (float, float), optional
        Axis limits on the natural scale; CIs beyond them end in arrows.
    decimals, fontsize : optional
        Override the style's.
    title : str, optional
    show_excluded : bool
        List the rows not pooled, with reasons, under the plot.
    sort : {None, "year", "weight", "effect"}
        Order of the studies within each subgroup (default: the sheet's).
    i2 : {"q", "tau2"}
        The I² of the heterogeneity lines: Q-based, 100·(Q − df)/Q (default,
        as RevMan; what a reader computes from the Q and df printed beside
        it) or metafor's τ²-based I².
    rob : bool or {"rob2", "robins"}
        Risk-of-bias columns beside the table (RevMan), from the sheet's
        ``rob_*`` or ``robins_*`` columns.
    width, height : float, optional
        Figure size in inches (with ``ax=None``): the plot region takes the
        spare width, the rows the spare height; a table too large for the
        box is shrunk (down to half size; smaller raises InputError).
    label_width : float, optional
        Study labels wider than this (inches; default 2.2) wrap.
    footnotes : tuple of str
        Lines added to the notes under the plot.
    engine : {"native", "forestplot"}

    Returns
    -------
    ForestPlot

    Notes
    -----
    Values are drawn on the natural scale (exp for ratios, on a log axis with
    RevMan's symmetric scales and the null line at 1; proportions as
    observed with exact Clopper–Pearson CIs; differences on a symmetric
    axis, null line at 0). A square's area is proportional to the study's
    weight (%) in the overall analysis (as RevMan; subtotal rows show their
    subgroup's share), at least ``style.min_square`` pt² so every estimate
    is visible; a diamond spans the pooled CI. Every CI follows the result's
    ``level``.
    """
    if sort not in (None, *SORTS):
        raise InputError(f"unknown sort {sort!r}; choose from {', '.join(SORTS)}")
    if i2 not in ("q", "tau2"):
        raise InputError(f"unknown i2 {i2!r}; choose q or tau2")
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    if xlim is not None:
        lo, hi = xlim
        if not lo < hi or (result.measure.natural == "exp" and lo <= 0):
            raise InputError(f"xlim {lo:g} {hi:g}: the lower limit must be below the upper"
                             + (" and above 0 on a ratio axis" if result.measure.natural == "exp" else ""))
    for name, v in (("width", width), ("height", height), ("label_width", label_width)):
        if v is not None and not v > 0:
            raise InputError(f"{name} must be a positive number of inches (is {v!r})")
    st = resolve_style(style, decimals=decimals, fontsize=fontsize)
    if label_width is not None:
        st = replace(st, label_width_in=label_width)
    tool = None
    if rob:
        tool = detect_tool(result.effects.sheet.columns, None if rob is True else rob)
        if tool is None or not set(tool.columns) & set(result.effects.sheet.columns):
            raise InputError("the sheet has no risk-of-bias columns (rob_d1 … rob_overall for RoB 2, "
                             "robins_d1 … robins_overall for ROBINS-I)")
    families = font_families(st.font, _user_texts(result, title, favours, footnotes))
    fit = _axes_fit(ax) if ax is not None else None
    size = (width, height) if (width or height) and ax is None else None
    layout = forest_layout(result, st, prediction=prediction, favours=favours, xlim=xlim, title=title,
                           show_excluded=show_excluded, sort=sort, i2=i2, rob=tool, size=size, fit=fit,
                           footnotes=tuple(footnotes), families=families)
    meta = dict(method=result.method, convention=getattr(result, "convention", ""), level=result.level)
    if engine == "forestplot":
        from ._forestplot_engine import draw_with_forestplot

        return draw_with_forestplot(layout, result, ax, **meta)
    return replace(draw_forest(layout, ax), **meta)


def _axes_fit(ax) -> AxesFit:
    fig = ax.figure
    w, h = (float(v) * 72 for v in fig.get_size_inches())
    p = ax.get_position()
    pad = MARGIN / 2
    return AxesFit(p.width * w, p.height * h, p.x0 * w - pad, (1 - p.x1) * w - pad, (1 - p.y1) * h - pad,
                   p.y0 * h - pad)


def draw_forest(layout: ForestLayout, ax=None) -> ForestPlot:
    """Draw a layout (see :func:`._forest_draw.draw_forest`)."""
    return _draw(layout, ax)


__all__ = ["ENGINES", "ForestPlot", "draw_forest", "forest"]
