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

#: Convergence threshold of the iterative estimators on τ² (metafor's
#: ``threshold``; metafor's default is 1e-5, the reference cases use 1e-10).
THRESHOLD = 1e-10
#: Maximum Fisher-scoring iterations (metafor's ``maxiter``).
MAXITER = 100
#: Upper end of root searches on τ² (metafor's ``tau2.max``).
TAU2_MAX = 100.0
#: Tolerance of the Q-profile root searches: metafor's ``uniroot`` tolerance
#: (``.Machine$double.eps^0.25``), with the same algorithm (:func:`zeroin`), so
#: values equal metafor's to machine precision; as metafor's, they are
#: accurate to about 1e-4 on the τ² scale.
CI_TOL = float(np.finfo(float).eps ** 0.25)


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

def tau2_dl(y, v, X) -> Tau2Fit:
    """DerSimonian & Laird (1986): τ² = max(0, (Q − (k−p)) / tr P), P at w = 1/vᵢ."""
    k, p = X.shape
    f = wls(y, X, 1.0 / v)
    return Tau2Fit(max(0.0, (f.rss - (k - p)) / _trace_p(f, X)))


def tau2_he(y, v, X) -> Tau2Fit:
    """Hedges (1983), Hedges & Olkin: τ² = max(0, (RSS_OLS − tr((I−H)V)) / (k−p))."""
    k, p = X.shape
    f = wls(y, X, np.ones_like(v))
    tr_pv = float(v.sum() - np.trace(f.a_inv @ ((X.T * v) @ X)))
    return Tau2Fit(max(0.0, (f.rss - tr_pv) / (k - p)))


def tau2_hs(y, v, X) -> Tau2Fit:
    """Hunter & Schmidt (2004): τ² = max(0, (Q − k) / Σwᵢ), wᵢ = 1/vᵢ."""
    k = X.shape[0]
    f = wls(y, X, 1.0 / v)
    return Tau2Fit(max(0.0, (f.rss - k) / float(f.w.sum())))


def tau2_sj(y, v, X) -> Tau2Fit:
    """Sidik & Jonkman (2005): τ₀² = Σ(yᵢ − ȳ)²/k, then
    τ² = τ₀² · Σ wᵢ eᵢ² / (k−p) with wᵢ = 1/(vᵢ + τ₀²)."""
    k, p = X.shape
    tau0 = float(np.mean((y - y.mean()) ** 2))
    if tau0 == 0:
        return Tau2Fit(0.0)
    f = wls(y, X, 1.0 / (v + tau0))
    return Tau2Fit(tau0 * f.rss / (k - p))


# --------------------------------------------------------------------------- iterative

def _fisher_scoring(y, v, X, step: Callable[[WLS], float]) -> Tau2Fit:
    """metafor's iteration: start at max(0, HE), add the step, halving it while
    it would make τ² negative, until |Δτ²| < THRESHOLD.

    Notes
    -----
    The iteration converges linearly; once the step is small (< 1e-3) and
    interior, a secant step on the step function Δ(τ²) (whose zero is the
    same stationary point of the likelihood) replaces it when it lands
    nearby. This reaches the same fixed point in a handful of iterations
    instead of dozens; the stopping rule is metafor's.
    """
    tau2 = tau2_he(y, v, X).tau2
    prev = None
    for it in range(1, MAXITER + 1):
        adj = step(wls(y, X, 1.0 / (v + tau2)))
        if not math.isfinite(adj):
            adj = 0.0
        new = tau2 + adj
        if prev is not None and 0 < abs(adj) < 1e-3 and new > 0 and adj != prev[1]:
            secant = tau2 - adj * (tau2 - prev[0]) / (adj - prev[1])
            if secant > 0 and abs(secant - new) < abs(adj):
                new = secant
        prev = (tau2, adj)
        step_taken = new - tau2
        while tau2 + step_taken < 0:
            step_taken /= 2
        old, tau2 = tau2, tau2 + step_taken
        if abs(old - tau2) < THRESHOLD:
            return Tau2Fit(max(0.0, tau2), True, it)
    return Tau2Fit(max(0.0, tau2), False, MAXITER)


def _maximise(y, v, X, reml: bool) -> float:
    from scipy.optimize import minimize_scalar

    hi = tau2_max(y)
    res = minimize_scalar(lambda t: -loglik(t, y, v, X, reml), bounds=(0.0, hi),
                          method="bounded", options={"xatol": 1e-12})
    return float(res.x) if loglik(res.x, y, v, X, reml) >= loglik(0.0, y, v, X, reml) else 0.0


def _likelihood(y, v, X, reml: bool) -> Tau2Fit:
    name = "REML" if reml else "ML"
    k, p = X.shape
    if reml:
        fit = _fisher_scoring(y, v, X, lambda f: (float(((f.w * f.resid) ** 2).sum()) - _trace_p(f, X)) / _trace_pp(f, X))
    else:
        fit = _fisher_scoring(y, v, X, lambda f: (float(((f.w * f.resid) ** 2).sum()) - float(f.w.sum())) / float((f.w ** 2).sum()))
    if not fit.converged:
        tau2 = _maximise(y, v, X, reml)
        return Tau2Fit(tau2, False, fit.iterations,
                       f"{name} Fisher scoring did not converge in {MAXITER} iterations; "
                       f"τ² = {tau2:.6g} from direct maximisation of the {'restricted ' if reml else ''}likelihood")
    # metafor's ll0check: a local maximum below the likelihood at τ² = 0
    if fit.tau2 > THRESHOLD and loglik(0.0, y, v, X, reml) - loglik(fit.tau2, y, v, X, reml) > np.finfo(float).eps ** 0.25:
        return Tau2Fit(0.0, True, fit.iterations,
                       f"{name} Fisher scoring stopped at a local maximum below the likelihood at τ² = 0; τ² set to 0")
    return fit


