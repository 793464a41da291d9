"""Funnel plot of a :class:`~metail2.models.MetaResult` (matplotlib, loaded late)."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

from ..errors import InputError
from ..models.subgroups import MISSING_GROUP
from ._forest_axis import natural_ticks
from .fonts import font_families
from .save import save_figure
from .style import PROPORTIONS, ForestStyle, measure_label, resolve_style

#: two-sided normal quantiles of the contours: p = 0.01, 0.05, 0.1
Z_01, Z_05, Z_10 = 2.5758293035489004, 1.959963984540054, 1.6448536269514722
#: colour-blind-safe colours (Okabe–Ito) and markers of the subgroups
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")


@dataclass(frozen=True)
class FunnelPlot:
    """What :func:`funnel` drew: the figure and axes, each study's point and
    the pooled estimate the funnel is centred on; ``groups`` the subgroup of
    each point (with ``by``)."""

    figure: object
    ax: object
    points: tuple[tuple[str, float, float], ...]  # (study_id, yi, se)
    estimate: float
    se_max: float
    groups: tuple[str, ...] = ()
    filled: tuple[tuple[str, float, float], ...] = ()  # trim-and-fill's imputed studies (study_id, yi, se)
    notes: tuple[str, ...] = ()

    def savefig(self, path: str | os.PathLike, **kwargs) -> None:
        save_figure(self.figure, path, **kwargs)


def funnel(result, ax=None, *, contours: bool = False, style: str | ForestStyle = "revman", by: bool = True,
           labels: bool = False, trimfill=None, egger=None) -> FunnelPlot:
    """Funnel plot: each study's effect (analysis scale) against its standard
    error, with pseudo 95% confidence limits around the pooled estimate.

    Parameters
    ----------
    contours : bool
        Contour-enhanced (Peters et al. 2008): shade the regions where a
        study's two-sided p against the null would be < 0.01, 0.01–0.05 and
        0.05–0.1. Refused for single proportions, which have no null effect.
    by : bool
        With a subgrouped result, colour and mark the points by subgroup (legend).
    labels : bool
        Write each study's label beside its point.
    trimfill : TrimFill, optional
        From :func:`metail2.bias.trimfill`: its filled studies as open
        markers and its adjusted estimate as a dotted line.
    egger : Egger, optional
        From :func:`metail2.bias.egger` (predictor ``sei`` or ``vi``): the
        fitted regression line.

    The plot's ``notes`` carry the caveats of funnel asymmetry (k < 10, single
    proportions; :func:`metail2.bias.caveats`), also issued as warnings.

    Notes
    -----
    The pseudo confidence limits are μ̂ ± 1.96·SE for SE from 0 to the largest
    SE (Sterne & Egger 2001), drawn whole (the x axis covers them); the y axis
    is inverted (precise studies on top). Ratio measures are drawn on the log
    scale with tick labels on the natural scale (0.5, 1, 2). Legends sit
    outside the plot region, so they never cover a point.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    import warnings

    from ..bias import caveats
    from ..errors import MetailWarning

    notes = tuple(caveats(result.effects))
    for n in notes:
        warnings.warn(n, MetailWarning, stacklevel=2)
    if contours and result.measure.name in PROPORTIONS:
        raise InputError(f"contours show p-values against a null effect; a single proportion "
                         f"({result.measure.name}) has none: draw the funnel without contours")
    st = resolve_style(style)
    studies = result.effects.studies
    yi = np.array([s.yi for s in studies])
    se = np.sqrt([s.vi for s in studies])
    est = result.overall.estimate
    filled = tuple((f.study_id, f.yi, f.sei) for f in (trimfill.filled if trimfill is not None else ()))
    se_max = float(max(se.max(), max((f[2] for f in filled), default=0.0))) * 1.08
    groups = tuple((s.row.text(result.by) or MISSING_GROUP) for s in studies) if result.by and by else ()
    fams = list(font_families(st.font, [s.study_id for s in studies] + list(groups)))
    legend = contours or len(set(groups)) > 1 or trimfill is not None or egger is not None
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.2 if legend else 4.5, 3.6))
        if legend:
            fig.subplots_adjust(left=0.12, right=0.68, bottom=0.14, top=0.95)
    else:
        fig = ax.figure
    grid = np.linspace(0, se_max, 100)
    null = result.measure.null
    far = [abs(x - est) for x in yi] + [abs(f[1] - est) for f in filled]
    half = max(max(far), Z_05 * se_max) * 1.1
    lo, hi = est - half, est + half
    handles = []
    if contours:
        half = max(float(np.abs(yi - null).max()), Z_01 * se_max, abs(est - null) + Z_05 * se_max) * 1.1
        lo, hi = null - half, null + half
        for z, colour, label in ((None, "0.65", "p < 0.01"), (Z_01, "0.80", "0.01 ≤ p < 0.05"),
                                 (Z_05, "0.93", "0.05 ≤ p < 0.1"), (Z_10, "white", "p ≥ 0.1")):
            w = half if z is None else z * grid
            handles.append(ax.fill_betweenx(grid, null - w, null + w, color=colour, zorder=0, label=label,
                                            edgecolor="0.5" if colour == "white" else colour, lw=0.3))
    ax.plot(est - Z_05 * grid, grid, ls="--", color="0.3", lw=0.8, gid="pseudo-ci")
    ax.plot(est + Z_05 * grid, grid, ls="--", color="0.3", lw=0.8, gid="pseudo-ci")
    ax.axvline(est, color="0.2", lw=0.8, gid="estimate")
    if groups:
        names = list(dict.fromkeys(sorted(set(groups))))
        colours = [COLOURS[names.index(g) % len(COLOURS)] for g in groups]
        sc = ax.scatter(yi, se, s=18, c=colours, zorder=3, gid="studies")
        for i, g in enumerate(names):
            handles.append(ax.scatter([], [], s=18, color=COLOURS[i % len(COLOURS)], marker=MARKERS[i % len(MARKERS)],
                                      label=f"{result.by} = {g}"))
        from matplotlib.markers import MarkerStyle

        paths = [MarkerStyle(MARKERS[names.index(g) % len(MARKERS)]).get_path().transformed(
            MarkerStyle(MARKERS[names.index(g) % len(MARKERS)]).get_transform()) for g in groups]
        sc.set_paths(paths)
    else:
        ax.scatter(yi, se, s=18, color=st.square_color, zorder=3, gid="studies")
    if filled:
        ax.scatter([f[1] for f in filled], [f[2] for f in filled], s=18, facecolors="white",
                   edgecolors=st.square_color, zorder=3, gid="filled", label="filled (trim-and-fill)")
        ax.axvline(trimfill.estimate, color="0.2", lw=0.8, ls=":", gid="filled-estimate")
        handles.append(ax.scatter([], [], s=18, facecolors="white", edgecolors=st.square_color,
                                  label=f"filled by trim-and-fill (k0 = {len(filled)})"))
        handles.append(ax.plot([], [], color="0.2", lw=0.8, ls=":", label="estimate with the filled studies")[0])
    if egger is not None:
        line = egger.line(grid)
        ax.plot(line, grid, color="#b2182b", lw=0.9, gid="egger-line", label="Egger's regression line")
        handles.append(ax.plot([], [], color="#b2182b", lw=0.9, label="Egger's regression line")[0])
    ax.set_xlim(lo, hi)
    ax.set_ylim(se_max, 0)
    if labels:
        _label_points(ax, [s.study_id for s in studies], yi, se, st.small - 1, fams)
    name = measure_label(result.measure.name)
    if result.measure.natural == "exp":
        ax.set_xticks(*natural_ticks("exp", lo, hi))
        ax.set_xlabel(f"{name} (log scale)", fontsize=st.fontsize, family=fams)
    else:
        ax.set_xlabel(result.measure.label[:1].upper() + result.measure.label[1:], fontsize=st.fontsize,
                      family=fams)
    ax.set_ylabel("Standard error", fontsize=st.fontsize, family=fams)
    ax.tick_params(labelsize=st.small)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if handles:
        ax.legend(handles=handles, frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  borderaxespad=0, prop={"family": fams, "size": st.small})
    return FunnelPlot(fig, ax, tuple((s.study_id, s.yi, math.sqrt(s.vi)) for s in studies), est, se_max, groups,
                      filled, notes)


