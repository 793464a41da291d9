"""Effect-size formulas, one function per input group (metafor ``escalc``).

Each takes the group's values, the measure and the :class:`Options` and
returns ``(yi, vi, ni, note)``; adding an input group is one function plus one
entry in :data:`COMPUTE`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping

from ..sheets.check import group_problem
from .measures import Z975, Measure

@dataclass(frozen=True)
class Options:
    """Choices of the effect-size stage.

    Attributes
    ----------
    drop00 : bool
        Drop two-arm tables with no events (or only events) in both arms
        (RevMan) instead of keeping them with the 1/2 correction (metafor).
    smd : {"exact", "revman5"}
        Hedges' g with the exact correction and metafor's large-sample
        variance, or the variance R meta 6.5 gives under its RevMan 5
        settings (:func:`_continuous`).
    """

    drop00: bool = False
    smd: str = "exact"


class _Exclude(Exception):
    """Internal: the row cannot give an effect size; the message is the reason."""


class _Bad(Exception):
    """Internal: the row's data are wrong in this column."""

    def __init__(self, column: str | None, message: str):
        self.column, self.message = column, message


def _check(group: str, v: Mapping[str, float]) -> None:
    """Apply the sheet check's data rules of the group (defined once, in
    :func:`metail2.sheets.check.group_problem`)."""
    found = group_problem(group, v)
    if found is not None:
        raise _Bad(*found)


def _counts_2x2(v: Mapping[str, float], m: Measure, opts: Options):
    """OR, RR and RD from two-arm counts (metafor escalc, add=1/2, to="only0").

    Notes
    -----
    With a = exp_events, b = exp_total − a, c = ctrl_events, d = ctrl_total − c:
    OR: yi = log(ad/bc), vi = 1/a + 1/b + 1/c + 1/d;
    RR: yi = log((a/n1)/(c/n2)), vi = 1/a − 1/n1 + 1/c − 1/n2;
    RD: yi = a/n1 − c/n2, vi = p1(1−p1)/n1 + p2(1−p2)/n2.
    A table with a zero cell gets 1/2 added to each of its four cells; a
    double-zero table (no events in both arms, or only events in both) is kept
    unless ``opts.drop00`` (RevMan's choice). Viechtbauer (2010), metafor ``escalc``.
    """
    _check("two-arm counts", v)
    n1, n2 = v["exp_total"], v["ctrl_total"]
    a, c = v["exp_events"], v["ctrl_events"]
    b, d = n1 - a, n2 - c
    note = None
    if opts.drop00 and ((a == 0 and c == 0) or (b == 0 and d == 0)):
        raise _Exclude("double-zero table dropped (drop00: no information on a relative effect)")
    if min(a, b, c, d) == 0:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
        note = "zero cell: 1/2 added to each cell"
    yi, vi = two_arm(a, b, c, d, m.name)
    if m.name == "RD" and vi <= 0:
        raise _Exclude("risk difference variance is 0 (risks of 0 or 1 in both arms)")
    return float(yi), float(vi), a + b + c + d, note


def two_arm(a, b, c, d, measure: str):
    """``yi``, ``vi`` of OR, RR or RD from the four cells (after any
    correction); numbers or NumPy arrays alike — the one definition, used by
    :func:`escalc` row by row and by Mantel–Haenszel's Q on arrays.

    Notes
    -----
    n1 = a + b, n2 = c + d, p1 = a/n1, p2 = c/n2. OR: yi = logit p1 − logit p2,
    vi = 1/a + 1/b + 1/c + 1/d; RR: yi = log p1 − log p2, vi = 1/a − 1/n1 +
    1/c − 1/n2; RD: yi = p1 − p2, vi = p1(1−p1)/n1 + p2(1−p2)/n2 (metafor
    ``escalc``, ``vtype="LS"``).
    """
    import numpy as np

    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    if measure == "OR":
        return np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2)), 1 / a + 1 / b + 1 / c + 1 / d
    if measure == "RR":
        return np.log(p1) - np.log(p2), 1 / a - 1 / n1 + 1 / c - 1 / n2
    if measure == "RD":
        return p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    raise ValueError(f"two-arm counts give OR, RR or RD, not {measure!r}")


