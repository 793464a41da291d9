"""Drawing a forest plot's layout with matplotlib (loaded late): the axis,
the marks (CI lines with arrows, weight-scaled squares, diamonds, prediction
intervals, the null line in segments), the table's texts placed in points
from the plot region's edges, favours labels, risk-of-bias circles, the
title and the notes. :class:`ForestPlot` is what :func:`metail2.plots.forest`
returns."""
from __future__ import annotations

import os
from dataclasses import dataclass

from ._forest_layout import ForestLayout, PlotRow
from ._rob_data import JUDGEMENTS
from .save import save_figure


@dataclass(frozen=True)
class ForestPlot:
    """What :func:`forest` drew: the figure and axes, the rows, and the
    numbers behind every mark (for checking and reuse); ``layout`` holds
    every position and text; ``method``, ``convention`` and ``level`` those of
    the result drawn."""

    figure: object
    ax: object
    rows: tuple[PlotRow, ...]
    squares: tuple[tuple[str, float, float, float], ...]  # (study_id, x, y, area pt²)
    diamonds: tuple[tuple[str, tuple[tuple[float, float], ...]], ...]  # (name, vertices)
    xlim: tuple[float, float]
    log: bool
    null: float | None
    layout: ForestLayout | None = None
    engine: str = "native"
    method: str = ""
    convention: str = ""
    level: float = 0.95

    def savefig(self, path: str | os.PathLike, **kwargs) -> None:
        save_figure(self.figure, path, **kwargs)


def draw_forest(layout: ForestLayout, ax=None) -> ForestPlot:
    """Draw a :class:`~._forest_layout.ForestLayout` on ``ax`` (or on a
    figure made to its size)."""
    if ax is None:
        import matplotlib.pyplot as plt

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
    ax.spines["bottom"].set_linewidth(0.8)
    from matplotlib.ticker import FixedLocator, NullLocator

    ax.xaxis.set_major_locator(FixedLocator(lay.ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(lay.ticks, lay.tick_labels, fontsize=st.small, family=list(lay.families))
    ax.tick_params(axis="x", which="major", length=3.5 * lay.scale, width=0.8, pad=3.5 * lay.scale,
                   direction="out", labelsize=st.small)
    for a, b in lay.null_segments if lay.show_null else ():
        ax.plot([lay.null, lay.null], [a, b], color=st.null_color, lw=0.8, zorder=1, gid="null")


def _marks(ax, lay: ForestLayout) -> None:
    """CI lines with arrows, diamonds and prediction intervals in row order;
    the squares as one scatter (gid "squares")."""
    from matplotlib.patches import Polygon

    st = lay.style
    lo_lim, hi_lim = lay.xlim
    ms = 4 * lay.scale
    xs, ys, areas = [], [], []

    def arrows(m, color, gid):
        if m.arrows[0]:
            ax.plot([lo_lim], [m.y], marker="<", ms=ms, color=color, zorder=3, clip_on=False, gid=gid)
        if m.arrows[1]:
            ax.plot([hi_lim], [m.y], marker=">", ms=ms, color=color, zorder=3, clip_on=False, gid=gid)

    for m in lay.marks:
        if m.kind == "study":
            ax.plot(list(m.line), [m.y, m.y], color=st.ci_color, lw=0.9, solid_capstyle="butt", zorder=2,
                    gid=f"ci:{m.name}")
            arrows(m, st.ci_color, f"arrow:{m.name}")
            if m.area is not None:
                xs.append(m.estimate)
                ys.append(m.y)
                areas.append(m.area)
        elif m.kind == "diamond":
            ax.add_patch(Polygon(m.vertices, closed=True, facecolor=st.diamond_color, edgecolor=st.diamond_color,
                                 lw=0.6, zorder=4, gid=f"diamond:{m.name}"))
            arrows(m, st.diamond_color, f"arrow:{m.name}")
        elif m.kind == "pi":
            ax.plot(list(m.line), [m.y, m.y], color=st.pi_color, lw=2.2, solid_capstyle="butt", zorder=3,
                    gid=f"pi:{m.name}")
            arrows(m, st.pi_color, f"arrow:pi:{m.name}")
    if xs:
        sc = ax.scatter(xs, ys, s=areas, marker="s", color=st.square_color, edgecolors="none", zorder=5)
        sc.set_gid("squares")


def _texts(ax, lay: ForestLayout) -> None:
    """The table (x in points from the plot region's edges, y in rows), the
    axis label, the favours labels, risk of bias, the title and the notes."""
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    st = lay.style
    fig = ax.figure
    fams = list(lay.families)
    ax_w_pt = ax.get_position().width * fig.get_figwidth() * 72
    tr = blended_transform_factory(ax.transAxes, ax.transData)

    def ax_x(x, anchor):  # points from an anchor -> axes fraction
        if anchor == "right":
            return (ax_w_pt + x) / ax_w_pt
        return x / ax_w_pt + (0.5 if anchor == "center" else 0.0)

    def text(t, **kw):
        ax.text(ax_x(t.x, t.anchor), t.y, t.text, transform=tr, fontsize=t.size, family=fams, ha=t.ha, va=t.va,
                fontweight="bold" if t.bold else "normal", style="italic" if t.italic else "normal",
                parse_math=False, **kw)

    if lay.rule is not None:
        a, b = lay.rule
        ax.plot([a / ax_w_pt, (ax_w_pt + b) / ax_w_pt], [0.5, 0.5], transform=tr, color="black", lw=0.6,
                clip_on=False, gid="rule")
    for t in lay.texts:
        text(t)
    ax.set_xlabel(lay.x_label, fontsize=st.small, family=fams, labelpad=4 * lay.scale)
    if lay.favours is not None:
        for s, ha, sign in zip(lay.favours, ("right", "left"), (-1, 1)):
            off = ScaledTranslation(sign * lay.favours_pad / 72, lay.favours_offset / 72, fig.dpi_scale_trans)
            xt = blended_transform_factory(ax.transData, ax.transAxes) + off
            ax.text(lay.favours_x, 0, s, transform=xt, ha=ha, va="top", fontsize=st.small, family=fams,
                    parse_math=False, gid=f"favours:{ha}")
    for x, y, j in lay.rob:
        symbol, colour, _ = JUDGEMENTS[j]
        ax.plot([ax_x(x, "right")], [y], transform=tr, marker="o", ms=lay.rob_size, mfc=colour, mec="none",
                clip_on=False, zorder=6, gid=f"rob:{j}")
        ax.text(ax_x(x, "right"), y, symbol, transform=tr, ha="center", va="center_baseline", fontsize=st.small,
                fontweight="bold", family=fams, color="black" if colour == "#E2DF07" else "white",
                parse_math=False, zorder=7)
    if lay.title is not None:
        text(lay.title)
    for i, line in enumerate(lay.notes):
        off = ScaledTranslation(lay.notes_left / 72, lay.notes_top / 72 - i * lay.note_step / 72,
                                fig.dpi_scale_trans)
        ax.text(0, 0, line, transform=ax.transAxes + off, fontsize=st.small, family=fams, va="top", ha="left",
                fontweight="bold" if i in lay.notes_bold else "normal", parse_math=False)


__all__ = ["ForestPlot", "draw_forest"]
