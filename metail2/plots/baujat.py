"""Baujat plot (Baujat et al. 2002; metafor's ``baujat``): each study's
contribution to the heterogeneity against its influence on the pooled
result (matplotlib, loaded on first draw; ``ax=None``; no global state touched)."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BaujatPlot:
    """What :func:`baujat` drew.

    Attributes
    ----------
    figure, ax
    study_ids : tuple of str
    x : ndarray
        Squared Pearson residuals (yᵢ − μ̂)²/(vᵢ + τ̂²): under a common-effect
        model each study's contribution to Cochran's Q.
    y : ndarray
        Influence on the pooled result, (μ̂₍₋ᵢ₎ − μ̂)²/Var(μ̂₍₋ᵢ₎).
    """

    figure: object
    ax: object
    study_ids: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray

    def savefig(self, path: str | os.PathLike, **kwargs) -> None:
        from .save import save_figure

        save_figure(self.figure, path, **kwargs)


def baujat_values(infl) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of the Baujat plot from an :class:`~metail2.sensitivity.Influence`
    (metafor 3.8 ``baujat.rma``: Var(μ̂₍₋ᵢ₎) is each leave-one-out fit's own,
    scaled by its s² under Hartung–Knapp)."""
    mu, tau2 = float(infl.full.estimate[0]), float(infl.full.tau2[0])
    x = (infl.y - mu) ** 2 / (infl.v + tau2)
    y = (infl.deleted.estimate - mu) ** 2 / infl.deleted.se ** 2
    return x, y


def baujat(data, ax=None, *, labels: str = "numbers", fontsize: float = 8.0, **model) -> BaujatPlot:
    """Baujat plot.

    Parameters
    ----------
    data : Influence, MetaResult, EffectSizes or (yi, vi)
        Influence diagnostics, or data to compute them from (``model``:
        ``method``, ``test``, ``level``, ``convention``).
    labels : {"numbers", "ids", "none"}
        Mark each point with the study's number in study order (metafor's
        default), its id, or nothing.

    Returns
    -------
    BaujatPlot
    """
    import matplotlib.pyplot as plt

    from ..sensitivity import Influence, influence

    infl = data if isinstance(data, Influence) else influence(data, **model)
    x, y = baujat_values(infl)
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 4.5))
    fig = ax.figure
    ax.scatter(x, y, s=14, color="#1f5fa8", zorder=3)
    if labels != "none":
        for i, (xi, yi) in enumerate(zip(x, y)):
            text = infl.study_ids[i] if labels == "ids" else str(i + 1)
            ax.annotate(text, (xi, yi), xytext=(4, 3), textcoords="offset points", fontsize=fontsize - 1)
    common = infl.model.method == "FE"
    ax.set_xlabel("Contribution to overall heterogeneity" if common else "Squared Pearson residual",
                  fontsize=fontsize)
    ax.set_ylabel("Influence on overall result", fontsize=fontsize)
    ax.grid(color="lightgray", lw=0.5)
    ax.tick_params(labelsize=fontsize - 1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return BaujatPlot(fig, ax, infl.study_ids, x, y)


__all__ = ["BaujatPlot", "baujat", "baujat_values"]
