"""Peto's one-step odds ratio (metafor 3.8 ``rma.peto``).

``peto(ai, n1i, ci, n2i)`` pools per-study observed-minus-expected events
and hypergeometric variances of two-arm counts and returns a
:class:`PetoFit` of plain values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import chdtrc

from .heterogeneity import i2_from_q
from .inference import LEVEL, critical_value, p_value
from .mh import check_counts, double_zero, escalc_2x2


@dataclass(frozen=True)
class PetoFit:
    """A Peto one-step common-effect fit (plain values; log OR scale).

    Attributes
    ----------
    level : float
    k : int
        Tables in the fit (metafor's ``k``).
    k_yi : int
        Tables with a defined ``escalc`` Peto log OR (the k of Q's df).
    estimate, se, ci_lower, ci_upper, stat, p : float
        Peto log OR, SE, CI, z and its two-sided p-value.
    q, q_df, q_p : float, int, float
        Peto's heterogeneity statistic on ``k_yi − 1`` df.
    i2, h2 : float
        I² = 100·max(0, (Q − df)/Q) (%) and H² = Q/df, as ``rma.peto``.
    o_minus_e, v : ndarray (n,)
        Per table O − E and V (hypergeometric), without any correction; NaN
        for dropped tables.
    yi, vi : ndarray (n,)
        Per table ``escalc(measure="PETO")`` values (1/2 added to the cells of
        a table with a zero cell; NaN for a double-zero table).
    weights : ndarray (n,)
        Vᵢ/ΣV in %.
    used : tuple of int
        0-based indices of the tables with V > 0 (the ones carrying information).
    excluded : tuple of (int, str)
        Tables left out or carrying no information, with the reason.
    notes : tuple of str
    """

    level: float
    k: int
    k_yi: int
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    stat: float
    p: float
    q: float
    q_df: int
    q_p: float
    i2: float
    h2: float
    o_minus_e: np.ndarray
    v: np.ndarray
    yi: np.ndarray
    vi: np.ndarray
    weights: np.ndarray
    used: tuple[int, ...]
    excluded: tuple[tuple[int, str], ...]
    notes: tuple[str, ...]


def peto(ai, n1i, ci, n2i, level: float = LEVEL, *, drop00: bool = False) -> PetoFit:
    """Peto's one-step pooled log odds ratio.

    Parameters
    ----------
    ai, n1i, ci, n2i : array_like (n,)
        Events and totals in the experimental and control arms.
    level : float
        Confidence level of the CI.
    drop00 : bool
        Leave double-zero tables out of the fit (metafor's ``drop00[2]``,
        default ``FALSE``); they have V = 0 and carry no information either way.
        Tables with an empty arm are always left out.

    Returns
    -------
    PetoFit

    Notes
    -----
    With xᵢ = aᵢ + cᵢ events, yᵢ = Nᵢ − xᵢ non-events and Nᵢ = n1ᵢ + n2ᵢ:
    Eᵢ = xᵢn1ᵢ/Nᵢ, Vᵢ = xᵢyᵢn1ᵢn2ᵢ/(Nᵢ²(Nᵢ − 1)) (hypergeometric mean and
    variance of aᵢ given the margins); log OR = Σ(aᵢ − Eᵢ)/ΣVᵢ, SE = 1/√ΣVᵢ
    (Yusuf, Peto et al. 1985). Heterogeneity: Q = Σ(aᵢ − Eᵢ)²/Vᵢ −
    (Σ(aᵢ − Eᵢ))²/ΣVᵢ over the tables with Vᵢ > 0, on k_yi − 1 df, p = 1
    when fewer than two tables have Vᵢ > 0 (metafor 3.8 ``rma.peto``, whose
    source this follows). No continuity correction enters the estimate.

    Examples
    --------
    >>> f = peto([4, 6], [123, 306], [11, 29], [139, 303])
    >>> round(f.estimate, 4)
    -1.2401
    """
    a0, n10, c0, n20 = check_counts(ai, n1i, ci, n2i)
    n_all = len(a0)
    yi, vi = escalc_2x2(a0, n10, c0, n20, "PETO")
    dz = double_zero(a0, n10, c0, n20)
    empty = (n10 == 0) | (n20 == 0)
    keep = ~empty & ~dz if drop00 else ~empty
    if not keep.any():
        raise ValueError("no table left: every table is double-zero or has an empty arm")
    a, n1, c, n2 = a0[keep], n10[keep], c0[keep], n20[keep]
    n = n1 + n2
    xt, yt = a + c, n - a - c
    with np.errstate(divide="ignore", invalid="ignore"):
        e = xt * n1 / n
        v = np.where(n > 1, xt * yt * (n1 / n) * (n2 / n) / (n - 1), 0.0)
    sv = float(v.sum())
    if not sv > 0:
        raise ValueError("one of the two outcomes never occurred in any table: Peto's method cannot be used")
    ome = a - e
    est = float(ome.sum()) / sv
    se = 1 / math.sqrt(sv)
    crit = critical_value(None, level)
    stat = est / se
    pos = v > 0
    k_yi = int((np.isfinite(yi) & keep).sum())
    q = max(0.0, float((ome[pos] ** 2 / v[pos]).sum() - ome[pos].sum() ** 2 / v[pos].sum()))
    q_df = max(k_yi - 1, 0)
    if pos.sum() > 1 and q_df > 0:
        q_p = float(chdtrc(q_df, q))
        i2 = i2_from_q(q, q_df)
        h2 = q / q_df
    else:
        q_p, i2, h2 = 1.0, 0.0, 1.0
    full_ome, full_v, weights = (np.full(n_all, np.nan) for _ in range(3))
    full_ome[keep], full_v[keep] = ome, v
    weights[keep] = v / sv * 100
    info = np.zeros(n_all, dtype=bool)
    info[np.flatnonzero(keep)] = pos
    excluded: list[tuple[int, str]] = []
    for i in range(n_all):
        if empty[i]:
            excluded.append((i, "an arm without participants: left out"))
        elif dz[i]:
            excluded.append((i, "double-zero table (no events, or only events, in both arms): "
                                + ("dropped (drop00)" if drop00 else "V = 0, contributes nothing")))
        elif not info[i]:
            excluded.append((i, "V = 0 (a single participant): contributes nothing"))
    notes = []
    if (keep & dz).any():
        notes.append(f"{int((keep & dz).sum())} double-zero table(s) contribute nothing and are left out of Q's df")
    return PetoFit(
        level=level, k=int(keep.sum()), k_yi=k_yi, estimate=est, se=se,
        ci_lower=est - crit * se, ci_upper=est + crit * se, stat=stat, p=float(p_value(stat, None)),
        q=q, q_df=q_df, q_p=q_p, i2=i2, h2=h2, o_minus_e=full_ome, v=full_v, yi=yi, vi=vi,
        weights=weights, used=tuple(int(i) for i in np.flatnonzero(info)), excluded=tuple(excluded),
        notes=tuple(notes),
    )
