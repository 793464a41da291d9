"""Inference on fitted coefficients: critical values, p-values, Wald tests.

Everything takes plain numbers or arrays; ``df=None`` means the normal
distribution (metafor's ``test="z"``), an integer the t (or F) distribution
(``test="knha"``, here ``hk``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import chdtrc, fdtrc, ndtr, ndtri, stdtr, stdtrit

#: The default confidence level.
LEVEL = 0.95


def critical_value(df: float | None, level: float = LEVEL) -> float:
    """Two-sided critical value: the normal (``df=None``) or t(df) quantile
    at 1 − (1 − level)/2."""
    a = (1 - level) / 2
    return float(-ndtri(a)) if df is None else float(stdtrit(df, 1 - a))


def p_value(stat, df: float | None):
    """Two-sided p-value of a z (``df=None``) or t(df) statistic; arrays allowed."""
    s = -np.abs(np.asarray(stat, dtype=float))
    out = 2 * ndtr(s) if df is None else 2 * stdtr(df, s)
    return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class WaldTest:
    """A Wald test of L β = 0: ``stat`` is χ² on ``df`` (``statistic="chisq"``),
    or F on (``df``, ``df2``) (``statistic="F"``)."""

    stat: float
    df: int
    p: float
    statistic: str = "chisq"
    df2: int | None = None


def wald_test(beta: np.ndarray, vcov: np.ndarray, L: np.ndarray, df2: int | None = None) -> WaldTest:
    """Wald test of L β = 0 (metafor's omnibus ``QM``).

    Notes
    -----
    QM = (Lβ̂)ᵀ(L V Lᵀ)⁻¹(Lβ̂) on m = rows of L df, χ²(m); with ``df2``
    (Knapp–Hartung, V already scaled by s²) F = QM/m on (m, df2).
    """
    lb = L @ beta
    qm = float(lb @ np.linalg.solve(L @ vcov @ L.T, lb))
    m = L.shape[0]
    if df2 is None:
        return WaldTest(qm, m, float(chdtrc(m, qm)))
    f = qm / m
    return WaldTest(f, m, float(fdtrc(m, df2, f)), "F", df2)
