"""Funnel plot of a :class:`~metail2.models.MetaResult` (matplotlib, loaded late)."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

from .save import save_figure
from .style import ForestStyle, resolve_style

#: two-sided normal quantiles of the contours: p = 0.01, 0.05, 0.1
Z_01, Z_05, Z_10 = 2.5758293035489004, 1.959963984540054, 1.6448536269514722


@dataclass(frozen=True)
class FunnelPlot:
    """What :func:`funnel` drew: the figure and axes, each study's point and
    the pooled estimate the funnel is centred on."""

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

    st = resolve_style(style)
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
        ax.fill_betweenx(grid, null - Z_01 * grid, null + Z_01 * grid, color="0.80", zorder=0,
                         label="0.01 ≤ p < 0.05")
        ax.fill_betweenx(grid, null - Z_05 * grid, null + Z_05 * grid, color="0.93", zorder=0,
                         label="0.05 ≤ p < 0.1")
        ax.fill_betweenx(grid, null - Z_10 * grid, null + Z_10 * grid, color="white", zorder=0, label="p ≥ 0.1")
        ax.legend(fontsize=st.small, frameon=False, loc="lower right")
        ax.set_xlim(null - xr, null + xr)
    ax.plot(est - Z_05 * grid, grid, ls="--", color="0.3", lw=0.8)
    ax.plot(est + Z_05 * grid, grid, ls="--", color="0.3", lw=0.8)
    ax.axvline(est, color="0.2", lw=0.8)
    ax.scatter(yi, se, s=18, color=st.square_color, zorder=3, gid="studies")
    ax.set_ylim(se_max, 0)
    ax.set_xlabel(result.measure.label, fontsize=st.fontsize, family=st.font)
    ax.set_ylabel("Standard error", fontsize=st.fontsize, family=st.font)
    ax.tick_params(labelsize=st.small)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return FunnelPlot(fig, ax, tuple((s.study_id, s.yi, math.sqrt(s.vi)) for s in studies), est, se_max)


__all__ = ["FunnelPlot", "funnel"]
