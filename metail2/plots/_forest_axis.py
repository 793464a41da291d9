"""The forest plot's axis, without a figure: limits, ticks and the marks
clipped to them.

Ratio axes (log scale) are symmetric around 1 and use RevMan's scales, ticks
included (0.5–2: 0.5 0.7 1 1.5 2; 0.2–5; 0.1–10; 0.05–20; 0.02–50;
0.01–100; 0.001–1000; then powers of ten). The scale is the smallest that
holds every pooled CI and every study's estimate but outliers; study CIs
widen it by one step when that clips none and more than a fifth of them
would be clipped otherwise; what lies beyond ends in an arrow.
Difference axes are symmetric around 0 with round limits; proportion axes
stay within [0, 1].
"""
from __future__ import annotations

import math
from dataclasses import replace

#: RevMan's symmetric ratio scales: (upper limit, ticks).
RATIO_SCALES = (
    (2.0, (0.5, 0.7, 1, 1.5, 2)),
    (5.0, (0.2, 0.5, 1, 2, 5)),
    (10.0, (0.1, 0.2, 0.5, 1, 2, 5, 10)),
    (20.0, (0.05, 0.2, 1, 5, 20)),
    (50.0, (0.02, 0.1, 1, 10, 50)),
    (100.0, (0.01, 0.1, 1, 10, 100)),
    (1000.0, (0.001, 0.1, 1, 10, 1000)),
)
#: Every tick a ratio axis may show.
LOG_TICKS = tuple(sorted({t for _, ticks in RATIO_SCALES for t in ticks}))
DIAMOND_HALF_HEIGHT = 0.32  # rows
HALF_WIDTHS = (1, 2, 4, 5, 10)  # a difference axis runs from −h to h, h one of these × 10^k
_EPS = 1e-9


