"""Figures of the sensitivity analyses (matplotlib, loaded on first draw;
``ax=None``; no global state touched):

* :func:`refit_forest`: leave-one-out or cumulative meta-analysis as a forest
  plot, one row per omitted (added) study, the fit to all studies at the foot;
* :func:`influence_plot`: metafor's panel of influence diagnostics;
* :func:`permutation_plot`: the permutation distribution of the test statistic.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from ..report.format import MINUS, number
from ..effects import to_natural
from ._forest_axis import natural_ticks
from .style import PROPORTIONS, measure_label

BLUE, RED, GREY = "#1f5fa8", "#b2182b", "#555555"


@dataclass(frozen=True)
class Figure:
    """What a sensitivity plot drew: the figure, its axes, and the numbers
    behind the marks (``marks``: for a forest, (label, estimate, lower, upper)
    on the analysis scale, the full fit last)."""

    figure: object
    axes: tuple
    marks: tuple
    kind: str

    @property
    def ax(self):
        return self.axes[0]

    def savefig(self, path: str | os.PathLike, **kwargs) -> None:
        from .save import save_figure

        save_figure(self.figure, path, **kwargs)


def _fmt(x: float, d: int = 2) -> str:
    if x is not None and math.isinf(x):
        return "–"
    return number(x, d, minus=MINUS)


def _axis(ax, measure, lo: float, hi: float) -> None:
    ticks = natural_ticks(measure.natural, lo, hi) if measure is not None else None
    if ticks is not None and len(ticks[0]) >= 2:
        ax.set_xticks(*ticks)


def refit_forest(series, ax=None, *, decimals: int = 2, title: str | None = None, fontsize: float = 8.0) -> Figure:
    """Forest plot of a leave-one-out or cumulative meta-analysis
    (:class:`~metail2.sensitivity.RefitSeries`).

    Rows top to bottom: each refit ("Omitting X" / "+ X" with its k), a
    square and CI on the analysis scale (axis labelled on the natural scale
    for ratios and logit proportions), and its estimate [CI], τ² and I² on
    the right; the fit to all studies as a diamond at the foot, with a
    dashed line through it; the null line (none for single proportions).
    """
    import matplotlib.pyplot as plt

    b, full = series.fits, series.full
    measure = series.model.measure
    nat = measure is not None and measure.natural in ("exp", "expit")
    back = (lambda x: to_natural(measure, x)) if nat else (lambda x: x)
    loo = series.analysis == "leave-one-out"
    labels = [("Omitting " if loo else "+ ") + s for s in series.labels]
    n = len(labels)
    rows = [(labels[i], b.estimate[i], b.ci_lower[i], b.ci_upper[i], b.tau2[i], b.i2[i], int(b.k[i])) for i in range(n)]
    rows.append(("All studies", full.estimate[0], full.ci_lower[0], full.ci_upper[0], full.tau2[0], full.i2[0],
                 int(full.k[0])))
    right = [f"{_fmt(back(e), decimals)} [{_fmt(back(lo), decimals)}, {_fmt(back(hi), decimals)}]"
             f"   {_fmt(t, 3)}   {_fmt(i2, 1)}" for _, e, lo, hi, t, i2, _ in rows]
    left_w = max(len(r[0]) + 6 for r in rows) * fontsize * 0.55 / 72
    right_w = max(len(s) for s in right) * fontsize * 0.6 / 72
    height = (n + 4) * fontsize * 1.7 / 72
    if ax is None:
        fig = plt.figure(figsize=(left_w + 3.0 + right_w, max(2.0, height)))
        ax = fig.add_axes([left_w / (left_w + 3 + right_w), 0.6 / height, 3.0 / (left_w + 3 + right_w),
                           1 - 1.2 / height])
    fig = ax.figure
    ys = np.arange(n, 0, -1, dtype=float)
    yfull = -0.5
    finite = [v for r in rows for v in r[1:4] if math.isfinite(v)]
    lo, hi = min(finite), max(finite)
    pad = 0.08 * (hi - lo or 1.0)
    # no null line for a single proportion (there is no null effect; as in the forest plot)
    null = None if measure is not None and measure.name in PROPORTIONS else (measure.null if measure else 0.0)
    xlo, xhi = (lo - pad, hi + pad) if null is None else (min(lo - pad, null), max(hi + pad, null))
    for y, (_, e, cl, cu, *_rest) in zip(ys, rows[:-1]):
        ax.plot([cl, cu], [y, y], color="black", lw=0.8)
        ax.plot([e], [y], "s", color=BLUE, ms=4.5)
    _, e, cl, cu = rows[-1][:4]
    ax.fill([cl, e, cu, e], [yfull, yfull + 0.35, yfull, yfull - 0.35], color="black")
    ax.axvline(e, color=GREY, lw=0.6, ls="--")
    if null is not None:
        ax.axvline(null, color=GREY, lw=0.8)
    ax.set_ylim(yfull - 1, n + 1)
    ax.set_xlim(xlo, xhi)
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    _axis(ax, series.model.measure, xlo, xhi)
    unit = measure_label(series.model.measure.name) if series.model.measure is not None else "Estimate"
    ax.set_xlabel(unit + ("" if nat or series.model.measure is None or series.model.measure.natural == "identity"
                          else " (analysis scale)"), fontsize=fontsize)
    ax.tick_params(labelsize=fontsize - 1)
    for y, r, txt in zip(list(ys) + [yfull], rows, right):
        bold = r[0] == "All studies"
        ax.annotate(f"{r[0]}  (k = {r[6]})", (0, y), xycoords=("axes fraction", "data"), xytext=(-8, 0),
                    textcoords="offset points", ha="right", va="center", fontsize=fontsize,
                    fontweight="bold" if bold else "normal")
        ax.annotate(txt, (1, y), xycoords=("axes fraction", "data"), xytext=(8, 0), textcoords="offset points",
                    ha="left", va="center", fontsize=fontsize, fontweight="bold" if bold else "normal")
    lvl = round(100 * series.model.level)
    ax.annotate(f"Estimate [{lvl}% CI]   τ²   I² %", (1, n + 0.8), xycoords=("axes fraction", "data"),
                xytext=(8, 0), textcoords="offset points", ha="left", va="center", fontsize=fontsize,
                fontweight="bold")
    model = "common effect" if series.model.method == "FE" else f"random effects, {series.model.method}"
    head = title or (("Leave-one-out" if loo else "Cumulative meta-analysis") + f" ({model}"
                     + (", HK" if series.model.test == "hk" else "") + ")")
    ax.set_title(head, fontsize=fontsize + 1, loc="left")
    marks = tuple((r[0], float(r[1]), float(r[2]), float(r[3])) for r in rows)
    return Figure(fig, (ax,), marks, series.analysis)


#: Panels of :func:`influence_plot`: (field, title, reference line(s) as a function of (k, full fit)).
PANELS = (
    ("rstudent", "rstudent", lambda k, f: (-1.959963984540054, 1.959963984540054)),
    ("dffits", "dffits", lambda k, f: (3 * math.sqrt(1 / (k - 1)), -3 * math.sqrt(1 / (k - 1)))),
    ("cook_d", "cook.d", lambda k, f: (0.454936423119572,)),            # qchisq(0.5, 1)
    ("cov_r", "cov.r", lambda k, f: (1.0,)),
    ("tau2_del", "tau2.del", lambda k, f: (float(f.tau2[0]),)),
    ("qe_del", "QE.del", lambda k, f: (k - 2.0,)),
    ("hat", "hat", lambda k, f: (3 / k,)),
    ("weight", "weight", lambda k, f: (100 / k,)),
)


def influence_plot(infl, *, fontsize: float = 8.0) -> Figure:
    """metafor's ``plot(influence(...))``: eight panels (externally
    studentised residuals, DFFITS, Cook's distances, covariance ratios,
    leave-one-out τ² and Q, hat values, weights), study by study, the
    influential studies in red, with the reference lines metafor draws."""
    import matplotlib.pyplot as plt

    k = infl.k
    fig, axes = plt.subplots(4, 2, figsize=(7.5, 8.5), sharex=True)
    x = np.arange(1, k + 1)
    red = np.asarray(infl.influential, dtype=bool)
    for ax, (field, name, ref) in zip(axes.ravel(), PANELS):
        vals = np.asarray(getattr(infl, field), dtype=float)
        ax.plot(x, vals, color=GREY, lw=0.6)
        ax.plot(x[~red], vals[~red], "o", color="black", ms=3.5)
        ax.plot(x[red], vals[red], "o", color=RED, ms=4.5)
        for line in ref(k, infl.full):
            ax.axhline(line, color=GREY, lw=0.6, ls="--")
        ax.set_title(name, fontsize=fontsize + 1, loc="left")
        ax.tick_params(labelsize=fontsize - 1)
    for ax in axes[-1]:
        ax.set_xticks(x if k <= 20 else x[:: math.ceil(k / 20)])
        ax.set_xlabel("Study", fontsize=fontsize)
    fig.tight_layout()
    marks = tuple((s, bool(f)) for s, f in zip(infl.study_ids, red))
    return Figure(fig, tuple(axes.ravel()), marks, "influence")


def permutation_plot(perm, ax=None, *, fontsize: float = 8.0) -> Figure:
    """Histogram of the test statistic over the sign patterns, with the
    observed ±|statistic| marked (the share beyond them is the p-value)."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(5.0, 3.2))
    fig = ax.figure
    d = perm.distribution[np.isfinite(perm.distribution)]
    ax.hist(d, bins=min(60, max(10, int(math.sqrt(len(d))))), color="#9ecae1", edgecolor="white", lw=0.3)
    for s in (perm.stat, -perm.stat):
        ax.axvline(s, color=RED, lw=1.0, ls="--")
    stat = "z" if perm.model.test == "z" else "t"
    how = "exact" if perm.exact else f"{perm.iterations:,} random sign patterns, seed {perm.seed}"
    ax.set_title(f"Permutation test ({how}): p = {perm.p:.4g}", fontsize=fontsize + 1, loc="left")
    ax.set_xlabel(f"{stat} statistic under sign flips", fontsize=fontsize)
    ax.set_ylabel("Sign patterns", fontsize=fontsize)
    ax.tick_params(labelsize=fontsize - 1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return Figure(fig, (ax,), ((stat, float(perm.stat), float(perm.p)),), "permutation")


__all__ = ["Figure", "influence_plot", "permutation_plot", "refit_forest"]