#: where a label may go, points from its point: (dx, dy, ha, va), tried in order
_SPOTS = ((4, 2, "left", "bottom"), (4, -2, "left", "top"), (-4, 2, "right", "bottom"), (-4, -2, "right", "top"),
          (4, 9, "left", "bottom"), (4, -9, "left", "top"), (-4, 9, "right", "bottom"), (-4, -9, "right", "top"),
          (0, 6, "center", "bottom"), (0, -6, "center", "top"))


def _label_points(ax, names, xs, ys, size, fams) -> None:
    """Each study's label beside its point, at the first spot (:data:`_SPOTS`)
    that covers no other label and no point (widths from the fonts' metrics)."""
    from .fonts import metrics_width

    tw = metrics_width(tuple(fams))
    fig = ax.figure
    px = fig.dpi / 72
    pts = ax.transData.transform(list(zip(xs, ys)))
    frame = ax.bbox
    placed, r = [], 3.5 * px  # a point's half size

    def free(box):
        x0, y0, x1, y1 = box
        if x0 < frame.x0 - 40 * px or x1 > frame.x1 + 40 * px:
            return False
        if any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in placed):
            return False
        return not any(x0 < px_ + r and px_ - r < x1 and y0 < py + r and py - r < y1 for px_, py in pts)

    for i in sorted(range(len(names)), key=lambda i: ys[i]):
        w, h = tw(names[i], size) * px, size * 1.25 * px
        (x, y) = pts[i]
        choice = None
        for dx, dy, ha, va in _SPOTS:
            ax0 = x + dx * px - {"left": 0, "right": w, "center": w / 2}[ha]
            ay0 = y + dy * px - (0 if va == "bottom" else h)
            box = (ax0, ay0, ax0 + w, ay0 + h)
            if free(box):
                choice = (dx, dy, ha, va, box)
                break
        dx, dy, ha, va, box = choice or (*_SPOTS[0], (x, y, x, y))
        placed.append(box)
        ax.annotate(names[i], (xs[i], ys[i]), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                    fontsize=size, family=list(fams), zorder=4, annotation_clip=False, gid=f"label:{names[i]}")


__all__ = ["FunnelPlot", "funnel"]
