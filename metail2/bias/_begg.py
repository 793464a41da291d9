"""Begg and Mazumdar's rank correlation test (metafor's ``ranktest``), with
Kendall's τ and its exact or normal-approximation p-value as R's
``cor.test(method = "kendall")``."""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from ..errors import MetailWarning
from ._common import caveats, effect_sizes, need, num


@dataclass(frozen=True)
class Begg:
    """Rank correlation between standardised effects and their variances.

    Attributes
    ----------
    tau : float
        Kendall's τ (τ_b when there are ties).
    p : float
        Two-sided p-value: exact (the permutation distribution of Kendall's
        statistic) unless there are ties, then the normal approximation.
    exact : bool
    stat : float
        T (concordant pairs) for the exact test, z for the approximation.
    """

    measure: str
    k: int
    tau: float
    p: float
    exact: bool
    stat: float
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"analysis": "begg", "measure": self.measure, "method": "FE", "test": "exact" if self.exact else "z",
                "k": self.k, "tau": num(self.tau), "p": num(self.p), "exact": self.exact,
                "stat": num(self.stat), "statistic": "T" if self.exact else "z"}

    def __str__(self) -> str:
        lines = [f"Rank correlation test for funnel plot asymmetry (Begg & Mazumdar) on {self.measure}, k = {self.k}",
                 f"Kendall's tau = {self.tau:.4f}, p = {self.p:.4f} "
                 f"({'exact' if self.exact else 'normal approximation'})"]
        lines += [f"Note: {w}" for w in self.warnings]
        return "\n".join(lines)


def kendall_lower_tail(q: int, n: int) -> float:
    """P(T ≤ q) for T the number of concordant pairs among n untied pairs under
    independence (R's ``pkendall``), from the Mahonian distribution.

    Notes
    -----
    The counts of permutations with j inversions satisfy
    c_n(j) = Σ_{t=0}^{n−1} c_{n−1}(j − t); built as probabilities with running
    sums from the left, so the lower tail keeps its relative accuracy.
    """
    u = n * (n - 1) // 2
    if q < 0:
        return 0.0
    if q >= u:
        return 1.0
    top = q  # only the lower tail up to q is needed
    p = np.zeros(top + 1)
    p[0] = 1.0
    for m in range(2, n + 1):
        c = np.cumsum(p)
        shifted = np.zeros_like(c)
        if m <= top:
            shifted[m:] = c[:-m]
        p = (c - shifted) / m
    return float(min(1.0, p.sum()))


def kendall_test(x, y, exact: bool = True) -> tuple[float, float, bool, float]:
    """Kendall's τ_b and its two-sided p (R's ``cor.test(x, y, method = "kendall",
    exact = exact)``, no continuity correction): (tau, p, exact used, statistic)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(x)
    i, j = np.triu_indices(n, 1)
    sx, sy = np.sign(x[j] - x[i]), np.sign(y[j] - y[i])
    s = float(np.sum(sx * sy))
    n0 = n * (n - 1) / 2
    tx, ty = float(np.sum(sx == 0)), float(np.sum(sy == 0))
    tau = s / math.sqrt((n0 - tx) * (n0 - ty))
    ties = min(len(np.unique(x)), len(np.unique(y))) < n
    if exact and not ties:
        q = int(round((tau + 1) * n * (n - 1) / 4))
        u = n * (n - 1) // 2
        if q > n * (n - 1) / 4:
            tail = kendall_lower_tail(u - q, n)     # P(T ≥ q), by symmetry
        else:
            tail = kendall_lower_tail(q, n)
        return tau, min(2 * tail, 1.0), True, float(q)
    xt = np.unique(x, return_counts=True)[1]
    yt = np.unique(y, return_counts=True)[1]
    xt, yt = xt[xt > 1].astype(float), yt[yt > 1].astype(float)
    v0 = n * (n - 1) * (2 * n + 5)
    vt = np.sum(xt * (xt - 1) * (2 * xt + 5))
    vu = np.sum(yt * (yt - 1) * (2 * yt + 5))
    v1 = np.sum(xt * (xt - 1)) * np.sum(yt * (yt - 1))
    v2 = np.sum(xt * (xt - 1) * (xt - 2)) * np.sum(yt * (yt - 1) * (yt - 2))
    var_s = (v0 - vt - vu) / 18 + v1 / (2 * n * (n - 1)) + v2 / (9 * n * (n - 1) * (n - 2))
    z = s / math.sqrt(var_s)
    return tau, float(2 * ndtr(-abs(z))), False, z


def begg(effects, *, exact: bool = True, measure: str | None = None, drop00: bool = False,
         outcome: str | None = None, analysis: str | None = None) -> Begg:
    """Begg and Mazumdar's (1994) rank correlation test (metafor ``ranktest``).

    Notes
    -----
    With the common-effect estimate θ̂ = Σwᵢyᵢ/Σwᵢ (wᵢ = 1/vᵢ) and
    v* = vᵢ − 1/Σwᵢ, the standardised effects yᵢ* = (yᵢ − θ̂)/√vᵢ* are
    correlated with vᵢ by Kendall's τ. The p-value is exact (the permutation
    distribution of τ, as metafor asks ``cor.test`` for) unless there are ties,
    where the normal approximation with the tie-corrected variance is used.
    """
    effects = effect_sizes(effects, measure, drop00, outcome, analysis)
    need(effects, 3, "Begg's rank correlation test")
    yi, vi = effects.yi, effects.vi
    w = 1 / vi
    theta = float(np.dot(w, yi) / w.sum())
    ystar = (yi - theta) / np.sqrt(vi - 1 / w.sum())
    tau, p, used_exact, stat = kendall_test(ystar, vi, exact)
    notes = caveats(effects)
    if exact and not used_exact:
        notes.append("tied values: the p-value is the normal approximation, not exact (as R's cor.test)")
    for n in notes:
        warnings.warn(n, MetailWarning, stacklevel=2)
    return Begg(effects.measure.name, effects.k, tau, p, used_exact, stat, tuple(notes))
