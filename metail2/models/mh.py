"""Mantel–Haenszel pooling of two-arm counts (metafor 3.8 ``rma.mh``).

``mantel_haenszel(ai, n1i, ci, n2i, measure)`` takes per-study 2×2 counts
(events and totals in the experimental and control arms) and returns a
:class:`MHFit` of plain values: the common-effect MH estimate (log scale for
OR and RR), its variance, CI, z test, Cochran's Q around the MH estimate and,
for OR, the Cochran–Mantel–Haenszel test.

The MH estimate uses the counts as they are (no continuity correction,
metafor's ``add = c(1/2, 0)``, ``to = c("only0", "none")``); Q is computed from
the per-study ``escalc`` values, which have 1/2 added to every cell of a table
with a zero cell and are undefined for a double-zero table (``drop00 = TRUE``
for ``escalc``). :func:`escalc_2x2` gives those values; :mod:`.peto` shares
the count checks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import chdtrc

from ..effects.formulas import two_arm
from .heterogeneity import i2_from_q
from .inference import LEVEL, critical_value, p_value

MEASURES = ("OR", "RR", "RD")


@dataclass(frozen=True)
class MHFit:
    """A Mantel–Haenszel common-effect fit (plain values).

    Attributes
    ----------
    measure : {"OR", "RR", "RD"}
    level : float
    k : int
        Tables in the fit (metafor's ``k``): all tables given, less those
        dropped by ``drop00``.
    k_yi : int
        Tables with a defined ``escalc`` effect size, the k of Q (``k.yi``).
    estimate, se, ci_lower, ci_upper, stat, p : float
        MH estimate (log OR, log RR, or RD), SE, CI, z and its two-sided
        p-value; NaN when the estimate is undefined (no events, or no
        non-events, in one arm of every table).
    q, q_df, q_p : float, int, float
        Cochran's Q around the MH estimate, on ``k_yi − 1`` df.
    i2, h2 : float
        I² = 100·max(0, (Q − df)/Q) (%), H² = Q/df (metafor's ``rma.mh``).
    cmh, cmh_p : float or None
        Cochran–Mantel–Haenszel χ² (1 df) and p-value; OR only.
    yi, vi : ndarray (n,)
        ``escalc`` effect sizes of all n tables given (NaN where undefined).
    weights : ndarray (n,)
        MH weights in % of their sum (0 for tables that carry no
        information, NaN for dropped tables).
    used : tuple of int
        0-based indices of the tables in the fit that carry information.
    excluded : tuple of (int, str)
        0-based indices of the tables left out of the fit or carrying no
        information, each with the reason.
    notes : tuple of str
    """

    measure: str
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
    cmh: float | None
    cmh_p: float | None
    yi: np.ndarray
    vi: np.ndarray
    weights: np.ndarray
    used: tuple[int, ...]
    excluded: tuple[tuple[int, str], ...]
    notes: tuple[str, ...]


def check_counts(ai, n1i, ci, n2i) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Counts as float arrays of one length; ValueError if any is negative,
    non-finite, or events exceed totals, or no table is given."""
    a, n1, c, n2 = (np.asarray(x, dtype=float).ravel() for x in (ai, n1i, ci, n2i))
    if not (len(a) == len(n1) == len(c) == len(n2)):
        raise ValueError("ai, n1i, ci, n2i must have the same length")
    if len(a) == 0:
        raise ValueError("no tables given")
    allv = np.concatenate([a, n1, c, n2])
    if not np.all(np.isfinite(allv)) or np.any(allv < 0):
        raise ValueError("counts must be finite and non-negative")
    if np.any(a > n1) or np.any(c > n2):
        raise ValueError("events cannot exceed the arm's total")
    return a, n1, c, n2


def double_zero(a, n1, c, n2) -> np.ndarray:
    """Tables with no events in both arms, or only events in both arms."""
    return ((a == 0) & (c == 0)) | ((n1 - a == 0) & (n2 - c == 0))


def escalc_2x2(ai, n1i, ci, n2i, measure: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-study ``yi``, ``vi`` as metafor's ``escalc(add=1/2, to="only0",
    drop00=TRUE)``: NaN for double-zero tables (and tables with an empty arm).

    Notes
    -----
    A table with a zero cell has 1/2 added to each of its four cells; then
    OR, RR, RD as :func:`metail2.effects.formulas.two_arm` (the formulas
    ``escalc`` uses); PETO: yi = (a − E)/V, vi = 1/V with E, V the
    hypergeometric mean and variance of a.
    """
    a, n1, c, n2 = check_counts(ai, n1i, ci, n2i)
    b, d = n1 - a, n2 - c
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    h = np.where(zero, 0.5, 0.0)
    a, b, c, d = a + h, b + h, c + h, d + h
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure in ("OR", "RR", "RD"):
            yi, vi = two_arm(a, b, c, d, measure)  # the effect-size stage's own formulas
        elif measure == "PETO":
            n = n1 + n2
            xt = a + c
            e = xt * n1 / n
            v = xt * (b + d) * (n1 / n) * (n2 / n) / (n - 1)
            yi, vi = (a - e) / v, 1 / v
        else:
            raise ValueError(f"unknown measure {measure!r}")
    a0, n10, c0, n20 = check_counts(ai, n1i, ci, n2i)
    bad = double_zero(a0, n10, c0, n20) | (n10 == 0) | (n20 == 0) | ~np.isfinite(yi) | ~np.isfinite(vi)
    return np.where(bad, np.nan, yi), np.where(bad, np.nan, vi)


def heterogeneity(yi, vi, estimate: float) -> tuple[float, int, float, float, float]:
    """Q = Σ (yᵢ − θ̂)²/vᵢ over the defined yᵢ, df = k_yi − 1, its p, I², H²
    (metafor ``rma.mh`` / ``rma.peto`` conventions: Q = 0, p = 1, I² = 0,
    H² = 1 when k_yi ≤ 1)."""
    ok = np.isfinite(yi) & np.isfinite(vi)
    k = int(ok.sum())
    if k <= 1:
        return 0.0, max(k - 1, 0), 1.0, 0.0, 1.0
    q = max(0.0, float(np.sum((yi[ok] - estimate) ** 2 / vi[ok])))
    df = k - 1
    return q, df, float(chdtrc(df, q)), i2_from_q(q, df), q / df


def _mh_or(a, b, c, d, n1, n2, n):
    """Log MH OR, its Robins–Breslow–Greenland SE, the weights bc/N and
    which tables enter the sums (each kernel returns these four)."""
    P, Q = (a + d) / n, (b + c) / n
    R, S = a * d / n, b * c / n
    sr, ss = R.sum(), S.sum()
    if sr == 0 or ss == 0:
        return math.nan, math.nan, S, (R > 0) | (S > 0)
    var = 0.5 * ((P * R).sum() / sr**2 + (P * S + Q * R).sum() / (sr * ss) + (Q * S).sum() / ss**2)
    return math.log(sr / ss), math.sqrt(var), S, (R > 0) | (S > 0)


def _mh_rr(a, b, c, d, n1, n2, n):
    """Log MH RR, its Greenland–Robins SE, and the weights c·n1/N."""
    R, S = a * n2 / n, c * n1 / n
    sr, ss = R.sum(), S.sum()
    if a.sum() == 0 or c.sum() == 0:
        return math.nan, math.nan, S, (R > 0) | (S > 0)
    var = ((n1 / n) * (n2 / n) * (a + c) - (a / n) * c).sum() / (sr * ss)
    return math.log(sr / ss), math.sqrt(var), S, (R > 0) | (S > 0)


def _mh_rd(a, b, c, d, n1, n2, n):
    """MH RD, its Sato–Greenland–Robins SE (as metafor), and the weights n1·n2/N."""
    W = n1 * (n2 / n)
    sw = W.sum()
    if sw == 0:
        return math.nan, math.nan, W, W > 0
    rd = (a * (n2 / n) - c * (n1 / n)).sum() / sw
    num = rd * (c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2).sum() \
        + (a * (n2 - c) / n + c * (n1 - a) / n).sum() / 2
    return rd, math.sqrt(num / sw**2), W, W > 0


_KERNELS = {"OR": _mh_or, "RR": _mh_rr, "RD": _mh_rd}


def cmh_test(a, n1, c, n2, correct: bool = True) -> tuple[float, float]:
    """Cochran–Mantel–Haenszel χ² on 1 df (metafor's ``MH``; NaN if no events
    or no non-events at all).

    Notes
    -----
    With xᵢ = aᵢ + cᵢ events and yᵢ = Nᵢ − xᵢ non-events,
    CMH = (|Σ (aᵢ − n1ᵢxᵢ/Nᵢ)| − ½)² / Σ n1ᵢn2ᵢxᵢyᵢ/(Nᵢ²(Nᵢ − 1)),
    the ½ only with ``correct`` (Mantel & Haenszel 1959; metafor
    ``rma.mh(correct=TRUE)``). Tables with Nᵢ = 1 add 0 to both sums.
    """
    n = n1 + n2
    xt, yt = a + c, n - a - c
    if xt.sum() == 0 or yt.sum() == 0:
        return math.nan, math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        den = np.where(n > 1, (n1 / n) * (n2 / n) * xt * yt / (n - 1), 0.0).sum()
    num = (abs((a - n1 / n * xt).sum()) - (0.5 if correct else 0.0)) ** 2
    stat = num / den
    return float(stat), float(chdtrc(1, stat))


def mantel_haenszel(ai, n1i, ci, n2i, measure: str = "OR", level: float = LEVEL, *,
                    correct: bool = True, drop00: bool = False) -> MHFit:
    """Mantel–Haenszel common-effect estimate of OR, RR or RD.

    Parameters
    ----------
    ai, n1i, ci, n2i : array_like (n,)
        Events and totals in the experimental (``ai``, ``n1i``) and control
        (``ci``, ``n2i``) arms.
    measure : {"OR", "RR", "RD"}
    level : float
        Confidence level of the CI.
    correct : bool
        Continuity correction of the CMH test (metafor's default ``TRUE``).
    drop00 : bool
        Leave double-zero tables (no events, or only events, in both arms)
        out of the fit (metafor's ``drop00[2]``, default ``FALSE``). For OR
        and RR they carry no information either way; for RD they add weight
        (a risk difference of 0) unless dropped. Tables with an empty arm
        are always left out.

    Returns
    -------
    MHFit

    Notes
    -----
    With a, b, c, d the cells (b = n1 − a, d = n2 − c), N = n1 + n2:

    * OR (Mantel & Haenszel 1959): OR = ΣRᵢ/ΣSᵢ, Rᵢ = aᵢdᵢ/Nᵢ, Sᵢ = bᵢcᵢ/Nᵢ;
      Var(log OR) by Robins, Breslow & Greenland (1986),
      ½[ΣPᵢRᵢ/R² + Σ(PᵢSᵢ + QᵢRᵢ)/(RS) + ΣQᵢSᵢ/S²], Pᵢ = (aᵢ + dᵢ)/Nᵢ,
      Qᵢ = (bᵢ + cᵢ)/Nᵢ.
    * RR: RR = Σaᵢn2ᵢ/Nᵢ / Σcᵢn1ᵢ/Nᵢ; Var(log RR) by Greenland & Robins
      (1985), Σ(n1ᵢn2ᵢ(aᵢ + cᵢ)/Nᵢ² − aᵢcᵢ/Nᵢ) / (RS).
    * RD: RD = Σ(aᵢn2ᵢ − cᵢn1ᵢ)/Nᵢ / Σn1ᵢn2ᵢ/Nᵢ; variance of Sato,
      Greenland & Robins (1989), the estimator metafor uses (it reduces to
      Greenland & Robins 1985 under homogeneity).

    No continuity correction enters the estimate. z = θ̂/SE, CI θ̂ ± c·SE
    with c the normal quantile. Q = Σ(yᵢ − θ̂)²/vᵢ over the tables with a
    defined ``escalc`` effect size (:func:`escalc_2x2`), on k_yi − 1 df
    (metafor 3.8 ``rma.mh``, whose source these formulas follow); the CMH
    test is :func:`cmh_test`.

    Examples
    --------
    >>> f = mantel_haenszel([4, 6], [123, 306], [11, 29], [139, 303])
    >>> round(f.estimate, 4), f.k
    (-1.4215, 2)
    """
    if measure not in MEASURES:
        raise ValueError(f"Mantel–Haenszel is for {', '.join(MEASURES)}, not {measure!r}")
    a0, n10, c0, n20 = check_counts(ai, n1i, ci, n2i)
    n_all = len(a0)
    yi, vi = escalc_2x2(a0, n10, c0, n20, measure)
    dz = double_zero(a0, n10, c0, n20)
    empty = (n10 == 0) | (n20 == 0)
    keep = ~empty & ~dz if drop00 else ~empty
    if not keep.any():
        raise ValueError("no table left: every table is double-zero or has an empty arm")
    a, n1, c, n2 = a0[keep], n10[keep], c0[keep], n20[keep]
    b, d, n = n1 - a, n2 - c, n1 + n2
    notes: list[str] = []
    est, se, w, contrib = _KERNELS[measure](a, b, c, d, n1, n2, n)
    weights = np.full(n_all, np.nan)
    weights[keep] = w / w.sum() * 100 if w.sum() > 0 else np.nan
    if math.isnan(est):
        notes.append(f"the MH {measure} is undefined: "
                     + ("no events, or no non-events, in one arm of every table" if measure == "OR"
                        else "no events in one arm of every table"))
    crit = critical_value(None, level)
    stat = est / se if se > 0 else (math.copysign(math.inf, est) if est != 0 else math.nan)
    pval = p_value(stat, None) if not math.isnan(stat) else math.nan
    ok_yi = np.isfinite(yi) & keep
    yq, vq = np.where(ok_yi, yi, np.nan), np.where(ok_yi, vi, np.nan)
    if math.isnan(est):
        q, q_df, q_p, i2, h2 = math.nan, max(int(ok_yi.sum()) - 1, 0), math.nan, math.nan, math.nan
    else:
        q, q_df, q_p, i2, h2 = heterogeneity(yq, vq, est)
    cmh = cmh_p = None
    if measure == "OR":
        cmh, cmh_p = cmh_test(a, n1, c, n2, correct)
    excluded: list[tuple[int, str]] = []
    idx = np.flatnonzero(keep)
    info = np.zeros(n_all, dtype=bool)
    info[idx] = contrib
    for i in range(n_all):
        if empty[i]:
            excluded.append((i, "an arm without participants: left out"))
        elif dz[i] and drop00:
            excluded.append((i, "double-zero table (no events, or only events, in both arms): dropped (drop00)"))
        elif dz[i] and not info[i]:
            excluded.append((i, ("double-zero table (no events, or only events, in both arms): "
                                 "contributes nothing to the MH estimate")))
        elif not info[i]:
            excluded.append((i, ("table with no events, or no non-events, where the MH sums need them: "
                                 "contributes nothing to the MH estimate")))
    if dz.any() and not drop00 and measure == "RD":
        notes.append(f"{int(dz.sum())} double-zero table(s) kept in the MH risk difference (weight, RD 0)")
    if (~np.isfinite(yi) & keep).any():
        notes.append(f"{int((~np.isfinite(yi) & keep).sum())} table(s) without an escalc effect size "
                     "(double-zero) left out of Q")
    return MHFit(
        measure=measure, level=level, k=int(keep.sum()), k_yi=int(ok_yi.sum()),
        estimate=float(est), se=float(se), ci_lower=float(est - crit * se), ci_upper=float(est + crit * se),
        stat=float(stat), p=float(pval), q=float(q), q_df=int(q_df), q_p=float(q_p), i2=float(i2), h2=float(h2),
        cmh=cmh, cmh_p=cmh_p, yi=yi, vi=vi, weights=weights,
        used=tuple(int(i) for i in np.flatnonzero(info)), excluded=tuple(excluded), notes=tuple(notes),
    )
