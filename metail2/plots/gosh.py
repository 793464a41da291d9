"""GOSH plot (Olkin, Dahabreh & Trikalinos 2012; metafor's ``plot.gosh.rma``):
the pooled estimate against I² over the subsets, shaded by density, with the
distribution of each at the margins (matplotlib, loaded on first draw; no
global state touched). A hexagonal-bin density keeps figures with a million
fits small and fast in every format."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .style import measure_label


@dataclass(frozen=True)
class GoshPlot:
    """What :func:`gosh_plot` drew: the figure, the central and marginal axes,
    the number of fits shown and the full fit's (estimate, I²)."""

    figure: object
    ax: object
    ax_top: object
    ax_right: object
    fits: int
    full: tuple[float, float]

    def savefig(self, path: str | os.PathLike, **kwargs) -> None:
        from .save import save_figure

        save_figure(self.figure, path, **kwargs)


def gosh_plot(result, *, y: str = "i2", gridsize: int = 60, cmap: str = "viridis", fontsize: float = 8.0,
              highlight: int | None = None) -> GoshPlot:
    """Draw a :class:`~metail2.sensitivity.Gosh` result.

    Parameters
    ----------
    result : Gosh
    y : {"i2", "tau2", "q"}
        The heterogeneity statistic on the vertical axis (I², as metafor's default pair).
    gridsize : int
        Hexagons across the horizontal axis.
    highlight : int, optional
        A study (0-based) whose subsets are drawn in red over the density
        (subsets without it in grey): how a cluster depends on one study.

    Notes
    -----
    The full fit (all studies) is marked with a red cross; fits whose
    statistics are not finite are left out.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    est = np.asarray(result.fits.estimate, dtype=float)
    het = np.asarray(getattr(result.fits, y), dtype=float)
    ok = np.isfinite(est) & np.isfinite(het)
    est, het = est[ok], het[ok]
    fig = plt.figure(figsize=(6.0, 5.2))
    grid = fig.add_gridspec(2, 2, width_ratios=(4, 1), height_ratios=(1, 4), wspace=0.05, hspace=0.05)
    ax = fig.add_subplot(grid[1, 0])
    top = fig.add_subplot(grid[0, 0], sharex=ax)
    right = fig.add_subplot(grid[1, 1], sharey=ax)
    if highlight is None:
        hb = ax.hexbin(est, het, gridsize=gridsize, cmap=cmap, norm=LogNorm(), mincnt=1, linewidths=0.1)
        cbar = fig.colorbar(hb, ax=right, fraction=0.5, pad=0.05)
        cbar.set_label("Subsets", fontsize=fontsize - 1)
        cbar.ax.tick_params(labelsize=fontsize - 2)
    else:
        m = result.mask()[ok][:, highlight]
        ax.scatter(est[~m], het[~m], s=2, color="#bbbbbb", rasterized=True, lw=0)
        ax.scatter(est[m], het[m], s=2, color="#b2182b", rasterized=True, lw=0,
                   label=f"with {result.study_ids[highlight]}")
        ax.legend(fontsize=fontsize - 1, markerscale=4, frameon=False)
    bins = min(80, max(10, int(np.sqrt(len(est)))))
    top.hist(est, bins=bins, color="#9ecae1", edgecolor="none")
    right.hist(het, bins=bins, orientation="horizontal", color="#9ecae1", edgecolor="none")
    full = (float(result.full.estimate[0]), float(getattr(result.full, y)[0]))
    ax.plot([full[0]], [full[1]], "x", color="#b2182b", ms=8, mew=1.8)
    label = measure_label(result.model.measure.name) if result.model.measure is not None else "Estimate"
    scale = "" if result.model.measure is None or result.model.measure.natural == "identity" else " (analysis scale)"
    ax.set_xlabel(label + scale, fontsize=fontsize)
    ax.set_ylabel({"i2": "I² (%)", "tau2": "τ²", "q": "Q"}[y], fontsize=fontsize)
    for a in (ax, top, right):
        a.tick_params(labelsize=fontsize - 1)
    top.tick_params(labelbottom=False)
    right.tick_params(labelleft=False)
    for a in (top, right):
        for side in ("top", "right"):
            a.spines[side].set_visible(False)
    how = "all" if result.exact else f"random (seed {result.seed})"
    top.set_title(f"GOSH: {len(est):,} subsets, {how}; {result.model.method}", fontsize=fontsize + 1, loc="left")
    return GoshPlot(fig, ax, top, right, len(est), full)


__all__ = ["GoshPlot", "gosh_plot"]
