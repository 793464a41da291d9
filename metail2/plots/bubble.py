"""Bubble plot of a meta-regression: each study's effect against a moderator,
point area proportional to its weight, the regression line with its CI band
(matplotlib, loaded on first draw; ``ax=None``; no global state touched)."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import Problem, SheetError
from ._forest_axis import natural_ticks
from .save import save_figure
from .style import ForestStyle, measure_label, resolve_style

@dataclass(frozen=True)
class BubblePlot:
    """What :func:`bubble` drew.

    Attributes
    ----------
    figure, ax
    moderator : str
        The column on the x axis; ``kind`` is ``numeric`` or ``factor``.
    points : tuple of (study_id, x, yi, weight %)
        x is the moderator value (a factor's level position 0, 1, …).
    sizes : tuple of float
        Marker areas (pt²), proportional to the weights.
    line_x, line_y, band_lower, band_upper : ndarray
        The regression line (predicted average effect, other moderators at
        their means) and its CI band on the analysis scale; for a factor, one
        value per level.
    natural_axis : bool
        The y axis is labelled on the natural scale (ratios, proportions).
    """

    figure: object
    ax: object
    moderator: str
    kind: str
    points: tuple[tuple[str, float, float, float], ...]
    sizes: tuple[float, ...]
    line_x: np.ndarray
    line_y: np.ndarray
    band_lower: np.ndarray
    band_upper: np.ndarray
    natural_axis: bool

    def savefig(self, path: str | os.PathLike, **kwargs) -> None:
        save_figure(self.figure, path, **kwargs)


def bubble(result, mod: str | None = None, ax=None, *, ci: bool = True, pi: bool = False, natural: bool | None = None,
           style: str | ForestStyle = "revman", max_area: float = 400.0, labels: bool = False) -> BubblePlot:
    """Bubble plot of a :class:`~metail2.models.metareg.MetaRegression`.

    Parameters
    ----------
    result : MetaRegression
    mod : str, optional
        The moderator on the x axis; default the first numeric one (else the first).
    ax : matplotlib Axes, optional
    ci, pi : bool
        Draw the CI band (default) and the prediction-interval band.
    natural : bool, optional
        Label the y axis on the natural scale (ratios: exp; PLO: expit); by
        default for those measures.
    max_area : float
        Area (pt²) of the heaviest study's marker; areas are proportional to
        the weights 1/(vᵢ + τ̂²).
    labels : bool
        Write each study's id beside its point.

    Notes
    -----
    The line is the predicted average effect x β̂ over the moderator's range,
    with every other model-matrix column at its mean over the studies (as
    metafor's ``regplot``); for a factor, the predicted effect of each level
    with its CI.
    """
    import matplotlib.pyplot as plt

    st = resolve_style(style)
    mods = result.design.moderators
    if mod is None:
        mod = next((m.column for m in mods if m.kind == "numeric"), mods[0].column)
    moderator = next((m for m in mods if m.column == mod), None)
    if moderator is None:
        raise SheetError([Problem("<arguments>", None, None, mod, f"{mod!r} is not a moderator of the model "
                                  f"(moderators: {', '.join(m.column for m in mods)})")])
    names = result.names
    cols = [names.index(n) for n in moderator.names]
    X = result.X
    yi = np.array([s.yi for s in result.studies])
    w = np.asarray(result.weights, dtype=float)
    sizes = max_area * w / w.max()
    base = X.mean(axis=0)
    if moderator.kind == "numeric":
        x = X[:, cols[0]]
        gx = np.linspace(x.min(), x.max(), 200)
        G = np.tile(base, (len(gx), 1))
        G[:, cols[0]] = gx
    else:
        pos = {lv: i for i, lv in enumerate(moderator.levels)}
        level_of = [v[mod] for v in result.design.values]
        x = np.array([pos[lv] for lv in level_of], dtype=float)
        for lv in moderator.levels:  # spread coincident points a little, deterministically
            idx = [i for i, t in enumerate(level_of) if t == lv]
            if len(idx) > 1:
                x[idx] += np.linspace(-0.12, 0.12, len(idx))
        gx = np.arange(len(moderator.levels), dtype=float)
        G = np.tile(base, (len(gx), 1))
        G[:, cols] = 0.0
        for j, c in enumerate(cols, start=1):
            G[j, c] = 1.0
    pred = result._predict_x(G, result.level)

    if ax is None:
        fig, ax = plt.subplots(figsize=(4.8, 3.6))
    else:
        fig = ax.figure
    if moderator.kind == "numeric":
        if pi and pred.pi_lower is not None:
            ax.fill_between(gx, pred.pi_lower, pred.pi_upper, color="0.93", lw=0, zorder=0, gid="pi band")
        if ci:
            ax.fill_between(gx, pred.ci_lower, pred.ci_upper, color="0.82", lw=0, zorder=1, gid="ci band")
        ax.plot(gx, pred.pred, color="black", lw=1.2, zorder=2, gid="regression line")
    else:
        ax.errorbar(gx, pred.pred, yerr=[pred.pred - pred.ci_lower, pred.ci_upper - pred.pred] if ci else None,
                    fmt="D", color="black", ms=5, capsize=4, lw=1.2, zorder=4, gid="regression line")
        ax.set_xticks(gx)
        ax.set_xticklabels(moderator.levels)
        ax.set_xlim(-0.6, len(gx) - 0.4)
    ax.scatter(x, yi, s=sizes, facecolor=st.square_color, edgecolor="white", linewidth=0.5, alpha=0.75, zorder=3,
               gid="studies")
    if labels:
        for s, xx, yy in zip(result.studies, x, yi):
            ax.annotate(s.study_id, (xx, yy), xytext=(4, 3), textcoords="offset points", fontsize=st.small - 1)
    if result.measure.name not in ("PR", "PLO", "PFT"):
        ax.axhline(result.measure.null, color=st.null_color, lw=0.6, ls=":", zorder=0)
    if natural is None:
        natural = result.measure.natural in ("exp", "expit")
    natural = natural and result.measure.natural in ("exp", "expit")
    label = measure_label(result.measure.name)
    if natural:
        lo, hi = ax.get_ylim()
        ticks, texts = natural_ticks(result.measure.natural, lo, hi, most=9)
        ax.set_yticks(ticks)
        ax.set_yticklabels(texts)
        ax.set_ylim(lo, hi)
        label += " (log scale)" if result.measure.natural == "exp" else " (logit scale)"
    else:
        label = result.measure.label[:1].upper() + result.measure.label[1:]
    ax.set_ylabel(label, fontsize=st.fontsize, family=st.font)
    ax.set_xlabel(mod, fontsize=st.fontsize, family=st.font)
    ax.tick_params(labelsize=st.small)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return BubblePlot(fig, ax, mod, moderator.kind,
                      tuple((s.study_id, float(a), float(b), float(c)) for s, a, b, c in zip(result.studies, x, yi, w)),
                      tuple(float(s) for s in sizes), gx, pred.pred, pred.ci_lower, pred.ci_upper, bool(natural))


__all__ = ["bubble", "BubblePlot"]
