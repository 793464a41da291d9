"""The inverse-variance kernel: one (mixed-effects) model on arrays.

``fit(y, v, X, method, test, level)`` is the model every analysis uses:
pooling (X = a column of ones), subgroups with a common τ² (X = subgroup
indicators), meta-regression, refits. It takes plain arrays and returns
plain values (:class:`IVFit`); wrappers turn those into result objects.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import chdtrc

from ._linalg import _trace_p, wls
from .heterogeneity import i2_from_q, i2_h2_from_tau2
from .inference import LEVEL, WaldTest, critical_value, p_value, wald_test
from .numerics import EXACT, Numerics
from .tau2 import TAU2_ESTIMATORS, Tau2CI, tau2_qprofile

#: Methods of the kernel: ``FE`` (common effect) and the τ² estimators.
METHODS = ("FE",) + tuple(TAU2_ESTIMATORS)
TESTS = ("z", "hk")


@dataclass(frozen=True)
class IVFit:
    """A fitted inverse-variance model (plain values; arrays over coefficients).

    Attributes
    ----------
    k, p : int
        Studies and coefficients.
    method : str
        ``FE`` or the τ² estimator used (``FE`` also for a k = 1 fit).
    test : {"z", "hk"}
        The test used (``z`` for k = 1 whatever was asked).
    level : float
    beta, se, stat, pval, ci_lower, ci_upper : ndarray (p,)
    vcov : ndarray (p, p)
        Scaled by s² under ``hk``.
    df : int or None
        k − p for the t tests under ``hk``; ``None`` for z.
    tau2 : float
        (Residual) τ²; 0 for ``FE``.
    tau2_ci : Tau2CI or None
        Q-profile CI (random-effects fits, when asked).
    q, q_df, q_p : float, int, float
        Cochran's Q (QE, residual heterogeneity), k − p, p-value.
    i2, i2_q, h2 : float
        I² (metafor's, from τ² and the typical within-study variance), I² from Q
        (RevMan, meta), H².
    pi_lower, pi_upper : float or None
        Prediction interval (intercept-only random-effects fits).
    qm : WaldTest or None
        Omnibus test of the coefficients other than the intercept (p > 1).
    weights : ndarray (k,)
        Weights in %.
    notes : tuple of str
        What the reader should know (fallbacks, boundaries, k = 1).
    """

    k: int
    p: int
    method: str
    test: str
    level: float
    beta: np.ndarray
    vcov: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    pval: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    df: int | None
    tau2: float
    tau2_ci: Tau2CI | None
    q: float
    q_df: int
    q_p: float
    i2: float
    i2_q: float
    h2: float
    pi_lower: float | None
    pi_upper: float | None
    qm: WaldTest | None
    weights: np.ndarray
    notes: tuple[str, ...]

    @property
    def common(self) -> bool:
        return self.method == "FE"


def _heterogeneity(y, v, X, method, tau2):
    """Q, its df and p, both I² and H² (metafor 3.8 ``rma.uni``).

    Notes
    -----
    Q = Σ eᵢ²/vᵢ from the common-effect fit (QE with moderators), df = k − p.
    Random effects: ṽ = (k − p)/tr P (P from the weights 1/vᵢ; for p = 1,
    tr P = Σwᵢ − Σwᵢ²/Σwᵢ), I² = 100·τ²/(τ² + ṽ), H² = τ²/ṽ + 1 (Higgins &
    Thompson 2002). Common effect: I² = 100·max(0, (Q − df)/Q), H² = Q/df.
    ``i2_q`` is always 100·max(0, (Q − df)/Q) (RevMan, meta).
    """
    k, p = X.shape
    q_df = k - p
    if q_df < 1:
        return 0.0, 0, 1.0, 0.0, 0.0, 1.0
    ffe = wls(y, X, 1.0 / v)
    q = max(0.0, ffe.rss)
    q_p = float(chdtrc(q_df, q))
    i2_q = i2_from_q(q, q_df)
    if method == "FE":
        return q, q_df, q_p, i2_q, i2_q, q / q_df
    i2, h2 = i2_h2_from_tau2(tau2, q_df / _trace_p(ffe, X))
    return q, q_df, q_p, i2, i2_q, h2


#: Beyond this ratio of the largest to the smallest sampling variance the
#: weights of all but the most precise study fall below double-precision
#: rounding (Σw − Σw²/Σw cancels to 0): the model is refused, not computed.
MAX_VARIANCE_RATIO = 1e12


def _check_representable(y, v) -> None:
    """Refuse numbers double precision cannot pool, with the reason."""
    from ..errors import NotComputable

    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise NotComputable("every yi must be finite and every vi finite and > 0")
    if len(v) > 1 and float(v.max()) / float(v.min()) > MAX_VARIANCE_RATIO:
        raise NotComputable(f"the sampling variances span a ratio of {float(v.max() / v.min()):.3g} "
                            f"(from {float(v.min()):.3g} to {float(v.max()):.3g}): beyond {MAX_VARIANCE_RATIO:g} "
                            "the other studies' weights vanish below rounding; check the SEs or CIs")
    spread = float(np.max(np.abs(y - np.median(y))))
    if spread ** 2 > 1e150 or float(v.max()) > 1e150 or float(v.min()) < 1e-150:
        raise NotComputable(f"effect sizes spread over {spread:.3g} with sampling variances from {float(v.min()):.3g} "
                            f"to {float(v.max()):.3g}: too extreme to pool in double precision")


def fit(y, v, X=None, method: str = "REML", test: str = "z", level: float = LEVEL, *,
        tau2_ci: bool = True, numerics: Numerics = EXACT, hk_adhoc: bool = False,
        tau2: float | None = None) -> IVFit:
    """Fit the inverse-variance model y = Xβ + u + ε, u ~ N(0, τ²), ε ~ N(0, v).

    Parameters
    ----------
    y, v : array_like (k,)
        Effect sizes and sampling variances.
    X : array_like (k, p), optional
        Design matrix; a column of ones (intercept only) when omitted.
    method : str
        ``FE`` (common effect, τ² = 0) or a τ² estimator of :data:`TAU2_ESTIMATORS`.
    test : {"z", "hk"}
        Wald z tests, or Hartung–Knapp–Sidik–Jonkman (t on k − p df).
    level : float
        Confidence level of the CIs, the PI and the τ² CI.
    tau2_ci : bool
        Compute the Q-profile CI of τ² (a third of the cost of a fit).
    numerics : Numerics
        Tolerances and search limits: :data:`~metail2.models.numerics.EXACT`
        (unit-free, the default) or :data:`~metail2.models.numerics.METAFOR`.
    hk_adhoc : bool
        Under ``hk``, use s² = max(1, s²) (Knapp & Hartung 2003's ad hoc
        correction; metafor ``test="adhoc"``), so the CI is never narrower
        than the z-based one.
    tau2 : float, optional
        Use this τ² instead of estimating it (``method`` then only names it;
        RevMan 5's DerSimonian–Laird takes Q around the Mantel–Haenszel
        estimate, :mod:`metail2.models.methods`).

    Returns
    -------
    IVFit

    Notes
    -----
    Weights wᵢ = 1/(vᵢ + τ²); β̂ = (XᵀWX)⁻¹XᵀWy, Var(β̂) = (XᵀWX)⁻¹. Under
    ``hk`` Var(β̂) is multiplied by s² = Σwᵢeᵢ²/(k − p), no truncation
    (Hartung & Knapp 2001; Sidik & Jonkman 2002; metafor ``test="knha"``).
    The prediction interval (p = 1) is μ̂ ± c·√(Var(μ̂) + τ²), c normal, or
    t(k − 1) under ``hk`` (metafor 3.8 ``predict``). A single study (k = 1)
    is a common effect with a z test. Heterogeneity: :func:`_heterogeneity`.

    Examples
    --------
    >>> import numpy as np
    >>> f = fit(np.array([0.1, 0.3, 0.5]), np.array([0.01, 0.02, 0.04]), method="DL")
    >>> round(float(f.beta[0]), 4), f.q_df
    (0.2524, 2)
    """
    y = np.asarray(y, dtype=float)
    v = np.asarray(v, dtype=float)
    k = len(y)
    X = np.ones((k, 1)) if X is None else np.asarray(X, dtype=float).reshape(k, -1)
    p = X.shape[1]
    _check_representable(y, v)
    notes: list[str] = []
    if k > 1 and float(v.max()) / float(v.min()) >= 1e7:
        notes.append(f"the ratio of the largest to the smallest sampling variance is {float(v.max() / v.min()):.3g}: "
                     "results may be unstable (metafor warns from 1e7)")
    common = method == "FE" or k == 1
    test_used = "z" if k == 1 else test
    if common:
        tau2 = 0.0
    elif tau2 is None:
        t = TAU2_ESTIMATORS[method](y, v, X, numerics)
        tau2 = t.tau2
        if t.note:
            notes.append(t.note)
    f = wls(y, X, 1.0 / (v + tau2))
    vcov = f.a_inv.copy()
    df = None
    if test_used == "hk":
        if method == "FE":
            notes.append("the Hartung–Knapp adjustment is not meant for a common-effect model")
        s2 = 0.0 if f.rss <= np.finfo(float).eps else f.rss / (k - p)
        if hk_adhoc:
            s2 = max(1.0, s2)
        elif s2 == 0.0:
            notes.append("Hartung–Knapp with s² = 0 (the estimates agree exactly with the fit): SE 0, "
                         "p 0 and a zero-width CI; the ad hoc correction (--hk-adhoc) keeps s² ≥ 1")
        vcov *= s2
        df = k - p
    beta = f.beta
    se = np.sqrt(np.diag(vcov))
    crit = critical_value(df, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(se > 0, beta / np.where(se > 0, se, 1.0), np.copysign(np.inf, beta))
    pval = np.atleast_1d(p_value(stat, df))
    q, q_df, q_p, i2, i2_q, h2 = _heterogeneity(y, v, X, "FE" if common else method, tau2)
    ci = None
    pil = piu = None
    if not common:
        if tau2_ci:
            ci = tau2_qprofile(y, v, X, tau2, level, numerics)
            if ci.upper_sign == ">":
                notes.append(f"upper bound of the τ² CI lies beyond {ci.tau2_max:g} (the search limit) "
                             f"and is reported as {ci.tau2_max:g}")
        if p == 1:
            half = crit * math.sqrt(vcov[0, 0] + tau2)
            pil, piu = float(beta[0]) - half, float(beta[0]) + half
    qm = None
    if p > 1:
        intercept = bool(np.all(X[:, 0] == 1.0))
        cols = np.arange(1 if intercept else 0, p)
        L = np.zeros((len(cols), p))
        L[np.arange(len(cols)), cols] = 1.0
        qm = wald_test(beta, vcov, L, df)
    return IVFit(
        k=k, p=p, method="FE" if common else method, test=test_used, level=level,
        beta=beta, vcov=vcov, se=se, stat=stat, pval=pval,
        ci_lower=beta - crit * se, ci_upper=beta + crit * se, df=df,
        tau2=tau2, tau2_ci=ci, q=q, q_df=q_df, q_p=q_p, i2=i2, i2_q=i2_q, h2=h2,
        pi_lower=pil, pi_upper=piu, qm=qm, weights=f.w / f.w.sum() * 100, notes=tuple(notes),
    )
