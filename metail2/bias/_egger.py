"""Egger's regression test for funnel-plot asymmetry (metafor's ``regtest``)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..effects import EffectSizes
from ..errors import MetailWarning, Problem, SheetError
from ..models.inference import LEVEL
from ..models.iv import METHODS, TESTS, IVFit, fit
from ._common import caveats, computed, effect_sizes, need, num, numerics_of

#: Predictors of ``regtest``: the standard error, the variance, the sample
#: size, its inverse, its square root and the inverse of that.
PREDICTORS = ("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv")
MODELS = ("lm", "rma")
#: Predictors that vanish as precision grows: the intercept is then the
#: "limit estimate", the effect expected of an infinitely precise study.
LIMIT = ("sei", "vi", "ninv", "sqrtninv")


@dataclass(frozen=True)
class Egger:
    """Egger's regression test: yᵢ = b₀ + b₁·xᵢ (+ uᵢ) + εᵢ, H₀: b₁ = 0.

    Attributes
    ----------
    model : {"lm", "rma"}
        ``lm``: weighted least squares with weights 1/vᵢ and a multiplicative
        dispersion (the classical test, t on k − 2 df); ``rma``: a
        meta-regression with additive τ² (``method``) and ``test``.
    predictor : str
        One of :data:`PREDICTORS`.
    stat, df, p : float, int or None, float
        Test of the predictor's coefficient (t on ``df``, or z with ``df`` None).
    intercept, intercept_se, intercept_ci_lower, intercept_ci_upper : float
        b₀: for ``sei``/``vi``/``ninv``/``sqrtninv`` the limit estimate
        (the effect as the predictor → 0).
    slope, slope_se : float
        b₁: the funnel's Egger line is effect = b₀ + b₁·x.
    fit : IVFit
        The regression (coefficients ``intrcpt`` and the predictor).
    warnings : tuple of str
    """

    measure: str
    model: str
    predictor: str
    method: str
    test: str
    level: float
    k: int
    stat: float
    df: int | None
    p: float
    intercept: float
    intercept_se: float
    intercept_ci_lower: float
    intercept_ci_upper: float
    slope: float
    slope_se: float
    tau2: float | None
    fit: IVFit
    warnings: tuple[str, ...] = ()
    convention: str = "metail2"

    @property
    def limit_estimate(self) -> bool:
        return self.predictor in LIMIT

    def line(self, se) -> np.ndarray:
        """The fitted Egger line at standard errors ``se`` (predictors ``sei`` and
        ``vi``): the effect b₀ + b₁·se (or b₀ + b₁·se²), for a funnel plot."""
        se = np.asarray(se, dtype=float)
        if self.predictor == "sei":
            return self.intercept + self.slope * se
        if self.predictor == "vi":
            return self.intercept + self.slope * se ** 2
        raise ValueError(f"the Egger line in SE coordinates needs predictor sei or vi (is {self.predictor})")

    def to_dict(self) -> dict:
        return {"analysis": "egger", "measure": self.measure, "model": self.model, "predictor": self.predictor,
                "method": self.method, "test": self.test, "convention": self.convention, "k": self.k,
                "stat": num(self.stat), "df": self.df, "p": num(self.p),
                "intercept": num(self.intercept), "intercept_se": num(self.intercept_se),
                "intercept_ci_lower": num(self.intercept_ci_lower), "intercept_ci_upper": num(self.intercept_ci_upper),
                "limit_estimate": self.limit_estimate, "slope": num(self.slope), "slope_se": num(self.slope_se),
                "tau2": num(self.tau2), "level": self.level}

    def __str__(self) -> str:
        kind = ("weighted regression with multiplicative dispersion" if self.model == "lm"
                else f"mixed-effects meta-regression ({self.method})")
        stat = f"t = {self.stat:.4f}, df = {self.df}" if self.df is not None else f"z = {self.stat:.4f}"
        pct = f"{100 * self.level:g}%"
        what = "Limit estimate (as the predictor -> 0)" if self.limit_estimate else "Intercept"
        lines = [f"Regression test for funnel plot asymmetry (Egger) on {self.measure}, k = {self.k}",
                 f"Model: {kind}; predictor: {self.predictor}",
                 f"Test for funnel plot asymmetry: {stat}, p = {self.p:.4f}",
                 f"{what}: b = {self.intercept:.4f} (SE {self.intercept_se:.4f}), {pct} CI "
                 f"[{self.intercept_ci_lower:.4f}, {self.intercept_ci_upper:.4f}]"]
        lines += [f"Note: {w}" for w in self.warnings]
        return "\n".join(lines)


def _predictor(effects: EffectSizes, predictor: str) -> np.ndarray:
    vi = effects.vi
    if predictor == "sei":
        return np.sqrt(vi)
    if predictor == "vi":
        return vi
    lacking = [Problem(effects.sheet.path, s.source.line, s.study_id, None,
                       f"predictor {predictor!r} needs the study's sample size, which its input ({s.input}) does not give")
               for s in effects.studies if s.ni is None]
    if lacking:
        raise SheetError(lacking)
    ni = np.array([s.ni for s in effects.studies], dtype=float)
    return {"ni": ni, "ninv": 1 / ni, "sqrtni": np.sqrt(ni), "sqrtninv": 1 / np.sqrt(ni)}[predictor]


def egger(effects, model: str = "lm", predictor: str = "sei", method: str = "REML", test: str = "z",
          level: float = LEVEL, *, measure: str | None = None, drop00: bool = False, convention: str = "metail2",
          outcome: str | None = None, analysis: str | None = None) -> Egger:
    """Egger's regression test (metafor ``regtest``).

    Parameters
    ----------
    effects : EffectSizes, or a sheet (path, Sheet, DataFrame) with ``measure``
    model : {"lm", "rma"}
        ``lm`` is the classical test (Egger et al. 1997; metafor
        ``regtest(model = "lm", predictor = "sei")``); ``rma`` the mixed-effects
        version (Sterne & Egger 2005) with τ² estimator ``method`` and ``test``.
    predictor : str
        ``sei`` (default), ``vi``, ``ni``, ``ninv`` (1/n), ``sqrtni``, ``sqrtninv``.
    convention : {"metail2", "metafor"}
        τ² numerics of the ``rma`` model.

    Notes
    -----
    ``lm``: yᵢ = b₀ + b₁·sei + εᵢ with weights 1/vᵢ and Var(εᵢ) = φvᵢ, φ
    estimated; the t test of b₁ on k − 2 df equals Egger's test of the intercept
    of the standard normal deviate regression yᵢ/sei = b₁ + b₀/sei. The
    intercept b₀ is the limit estimate (Rücker et al. 2011).
    """
    effects = effect_sizes(effects, measure, drop00, outcome, analysis)
    convention, numerics = numerics_of(convention)
    method = method.upper()
    problems = []
    if model not in MODELS:
        problems.append(Problem("<arguments>", None, None, "model", f"unknown model {model!r}; choose lm or rma"))
    if predictor not in PREDICTORS:
        problems.append(Problem("<arguments>", None, None, "predictor",
                                f"unknown predictor {predictor!r}; choose from {', '.join(PREDICTORS)}"))
    if method not in METHODS:
        problems.append(Problem("<arguments>", None, None, "method", f"unknown method {method!r}"))
    if test not in TESTS:
        problems.append(Problem("<arguments>", None, None, "test", f"unknown test {test!r}; choose z or hk"))
    if problems:
        raise SheetError(problems)
    need(effects, 3, "Egger's regression test")
    x = _predictor(effects, predictor)
    if np.ptp(x) == 0:
        raise SheetError([Problem(effects.sheet.path, None, None, None,
                                  f"predictor {predictor} is the same for every study: the regression test cannot be run")])
    X = np.column_stack([np.ones(effects.k), x])
    if model == "lm":
        f = computed(effects, "Egger's test", fit, effects.yi, effects.vi, X, "FE", "hk", level, tau2_ci=False)
        method_used, test_used, tau2 = "FE", "t", None
    else:
        f = computed(effects, "Egger's test", fit, effects.yi, effects.vi, X, method, test, level, tau2_ci=False,
                     numerics=numerics)
        method_used, test_used, tau2 = f.method, f.test, (None if f.common else f.tau2)
    notes = caveats(effects) + ([f"Egger regression: {n}" for n in f.notes] if model == "rma" else [])
    for n in notes:
        warnings.warn(n, MetailWarning, stacklevel=2)
    return Egger(effects.measure.name, model, predictor, method_used, test_used, level, effects.k,
                 float(f.stat[1]), f.df, float(f.pval[1]), float(f.beta[0]), float(f.se[0]),
                 float(f.ci_lower[0]), float(f.ci_upper[0]), float(f.beta[1]), float(f.se[1]), tau2, f, tuple(notes),
                 convention)