def ratio_scale(extent: float) -> tuple[float, tuple[float, ...]]:
    """The smallest symmetric scale (upper limit S, ticks) with S ≥ ``extent`` (> 1)."""
    for upper, ticks in RATIO_SCALES:
        if extent <= upper * (1 + _EPS):
            return upper, ticks
    k = 3
    while 10.0 ** k < extent * (1 - _EPS):
        k += 1
    step = max(1, k // 2)
    return 10.0 ** k, tuple(10.0 ** e for e in range(-k, k + 1, step) if e % step == 0 or abs(e) == k)


def _next_scale(upper: float) -> float:
    for u, _ in RATIO_SCALES:
        if u > upper * (1 + _EPS):
            return u
    return upper * 10


def log_ticks(lo: float, hi: float) -> tuple[float, ...]:
    """Ticks of a ratio axis from ``lo`` to ``hi``: the ticks of RevMan's
    scale for the wider side that lie within the limits; for limits far from
    symmetric (``--xlim 2 50``), 1-2-5 steps (only 1s and 5s, then only 1s,
    when more than 7)."""
    upper, ticks = ratio_scale(max(hi, 1 / lo))
    inside = tuple(t for t in ticks if lo * (1 - _EPS) <= t <= hi * (1 + _EPS))
    decades = [10.0 ** e for e in range(math.ceil(math.log10(lo) - _EPS), math.floor(math.log10(hi) + _EPS) + 1)]
    if len(inside) < 4 and len(decades) >= 4:  # limits between scales (--xlim 0.002 500): the decades
        step = 1 + (len(decades) - 1) // 6
        keep = [t for t in decades if round(math.log10(t)) % step == 0]
        return tuple(keep)
    if len(inside) >= 3:
        return inside
    steps = [m * 10.0 ** e for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
             for m in (1, 2, 5)]
    inside = [t for t in steps if lo * (1 - _EPS) <= t <= hi * (1 + _EPS)]
    for keep in ("125", "15", "1"):
        picked = [t for t in inside if f"{t:e}"[0] in keep]
        if len(picked) <= 7:
            return tuple(picked)
    return tuple(inside)


def _nice(x: float, mults=(1, 2, 2.5, 5, 10)) -> float:
    """The smallest of ``mults`` × 10^k at least ``x`` (> 0)."""
    k = math.floor(math.log10(x))
    for m in mults:
        if m * 10.0 ** k >= x * (1 - _EPS):
            return m * 10.0 ** k
    return 10.0 ** (k + 1)


def linear_ticks(lo: float, hi: float, n: int = 5, mults=(1, 2, 2.5, 5, 10)) -> tuple[float, ...]:
    """Round ticks from ``lo`` to ``hi``: about ``n`` of them, steps of ``mults`` × 10^k."""
    step = _nice((hi - lo) / max(n - 1, 1), mults)
    first = math.ceil(lo / step - _EPS)
    out = []
    i = first
    while i * step <= hi + step * _EPS:
        out.append(round(i * step, 12) + 0.0)
        i += 1
    return tuple(out)


def _finite(xs):
    return [x for x in xs if x is not None and math.isfinite(x)]


def _core(marks, f, outliers: float, floor: float = 0.0):
    """Pooled CIs and study estimates (transformed by ``f``) that decide the
    scale, and the study CIs and prediction intervals that may widen it; a study
    estimate more than ``outliers`` times as far from the null as the pooled
    CIs (and the other estimates) reach, and farther than ``floor``, is an
    outlier and ends in an arrow. Prediction intervals never widen the axis (they end in arrows)."""
    pooled = [f(x) for m in marks if m.kind == "diamond" for x in _finite((m.lower, m.upper, m.estimate))]
    ests = sorted((f(m.estimate) for m in marks if m.kind == "study" and _finite([m.estimate])), key=abs)
    reach = max([abs(x) for x in pooled] + [0.0])
    core = list(pooled)
    for x in ests:
        if core and abs(x) > outliers * max(reach, 1e-300) and abs(x) > floor:
            break
        core.append(x)
        reach = max(reach, abs(x))
    wide = [f(x) for m in marks if m.kind == "study" for x in _finite((m.lower, m.upper))]
    return core, wide


def _widen(half: float, bigger: float, wide) -> bool:
    """Widen the axis from ``half`` to ``bigger`` (both on the transformed
    scale) when that clips no CI and more than a fifth of the CIs would be clipped at ``half``."""
    if not wide or max(abs(x) for x in wide) > bigger * (1 + _EPS):
        return False
    ends = [abs(x) for x in wide]
    clipped = sum(e > half * (1 + _EPS) for e in ends)
    return clipped * 5 > len(ends) / 2  # intervals have two ends each


def ratio_limits(marks) -> tuple[float, float]:
    """Symmetric ratio limits 1/S and S (see the module's doc)."""
    log = lambda v: math.log(v) if v > 0 else -math.inf  # noqa: E731
    core, wide = _core(marks, log, outliers=2.0, floor=math.log(10))
    reach = max([abs(x) for x in core if math.isfinite(x)] + [math.log(1.25)])
    upper, _ = ratio_scale(math.exp(reach))
    if _widen(math.log(upper), math.log(_next_scale(upper)), [x for x in wide if math.isfinite(x)]):
        upper = _next_scale(upper)
    return 1 / upper, upper


def difference_limits(marks, null: float = 0.0) -> tuple[float, float]:
    """Limits symmetric around ``null`` at a round distance (RevMan's −100…100 style)."""
    core, wide = _core(marks, lambda v: v - null, outliers=3.0)
    reach = max([abs(x) for x in core] + [1e-12])
    half = _nice(reach * 1.02, HALF_WIDTHS)
    bigger = _nice(half * 1.5, HALF_WIDTHS)
    if _widen(half, bigger, wide):
        half = bigger
    return null - half, null + half


def proportion_limits(marks) -> tuple[float, float]:
    """Limits within [0, 1] on tenths (twentieths below 0.1) around every estimate and CI."""
    xs = [x for m in marks for x in _finite((m.lower, m.upper, m.estimate))]
    lo, hi = max(0.0, min(xs)), min(1.0, max(xs))
    step = 0.1 if hi - lo > 0.2 else 0.05
    lo = max(0.0, math.floor(lo / step + _EPS) * step)
    hi = min(1.0, math.ceil(hi / step - _EPS) * step)
    return round(lo, 10), round(max(hi, lo + step), 10)


def resolve_marks(marks, xlim, max_square: float, min_square: float = 0.0):
    """Clip the marks to the axis: CI lines and arrows, square areas (the
    heaviest study's square has ``max_square`` pt², none is smaller than
    ``min_square``), diamond vertices."""
    lo_lim, hi_lim = xlim
    max_w = max([m.weight for m in marks if m.kind == "study" and m.weight] + [1e-12])
    out = []
    for m in marks:
        if m.kind == "study":
            inside = m.estimate is not None and lo_lim <= m.estimate <= hi_lim
            area = max(max_square * m.weight / max_w, min_square) if inside and m.weight else None
            m = replace(m, line=(min(max(m.lower, lo_lim), hi_lim), max(min(m.upper, hi_lim), lo_lim)),
                        arrows=(m.lower < lo_lim, m.upper > hi_lim), area=area)
        elif m.kind == "diamond":
            h = DIAMOND_HALF_HEIGHT
            lo, hi = max(m.lower, lo_lim), min(m.upper, hi_lim)
            e = min(max(m.estimate, lo_lim), hi_lim)
            m = replace(m, vertices=((lo, m.y), (e, m.y + h), (hi, m.y), (e, m.y - h)),
                        arrows=(m.lower < lo_lim, m.upper > hi_lim))
        elif m.kind == "pi":
            m = replace(m, line=(max(m.lower, lo_lim), min(m.upper, hi_lim)),
                        arrows=(m.lower < lo_lim, m.upper > hi_lim))
        out.append(m)
    return tuple(out)


def tick_label(t: float, minus: str = "−") -> str:
    """A tick's text: "0.001", "0.5", "1", "1000", "10⁴" beyond; one minus sign (U+2212), never "−0"."""
    if t == 0:
        return "0"
    if abs(t) >= 1e5 or abs(t) < 1e-4:
        e = round(math.log10(abs(t)))
        sup = str(e).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
        return ("−" if t < 0 else "") + "10" + sup
    s = f"{t:.10f}".rstrip("0").rstrip(".")
    return s.replace("-", minus)


__all__ = ["DIAMOND_HALF_HEIGHT", "LOG_TICKS", "RATIO_SCALES", "difference_limits", "linear_ticks", "log_ticks",
           "proportion_limits", "ratio_limits", "ratio_scale", "resolve_marks", "tick_label"]


#: Candidate ticks of a proportion axis drawn on the logit scale.
PROPORTION_TICKS = (0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999)


def natural_ticks(natural: str, lo: float, hi: float, most: int = 7):
    """Ticks of an axis drawn on the analysis scale from ``lo`` to ``hi`` and
    labelled on the natural scale, as (positions, labels); ``None`` when the
    two scales are the same. Ratios (``exp``): 1-2-5 steps, RevMan's scale
    (:func:`log_ticks`) when there would be more than ``most``, finer steps
    (1, 1.5, 2, 3, 5, 7) when fewer than three; logit
    proportions (``expit``): :data:`PROPORTION_TICKS`, every other one until
    at most ``most`` remain. Shared by the funnel, bubble and sensitivity plots."""
    if natural == "exp":
        a, b = math.exp(lo), math.exp(hi)
        steps = [m * 10.0 ** e for e in range(math.floor(math.log10(a)), math.ceil(math.log10(b)) + 1)
                 for m in (1, 2, 5)]
        ticks = tuple(t for t in steps if a <= t <= b)
        if len(ticks) > most:
            ticks = log_ticks(a, b)
        elif len(ticks) < 3:  # a narrow range: RevMan's finer steps (0.5 0.7 1 1.5 2)
            fine = [m * 10.0 ** e for e in range(math.floor(math.log10(a)), math.ceil(math.log10(b)) + 1)
                    for m in (1, 1.5, 2, 3, 5, 7)]
            ticks = tuple(t for t in fine if a <= t <= b) or ticks
        return [math.log(t) for t in ticks], [tick_label(t) for t in ticks]
    if natural == "expit":
        pairs = [(math.log(p / (1 - p)), p) for p in PROPORTION_TICKS if lo <= math.log(p / (1 - p)) <= hi]
        while len(pairs) > most:
            pairs = pairs[::2]
        return [t for t, _ in pairs], [tick_label(p) for _, p in pairs]
    return None
