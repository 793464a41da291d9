"""Forest plot of a :class:`~metail2.models.MetaResult`: lay out
(:mod:`._forest_layout`, pure), then draw with matplotlib (loaded late).

The table is drawn left and right of the plot region row by row: a header per
subgroup, study rows with a square scaled by the study's weight and its 95% CI
(an arrow where the CI runs past the axis), a subtotal diamond with its
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

import os
from dataclasses import dataclass

from ._forest_layout import ForestLayout, PlotRow, forest_layout
from .save import save_figure
from .style import ForestStyle, resolve_style


@dataclass(frozen=True)
class ForestPlot:
    """What :func:`forest` drew: the figure and axes, the rows, and the
    numbers behind every mark (for checking and reuse); ``layout`` holds
    every position and text."""

    figure: object
    ax: object
    rows: tuple[PlotRow, ...]
    squares: tuple[tuple[str, float, float, float], ...]  # (study_id, x, y, area pt²)
    diamonds: tuple[tuple[str, tuple[tuple[float, float], ...]], ...]  # (name, vertices)
    xlim: tuple[float, float]
    log: bool
    null: float | None
    layout: ForestLayout | None = None

    def savefig(self, path: str | os.PathLike, **kwargs) -> None:
        save_figure(self.figure, path, **kwargs)


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
    st = resolve_style(style, decimals=decimals, fontsize=fontsize)
    layout = forest_layout(result, st, prediction=prediction, favours=favours, xlim=xlim, title=title,
                           show_excluded=show_excluded)
    return draw_forest(layout, ax)


def draw_forest(layout: ForestLayout, ax=None) -> ForestPlot:
    """Draw a :class:`~._forest_layout.ForestLayout` on ``ax`` (or on a
    figure made to its size)."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig = plt.figure(figsize=layout.figsize)
        ax = fig.add_axes(list(layout.axes_rect))
    else:
        fig = ax.figure
    _axis(ax, layout)
    _marks(ax, layout)
    _texts(ax, layout)
    return ForestPlot(fig, ax, layout.rows, layout.squares, layout.diamonds, layout.xlim, layout.log,
                      layout.null, layout)


def _axis(ax, lay: ForestLayout) -> None:
    st = lay.style
    if lay.log:
        ax.set_xscale("log")
    ax.set_xlim(*lay.xlim)
    ax.set_ylim(*lay.ylim)
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", labelsize=st.small)
    if lay.ticks is not None:
        from matplotlib.ticker import FixedLocator, NullLocator

        ax.xaxis.set_major_locator(FixedLocator(lay.ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([f"{t:g}" for t in lay.ticks])
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(5))
    if lay.show_null:
        ax.axvline(lay.null, color=st.null_color, lw=0.8, zorder=1)


def _marks(ax, lay: ForestLayout) -> None:
    """CI lines with arrows, diamonds and prediction intervals in row order;
    the squares as one scatter (gid "squares")."""
    from matplotlib.patches import Polygon

    st = lay.style
    lo_lim, hi_lim = lay.xlim
    xs, ys, areas = [], [], []
    for m in lay.marks:
        if m.kind == "study":
            ax.plot(list(m.line), [m.y, m.y], color=st.ci_color, lw=0.9, solid_capstyle="butt", zorder=2)
            if m.arrows[0]:
                ax.plot([lo_lim], [m.y], marker="<", ms=4, color=st.ci_color, zorder=3, clip_on=False)
            if m.arrows[1]:
                ax.plot([hi_lim], [m.y], marker=">", ms=4, color=st.ci_color, zorder=3, clip_on=False)
            if m.area is not None:
                xs.append(m.estimate)
                ys.append(m.y)
                areas.append(m.area)
        elif m.kind == "diamond":
            ax.add_patch(Polygon(m.vertices, closed=True, facecolor=st.diamond_color, edgecolor=st.diamond_color,
                                 lw=0.6, zorder=4, gid=f"diamond:{m.name}"))
        elif m.kind == "pi":
            ax.plot(list(m.line), [m.y, m.y], color=st.pi_color, lw=2.2, solid_capstyle="butt", zorder=3,
                    gid=f"pi:{m.name}")
    if xs:
        sc = ax.scatter(xs, ys, s=areas, marker="s", color=st.square_color, edgecolors="none", zorder=5)
        sc.set_gid("squares")


def _texts(ax, lay: ForestLayout) -> None:
    """The table (x in points from the plot region's edges, y in rows), the
    axis label, the favours labels, the title and the notes."""
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    st = lay.style
    fig = ax.figure
    ax_w_pt = ax.get_position().width * fig.get_figwidth() * 72
    tr = blended_transform_factory(ax.transAxes, ax.transData)

    def ax_x(t):  # points from an anchor -> axes fraction
        if t.anchor == "right":
            return (ax_w_pt + t.x) / ax_w_pt
        return t.x / ax_w_pt + (0.5 if t.anchor == "center" else 0.0)

    def text(t):
        ax.text(ax_x(t), t.y, t.text, transform=tr, fontsize=t.size, family=st.font, ha=t.ha, va=t.va,
                fontweight="bold" if t.bold else "normal", style="italic" if t.italic else "normal")

    if lay.rule is not None:
        a, b = lay.rule
        ax.plot([a / ax_w_pt, (ax_w_pt + b) / ax_w_pt], [0.5, 0.5], transform=tr, color="black", lw=0.6,
                clip_on=False)
    for t in lay.texts:
        text(t)
    ax.set_xlabel(lay.x_label, fontsize=st.small, family=st.font)
    if lay.favours is not None:
        off = ScaledTranslation(0, lay.favours_offset / 72, fig.dpi_scale_trans)
        xt = blended_transform_factory(ax.transData, ax.transAxes) + off
        for s, ha in zip(lay.favours, ("right", "left")):
            ax.text(lay.favours_x, 0, s, transform=xt, ha=ha, va="top", fontsize=st.small, family=st.font)
    if lay.title is not None:
        text(lay.title)
    for i, line in enumerate(lay.notes):
        off = ScaledTranslation(lay.notes_left / 72, lay.notes_top / 72 - i * lay.note_step / 72,
                                fig.dpi_scale_trans)
        ax.text(0, 0, line, transform=ax.transAxes + off, fontsize=st.small, family=st.font, va="top", ha="left",
                fontweight="bold" if i == 0 else "normal")


__all__ = ["ForestPlot", "draw_forest", "forest"]