def _continuous(v: Mapping[str, float], m: Measure, opts: Options):
    """MD and SMD from means, SDs and group sizes (metafor escalc, vtype="LS").

    Notes
    -----
    MD: yi = m1 − m2, vi = sd1²/n1 + sd2²/n2.
    SMD (Hedges' g): sp² = ((n1−1)sd1² + (n2−1)sd2²)/(n1+n2−2),
    yi = c(m)·(m1−m2)/sp with the exact correction
    c(m) = Γ(m/2) / (√(m/2) Γ((m−1)/2)), m = n1+n2−2 (Hedges 1981), and
    metafor's large-sample variance vi = 1/n1 + 1/n2 + yi²/(2(n1+n2)).
    With ``opts.smd == "revman5"``: vi = N/(n1·n2) + g²·(1 − (m − 2)/(m·c(m)²)),
    N = n1 + n2 — what R meta 6.5 computes under ``settings.meta("RevMan5")``
    (checked against its output to 1e-6). RevMan 5's own documentation gives
    the approximate correction 1 − 3/(4N − 9) and vi = N/(n1·n2) + g²/(2(N − 3.94));
    meta 6.5's output differs from that by up to 0.2 % on the stroke data, and
    the reference cases follow meta.
    """
    _check("two-arm continuous", v)
    n1, n2 = v["exp_total"], v["ctrl_total"]
    sd1, sd2 = v["exp_sd"], v["ctrl_sd"]
    if m.name == "MD":
        vi = sd1 ** 2 / n1 + sd2 ** 2 / n2
        return v["exp_mean"] - v["ctrl_mean"], vi, n1 + n2, None
    df = n1 + n2 - 2
    if df <= 1:
        raise _Exclude("SMD needs exp_total + ctrl_total > 3 for the bias correction")
    sp = math.sqrt(((n1 - 1) * sd1 ** 2 + (n2 - 1) * sd2 ** 2) / df)
    if sp <= 0:
        raise _Bad("exp_sd", "pooled SD is 0: the standardised mean difference is undefined")
    n = n1 + n2
    cm = math.exp(math.lgamma(df / 2) - math.log(math.sqrt(df / 2)) - math.lgamma((df - 1) / 2))
    yi = cm * (v["exp_mean"] - v["ctrl_mean"]) / sp
    if opts.smd == "revman5":  # R meta 6.5, settings.meta("RevMan5"): see Notes
        return yi, n / (n1 * n2) + yi ** 2 * (1 - (df - 2) / (df * cm ** 2)), n, None
    return yi, 1 / n1 + 1 / n2 + yi ** 2 / (2 * n), n, None


def _single_arm(v: Mapping[str, float], m: Measure, opts: Options):
    """PR, PLO and PFT from events and total (metafor escalc).

    Notes
    -----
    PR: yi = x/n, vi = yi(1−yi)/n; PLO: yi = log(x/(n−x)), vi = 1/x + 1/(n−x);
    for PR and PLO, 1/2 is added to x and n−x when either is 0.
    PFT (Freeman & Tukey 1950): yi = ½[asin√(x/(n+1)) + asin√((x+1)/(n+1))],
    vi = 1/(4n+2), with no correction.
    """
    _check("single-arm counts", v)
    x, n = v["events"], v["total"]
    if m.name == "PFT":
        yi = 0.5 * (math.asin(math.sqrt(x / (n + 1))) + math.asin(math.sqrt((x + 1) / (n + 1))))
        return yi, 1 / (4 * n + 2), n, None
    note = None
    ni = n
    if x == 0 or x == n:
        x, n = x + 0.5, n + 1
        note = "zero cell: 1/2 added to events and non-events"
    p = x / n
    if m.name == "PR":
        return p, p * (1 - p) / n, ni, note
    return math.log(p / (1 - p)), 1 / x + 1 / (n - x), ni, note


def _o_minus_e(v: Mapping[str, float], m: Measure, opts: Options):
    """log HR from the log-rank O−E and its variance V: yi = (O−E)/V, vi = 1/V
    (Peto; Parmar, Torri & Stewart 1998)."""
    _check("O-E and V", v)
    return v["o_minus_e"] / v["variance"], 1 / v["variance"], None, None


def _to_scale(est: float, m: Measure, column: str) -> float:
    if m.ratio:
        if est <= 0:
            raise _Bad(column, f"a ratio ({m.name}) must be > 0 on the natural scale (is {est:g})")
        return math.log(est)
    return est


def _estimate_se(v, m, opts):
    """Generic inverse variance: yi = estimate (log for ratios), vi = se².
    The SE is on the analysis scale (of the log ratio for OR, RR, HR)."""
    _check("estimate and SE", v)
    return _to_scale(v["estimate"], m, "estimate"), v["se"] ** 2, None, None


def _estimate_ci(v, m, opts):
    """Generic inverse variance from a 95% CI: vi = ((U − L)/(2·1.959964))²,
    with L, U and the estimate on the log scale for ratios (Cochrane Handbook 6.3)."""
    _check("estimate and 95% CI", v)
    lo, hi, est = v["ci_lower"], v["ci_upper"], v["estimate"]
    yi = _to_scale(est, m, "estimate")
    lo_s, hi_s = _to_scale(lo, m, "ci_lower"), _to_scale(hi, m, "ci_upper")
    return yi, ((hi_s - lo_s) / (2 * Z975)) ** 2, None, None


def _estimate_p(v, m, opts):
    """Generic inverse variance from a two-sided p-value:
    z = Φ⁻¹(1 − p/2), se = |yi|/z (Altman & Bland 2011)."""
    from scipy.special import ndtri

    _check("estimate and p", v)
    p = v["p_value"]
    yi = _to_scale(v["estimate"], m, "estimate")
    if p == 1:
        raise _Exclude("p = 1 gives no standard error")
    if yi == 0:
        raise _Bad("estimate", f"estimate at the null value with p = {p:g} < 1 is inconsistent")
    z = float(ndtri(1 - p / 2))
    return yi, (abs(yi) / z) ** 2, None, None


COMPUTE: Mapping[str, Callable] = {
    "two-arm counts": _counts_2x2,
    "two-arm continuous": _continuous,
    "single-arm counts": _single_arm,
    "O-E and V": _o_minus_e,
    "estimate and SE": _estimate_se,
    "estimate and 95% CI": _estimate_ci,
    "estimate and p": _estimate_p,
}
