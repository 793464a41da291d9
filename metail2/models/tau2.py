"""τ² estimators for the random-effects model, one small function each.

Every estimator takes ``yi`` (k,), ``vi`` (k,) and the design matrix ``X``
(k × p; a column of ones for an intercept-only model) and returns a
:class:`Tau2Fit`. They follow metafor 3.8's ``rma.uni`` (Viechtbauer 2005,
2010; Veroniki et al. 2016 for the formulas), written with weighted least
squares quantities instead of k × k matrices:

with W = diag(w), A = XᵀWX, β = A⁻¹XᵀWy, e = y − Xβ and
P = W − WXA⁻¹XᵀW,  yᵀPy = Σ w e²,  yᵀPPy = Σ (w e)²,
tr P = Σw − tr(A⁻¹XᵀW²X),
tr PP = Σw² − 2 tr(A⁻¹XᵀW³X) + tr((A⁻¹XᵀW²X)²).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from ._linalg import WLS, _trace_p, _trace_pp, loglik, q_at, wls  # noqa: F401  (re-exported)
from ._roots import zeroin
from .numerics import EXACT, Numerics

#: Maximum Fisher-scoring iterations (metafor's ``maxiter``).
MAXITER = 100


@dataclass(frozen=True)
class Tau2Fit:
    """An estimate of τ² and how it was reached.

    ``note`` says when a fallback or a boundary rule was used (it becomes a
    warning on the result).
    """

    tau2: float
    converged: bool = True
    iterations: int = 0
    note: str | None = None


# --------------------------------------------------------------------------- non-iterative

def tau2_dl(y, v, X, numerics: Numerics = EXACT) -> Tau2Fit:
    """DerSimonian & Laird (1986): τ² = max(0, (Q − (k−p)) / tr P), P at w = 1/vᵢ."""
    k, p = X.shape
    f = wls(y, X, 1.0 / v)
    return Tau2Fit(max(0.0, (f.rss - (k - p)) / _trace_p(f, X)))


def tau2_he(y, v, X, numerics: Numerics = EXACT) -> Tau2Fit:
    """Hedges (1983), Hedges & Olkin: τ² = max(0, (RSS_OLS − tr((I−H)V)) / (k−p))."""
    k, p = X.shape
    f = wls(y, X, np.ones_like(v))
    tr_pv = float(v.sum() - np.trace(f.a_inv @ ((X.T * v) @ X)))
    return Tau2Fit(max(0.0, (f.rss - tr_pv) / (k - p)))


def tau2_hs(y, v, X, numerics: Numerics = EXACT) -> Tau2Fit:
    """Hunter & Schmidt (2004): τ² = max(0, (Q − k) / Σwᵢ), wᵢ = 1/vᵢ."""
    k = X.shape[0]
    f = wls(y, X, 1.0 / v)
    return Tau2Fit(max(0.0, (f.rss - k) / float(f.w.sum())))


def tau2_sj(y, v, X, numerics: Numerics = EXACT) -> Tau2Fit:
    """Sidik & Jonkman (2005): τ₀² = Σ(yᵢ − ȳ)²/k, then
    τ² = τ₀² · Σ wᵢ eᵢ² / (k−p) with wᵢ = 1/(vᵢ + τ₀²)."""
    k, p = X.shape
    tau0 = float(np.mean((y - y.mean()) ** 2))
    if tau0 == 0:
        return Tau2Fit(0.0)
    f = wls(y, X, 1.0 / (v + tau0))
    return Tau2Fit(tau0 * f.rss / (k - p))


# --------------------------------------------------------------------------- iterative

def _fisher_scoring(y, v, X, step: Callable[[WLS], float], numerics: Numerics) -> Tau2Fit:
    """metafor's iteration: start at max(0, HE), add the step, halving it while
    it would make τ² negative, until |Δτ²| < threshold (× ṽ under the exact
    numerics).

    Notes
    -----
    The iteration converges linearly; once the step is small (< 1e-3) and
    interior, a secant step on the step function Δ(τ²) (whose zero is the
    same stationary point of the likelihood) replaces it when it lands
    nearby. This reaches the same fixed point in a handful of iterations
    instead of dozens; the stopping rule is metafor's.
    """
    scale = numerics.scale(v)
    threshold = numerics.threshold * scale
    tau2 = tau2_he(y, v, X).tau2
    prev = None
    for it in range(1, MAXITER + 1):
        adj = step(wls(y, X, 1.0 / (v + tau2)))
        if not math.isfinite(adj):
            adj = 0.0
        new = tau2 + adj
        if prev is not None and 0 < abs(adj) < 1e-3 * scale and new > 0 and adj != prev[1]:
            secant = tau2 - adj * (tau2 - prev[0]) / (adj - prev[1])
            if secant > 0 and abs(secant - new) < abs(adj):
                new = secant
        prev = (tau2, adj)
        step_taken = new - tau2
        if tau2 + step_taken < 0 and numerics.relative:
            # exact numerics: if the score at 0 points below 0, the maximum is at
            # the boundary, τ² = 0 exactly (metafor halves the step towards 0 and
            # stops within its threshold of it)
            at0 = step(wls(y, X, 1.0 / v))
            if not at0 > 0:
                return Tau2Fit(0.0, True, it)
        while tau2 + step_taken < 0:
            step_taken /= 2
        old, tau2 = tau2, tau2 + step_taken
        if abs(old - tau2) < threshold:
            return Tau2Fit(max(0.0, tau2), True, it)
    return Tau2Fit(max(0.0, tau2), False, MAXITER)


def _score(t: float, y, v, X, reml: bool) -> float:
    """Twice the derivative of the (restricted) log-likelihood in τ²:
    yᵀPPy − tr P (REML) or Σwᵢ²eᵢ² − Σwᵢ (ML) (Viechtbauer 2005)."""
    f = wls(y, X, 1.0 / (v + t))
    we2 = float(((f.w * f.resid) ** 2).sum())
    return we2 - (_trace_p(f, X) if reml else float(f.w.sum()))


def _maximise(y, v, X, reml: bool, numerics: Numerics) -> float:
    """Where Fisher scoring fails: the maximum over [0, τ²_max] by bounded
    Brent, then the score's root bracketing it refined by :func:`zeroin`
    (a function-value search locates a maximum only to √ε relative; the
    score's root is found to the convention's tolerance)."""
    from scipy.optimize import minimize_scalar

    scale = numerics.scale(v)
    hi = tau2_max(y, v, numerics)
    res = minimize_scalar(lambda t: -loglik(t, y, v, X, reml), bounds=(0.0, hi),
                          method="bounded", options={"xatol": 1e-12 * scale})
    t0 = float(res.x)
    if loglik(t0, y, v, X, reml) < loglik(0.0, y, v, X, reml):
        return 0.0
    lo_t, hi_t, d = t0, t0, 1e-6 * max(t0, scale)
    for _ in range(60):  # widen a bracket around t0 until the score changes sign
        lo_t, hi_t = max(0.0, t0 - d), t0 + d
        g_lo, g_hi = _score(lo_t, y, v, X, reml), _score(hi_t, y, v, X, reml)
        if g_lo > 0 > g_hi:
            return zeroin(lambda t: _score(t, y, v, X, reml), lo_t, hi_t, numerics.root_tol * scale)
        if lo_t == 0.0 and g_lo <= 0:
            return 0.0 if loglik(0.0, y, v, X, reml) >= loglik(t0, y, v, X, reml) else t0
        d *= 4
    return t0


def _likelihood(y, v, X, reml: bool, numerics: Numerics) -> Tau2Fit:
    name = "REML" if reml else "ML"
    k, p = X.shape
    if reml:
        fit = _fisher_scoring(y, v, X, lambda f: (float(((f.w * f.resid) ** 2).sum()) - _trace_p(f, X)) / _trace_pp(f, X),
                              numerics)
    else:
        fit = _fisher_scoring(y, v, X, lambda f: (float(((f.w * f.resid) ** 2).sum()) - float(f.w.sum())) / float((f.w ** 2).sum()),
                              numerics)
    if not fit.converged:
        tau2 = _maximise(y, v, X, reml, numerics)
        return Tau2Fit(tau2, False, fit.iterations,
                       f"{name} Fisher scoring did not converge in {MAXITER} iterations; "
                       f"τ² = {tau2:.6g} from direct maximisation of the {'restricted ' if reml else ''}likelihood")
    # metafor's ll0check: a local maximum below the likelihood at τ² = 0
    if fit.tau2 > numerics.threshold * numerics.scale(v) and loglik(0.0, y, v, X, reml) - loglik(fit.tau2, y, v, X, reml) > np.finfo(float).eps ** 0.25:
        return Tau2Fit(0.0, True, fit.iterations,
                       f"{name} Fisher scoring stopped at a local maximum below the likelihood at τ² = 0; τ² set to 0")
    return fit


def tau2_reml(y, v, X, numerics: Numerics = EXACT) -> Tau2Fit:
    """Restricted maximum likelihood (Viechtbauer 2005), Fisher scoring:
    Δτ² = (yᵀPPy − tr P) / tr PP."""
    return _likelihood(y, v, X, True, numerics)


def tau2_ml(y, v, X, numerics: Numerics = EXACT) -> Tau2Fit:
    """Maximum likelihood (Hardy & Thompson 1996), Fisher scoring:
    Δτ² = (yᵀPPy − Σwᵢ) / Σwᵢ²."""
    return _likelihood(y, v, X, False, numerics)


def tau2_eb(y, v, X, numerics: Numerics = EXACT) -> Tau2Fit:
    """Empirical Bayes (Morris 1983; Berkey et al. 1995), iterating
    Δτ² = (k/(k−p) · yᵀPy − k) / Σwᵢ."""
    k, p = X.shape
    fit = _fisher_scoring(y, v, X, lambda f: (f.rss * k / (k - p) - k) / float(f.w.sum()), numerics)
    if fit.converged:
        return fit
    tau2, _ = _root(lambda t: q_at(t, y, v, X) * k / (k - p) - k, y, v, numerics,
                    numerics.threshold * numerics.scale(v))
    return Tau2Fit(tau2, False, fit.iterations,
                   f"EB iteration did not converge in {MAXITER} iterations; τ² = {tau2:.6g} from root finding")


def tau2_max(y: np.ndarray, v: np.ndarray | None = None, numerics: Numerics = EXACT) -> float:
    """The search limit for τ²: metafor's max(100, 10·MAD(y)²), MAD as R's
    ``mad`` (1.4826 × the median absolute deviation from the median); under the
    exact numerics the 100 is 100·ṽ, so the limit scales with the data."""
    mad = 1.482602218505602 * float(np.median(np.abs(y - np.median(y))))
    floor = numerics.tau2_max * (numerics.scale(v) if v is not None else 1.0)
    return max(floor, 10 * mad ** 2)


def _root(g: Callable[[float], float], y, v, numerics: Numerics, tol: float) -> tuple[float, str | None]:
    """Root of a decreasing g on [0, ∞): 0 if g(0) < 0, else Brent's method on
    [0, τ²_max] (metafor's bracket and ``uniroot``). Where metafor stops with
    "tau2.max too low", the bracket is grown by factors of 10 instead (with a
    note under the metafor convention, where it departs from metafor)."""
    if g(0.0) < 0:
        return 0.0, None
    hi = tau2_max(y, v, numerics)
    note = None
    limit = 1e15 * max(1.0, numerics.scale(v))
    while g(hi) > 0:
        hi *= 10
        if not numerics.relative:
            note = f"the root lay beyond metafor's search limit; the bracket was widened to [0, {hi:g}]"
        if hi > limit:
            raise ArithmeticError(f"no root of the estimating equation below {limit:g}")
    return zeroin(g, 0.0, hi, tol), note


def tau2_pm(y, v, X, numerics: Numerics = EXACT) -> Tau2Fit:
    """Paule & Mandel (1982): the τ² where the generalised Q(τ²) equals k − p
    (0 if Q(0) < k − p), by Brent's method on [0, τ²_max].

    Notes
    -----
    Under the metafor convention as metafor 3.8 (``uniroot`` with
    ``tol = .Machine$double.eps^0.25``), so estimates agree with metafor's to
    machine precision and, like metafor's, are accurate to about 1e-4 on the
    τ² scale; under the exact numerics to 1e-12·ṽ
    (:mod:`metail2.models.numerics`).
    """
    k, p = X.shape
    tau2, note = _root(lambda t: q_at(t, y, v, X) - (k - p), y, v, numerics, numerics.root_tol * numerics.scale(v))
    return Tau2Fit(tau2, note=note)


#: The τ² estimators, by metafor's method name.
TAU2_ESTIMATORS: Mapping[str, Callable[..., Tau2Fit]] = {
    "DL": tau2_dl,
    "REML": tau2_reml,
    "ML": tau2_ml,
    "PM": tau2_pm,
    "HS": tau2_hs,
    "SJ": tau2_sj,
    "EB": tau2_eb,
    "HE": tau2_he,
}


# --------------------------------------------------------------------------- Q-profile CI

@dataclass(frozen=True)
class Tau2CI:
    """Q-profile confidence interval for τ² (Viechtbauer 2007).

    ``lower_sign``/``upper_sign`` are ``""`` for a bound found by root finding,
    ``"<"`` when the interval is empty (Q(0) below the lower critical value, both
    bounds set to 0: metafor's "null set") and ``">"`` when the bound lies beyond
    the search limit ``tau2_max`` and is reported as that limit.
    """

    lower: float
    upper: float
    lower_sign: str = ""
    upper_sign: str = ""
    tau2_max: float = 100.0

    @property
    def empty(self) -> bool:
        return self.upper_sign == "<"


def tau2_qprofile(y, v, X, tau2: float, level: float = 0.95, numerics: Numerics = EXACT) -> Tau2CI:
    """Q-profile CI for τ², as metafor 3.8's ``confint.rma.uni``.

    Notes
    -----
    The bounds solve Q(τ²) = χ²_{k−p, 1−α/2} (lower) and Q(τ²) = χ²_{k−p, α/2}
    (upper), Q(τ²) = Σ (yᵢ − ŷᵢ)²/(vᵢ + τ²) decreasing in τ² (Viechtbauer 2007).
    Under the metafor convention the search runs on [0, τ²_max] with
    τ²_max = max(100, 10·τ̂²) as in metafor, to metafor's ``uniroot``
    tolerance, and a bound beyond it is reported as τ²_max with sign ``">"``.
    Under the exact numerics the bracket starts at max(100·ṽ, 10·τ̂²) and is
    widened until it holds the root (Q(τ²) → 0 as τ² → ∞, so it always does),
    and roots are solved to 1e-12·ṽ.
    """
    from scipy.special import chdtri

    k, p = X.shape
    df = k - p
    alpha = 1 - level
    crit_u = float(chdtri(df, alpha / 2))       # upper critical value
    crit_l = float(chdtri(df, 1 - alpha / 2))   # lower critical value
    scale = numerics.scale(v)
    tol = numerics.root_tol * scale
    tmax = max(numerics.tau2_max * scale, 10 * tau2)
    q0, qmax = q_at(0.0, y, v, X), q_at(tmax, y, v, X)
    if not numerics.truncate_ci:
        while qmax > crit_l and tmax < 1e300:
            tmax *= 10
            qmax = q_at(tmax, y, v, X)

    def root(target):
        return zeroin(lambda t: q_at(t, y, v, X) - target, 0.0, tmax, tol)

    if q0 < crit_l:
        return Tau2CI(0.0, 0.0, "<", "<", tmax)
    if qmax > crit_u:
        return Tau2CI(tmax, tmax, ">", ">", tmax)
    lower = 0.0 if q0 < crit_u else root(crit_u)
    if qmax > crit_l:
        return Tau2CI(lower, tmax, "", ">", tmax)
    return Tau2CI(lower, root(crit_l), "", "", tmax)