def tau2_reml(y, v, X) -> Tau2Fit:
    """Restricted maximum likelihood (Viechtbauer 2005), Fisher scoring:
    Δτ² = (yᵀPPy − tr P) / tr PP."""
    return _likelihood(y, v, X, reml=True)


def tau2_ml(y, v, X) -> Tau2Fit:
    """Maximum likelihood (Hardy & Thompson 1996), Fisher scoring:
    Δτ² = (yᵀPPy − Σwᵢ) / Σwᵢ²."""
    return _likelihood(y, v, X, reml=False)


def tau2_eb(y, v, X) -> Tau2Fit:
    """Empirical Bayes (Morris 1983; Berkey et al. 1995), iterating
    Δτ² = (k/(k−p) · yᵀPy − k) / Σwᵢ."""
    k, p = X.shape
    fit = _fisher_scoring(y, v, X, lambda f: (f.rss * k / (k - p) - k) / float(f.w.sum()))
    if fit.converged:
        return fit
    tau2, _ = _root(lambda t: q_at(t, y, v, X) * k / (k - p) - k, y, THRESHOLD)
    return Tau2Fit(tau2, False, fit.iterations,
                   f"EB iteration did not converge in {MAXITER} iterations; τ² = {tau2:.6g} from root finding")


def tau2_max(y: np.ndarray) -> float:
    """metafor's search limit for τ²: max(100, 10·MAD(y)²), MAD as R's ``mad``
    (1.4826 × the median absolute deviation from the median)."""
    mad = 1.482602218505602 * float(np.median(np.abs(y - np.median(y))))
    return max(TAU2_MAX, 10 * mad ** 2)


def _root(g: Callable[[float], float], y, tol: float) -> tuple[float, str | None]:
    """Root of a decreasing g on [0, ∞): 0 if g(0) < 0, else Brent's method on
    [0, τ²_max] (metafor's bracket and ``uniroot``). Where metafor stops with
    "tau2.max too low", the bracket is grown by factors of 10 instead, and a
    note says so."""
    if g(0.0) < 0:
        return 0.0, None
    hi = tau2_max(y)
    note = None
    while g(hi) > 0:
        hi *= 10
        note = f"the root lay beyond metafor's search limit; the bracket was widened to [0, {hi:g}]"
        if hi > 1e15:
            raise ArithmeticError("no root of the estimating equation below 1e15")
    return zeroin(g, 0.0, hi, tol), note


def tau2_pm(y, v, X) -> Tau2Fit:
    """Paule & Mandel (1982): the τ² where the generalised Q(τ²) equals k − p
    (0 if Q(0) < k − p), by Brent's method on [0, τ²_max].

    Notes
    -----
    As metafor 3.8 (``uniroot`` with ``tol = .Machine$double.eps^0.25``) so
    that estimates agree with metafor's to machine precision; the root is then
    accurate to about 1e-4 on the τ² scale (CI_TOL).
    """
    k, p = X.shape
    tau2, note = _root(lambda t: q_at(t, y, v, X) - (k - p), y, CI_TOL)
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
    tau2_max: float = TAU2_MAX

    @property
    def empty(self) -> bool:
        return self.upper_sign == "<"


def tau2_qprofile(y, v, X, tau2: float, level: float = 0.95) -> Tau2CI:
    """Q-profile CI for τ², as metafor 3.8's ``confint.rma.uni``.

    Notes
    -----
    The bounds solve Q(τ²) = χ²_{k−p, 1−α/2} (lower) and Q(τ²) = χ²_{k−p, α/2}
    (upper), Q(τ²) = Σ (yᵢ − ŷᵢ)²/(vᵢ + τ²) decreasing in τ² (Viechtbauer 2007).
    The search runs on [0, τ²_max] with τ²_max = max(100, 10·τ̂²) as in metafor;
    a bound beyond it is reported as τ²_max with sign ``">"``.
    """
    from scipy.special import chdtri

    k, p = X.shape
    df = k - p
    alpha = 1 - level
    crit_u = float(chdtri(df, alpha / 2))       # upper critical value
    crit_l = float(chdtri(df, 1 - alpha / 2))   # lower critical value
    tmax = max(TAU2_MAX, 10 * tau2)
    q0, qmax = q_at(0.0, y, v, X), q_at(tmax, y, v, X)

    def root(target):
        return zeroin(lambda t: q_at(t, y, v, X) - target, 0.0, tmax, CI_TOL)

    if q0 < crit_l:
        return Tau2CI(0.0, 0.0, "<", "<", tmax)
    if qmax > crit_u:
        return Tau2CI(tmax, tmax, ">", ">", tmax)
    lower = 0.0 if q0 < crit_u else root(crit_u)
    if qmax > crit_l:
        return Tau2CI(lower, tmax, "", ">", tmax)
    return Tau2CI(lower, root(crit_l), "", "", tmax)
