"""Duval and Tweedie's trim-and-fill (metafor's ``trimfill.rma.uni``)."""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace

import numpy as np

from ..effects import StudyEffect, to_natural
from ..errors import MetailWarning, Problem, SheetError
from ..models.inference import LEVEL
from ..models.batch import pool_many
from ..models.iv import METHODS, TESTS, IVFit, fit
from ..models.tau2 import Tau2CI
from ._common import caveats, computed, effect_sizes, need, num, numerics_of

ESTIMATORS = ("L0", "R0")
#: metafor's ``trimfill`` refits with ``rma``'s default ``control`` whatever the
#: model's own: REML, ML and EB stop when |Δτ²| ≤ 1e-5 (absolute).
RMA_DEFAULT_THRESHOLD = 1e-5
SIDES = ("left", "right")
MAXITER = 100


@dataclass(frozen=True)
class FilledStudy:
    """A study imputed by trim-and-fill: the mirror image of ``mirror_of``
    about the trimmed estimate, with that study's variance."""

    study_id: str
    yi: float
    vi: float
    mirror_of: str

    @property
    def sei(self) -> float:
        return math.sqrt(self.vi)

    def to_dict(self) -> dict:
        return {"study_id": self.study_id, "yi": self.yi, "vi": self.vi, "mirror_of": self.mirror_of}


@dataclass(frozen=True)
class TrimFill:
    """Trim-and-fill: the number of missing studies, the studies filled in and
    the model refitted to observed + filled studies.

    Attributes
    ----------
    estimator : {"L0", "R0"}
    side : {"left", "right"}
        The side on which studies are missing.
    side_given : bool
        False when chosen from the sign of the Egger-type slope (metafor).
    k : int
        Observed studies.
    k0, se_k0 : int, float
        Estimated missing studies and its SE; ``p_k0`` (R0 only): P(k0 ≥ that) under H₀.
    filled : tuple of FilledStudy
        In the order metafor appends them (their yᵢ, vᵢ are what a funnel plot draws).
    fit : IVFit
        The model on the k + k0 studies (estimate, SE, CI, τ², …).
    observed : IVFit
        The same model on the observed studies only.
    studies : tuple of StudyEffect
    """

    measure: str
    method: str
    test: str
    level: float
    estimator: str
    side: str
    side_given: bool
    k: int
    k0: int
    se_k0: float
    p_k0: float | None
    iterations: int
    filled: tuple[FilledStudy, ...]
    fit: IVFit
    observed: IVFit
    studies: tuple[StudyEffect, ...]
    ni: tuple[float, ...] = ()
    warnings: tuple[str, ...] = ()
    convention: str = "metail2"

    @property
    def estimate(self) -> float:
        return float(self.fit.beta[0])

    @property
    def se(self) -> float:
        return float(self.fit.se[0])

    @property
    def ci_lower(self) -> float:
        return float(self.fit.ci_lower[0])

    @property
    def ci_upper(self) -> float:
        return float(self.fit.ci_upper[0])

    @property
    def tau2(self) -> float:
        return self.fit.tau2

    @property
    def yi(self) -> np.ndarray:
        """Observed then filled effects (the filled model's data)."""
        return np.array([s.yi for s in self.studies] + [s.yi for s in self.filled])

    @property
    def vi(self) -> np.ndarray:
        return np.array([s.vi for s in self.studies] + [s.vi for s in self.filled])

    def _natural(self, x):
        from ..effects import get_measure

        return num(to_natural(get_measure(self.measure), x, self.ni))

    def _block(self, f: IVFit) -> dict:
        d = {"k": f.k, "estimate": num(f.beta[0]), "se": num(f.se[0]), "ci_lower": num(f.ci_lower[0]),
             "ci_upper": num(f.ci_upper[0]), "stat": num(f.stat[0]), "p": num(f.pval[0]), "tau2": num(f.tau2),
             "tau2_ci": None if f.tau2_ci is None else [num(f.tau2_ci.lower), num(f.tau2_ci.upper)],
             "i2": num(f.i2), "h2": num(f.h2), "q": num(f.q), "q_df": f.q_df, "q_p": num(f.q_p),
             "pi_lower": num(f.pi_lower), "pi_upper": num(f.pi_upper)}
        d["natural"] = {x: self._natural(d[x]) for x in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper")}
        return d

    def to_dict(self) -> dict:
        d = {"analysis": "trim-and-fill", "measure": self.measure, "method": self.method, "test": self.test,
             "convention": self.convention,
             "estimator": self.estimator, "side": self.side, "side_given": self.side_given,
             "k": self.k, "k0": self.k0, "se_k0": num(self.se_k0), "p_k0": num(self.p_k0)}
        d.update({key: val for key, val in self._block(self.fit).items() if key != "k"})
        d["observed"] = self._block(self.observed)
        d["studies"] = [{"study_id": s.study_id, "yi": s.yi, "vi": s.vi} for s in self.studies]
        d["filled"] = [s.to_dict() for s in self.filled]
        if self.level != LEVEL:
            d["level"] = self.level
        return d

    def __str__(self) -> str:
        pct = f"{100 * self.level:g}%"
        o, f = self.observed, self.fit
        lines = [f"Trim-and-fill ({self.estimator}) on {self.measure}, {'FE' if f.common else self.method} model, "
                 f"k = {self.k}",
                 f"Estimated missing studies on the {self.side} side: k0 = {self.k0} (SE {self.se_k0:.4f})"
                 + ("" if self.p_k0 is None else f", p = {self.p_k0:.4f}"),
                 f"Observed:  estimate {o.beta[0]:.4f} (SE {o.se[0]:.4f}), {pct} CI [{o.ci_lower[0]:.4f}, {o.ci_upper[0]:.4f}]",
                 ("No study imputed: the model is the observed one." if not self.k0 else
                  f"Filled:    estimate {self.estimate:.4f} (SE {self.se:.4f}), {pct} CI [{self.ci_lower:.4f}, "
                  f"{self.ci_upper:.4f}], k = {f.k}" + ("" if f.common else f", tau² = {self.tau2:.4f}"))]
        lines += [f"  {s.study_id}: yi = {s.yi:.4f}, vi = {s.vi:.4f} (mirror of {s.mirror_of})" for s in self.filled]
        lines += [f"Note: {w}" for w in self.warnings]
        return "\n".join(lines)


def _as_ivfit(b, v: np.ndarray) -> IVFit:
    """The one intercept-only fit of a :class:`~metail2.models.batch.BatchResult` as an IVFit."""
    a = {name: arr[0] for name, arr in b.arrays.items()}
    opt = lambda x: None if math.isnan(x) else float(x)  # noqa: E731
    ci = None
    if b.tau2_ci_lower is not None and not a["common"]:
        sign = {0: "", -1: "<", 1: ">"}
        ci = Tau2CI(float(a["tau2_ci_lower"]), float(a["tau2_ci_upper"]), sign[int(a["tau2_ci_lower_sign"])],
                    sign[int(a["tau2_ci_upper_sign"])])
    w = 1.0 / (v + a["tau2"])
    one = lambda name: np.array([float(a[name])])  # noqa: E731
    return IVFit(k=int(a["k"]), p=1, method="FE" if a["common"] else b.method, test="z" if a["common"] else b.test,
                 level=b.level, beta=one("estimate"), vcov=np.array([[float(a["se"]) ** 2]]), se=one("se"),
                 stat=one("stat"), pval=one("p"), ci_lower=one("ci_lower"), ci_upper=one("ci_upper"),
                 df=None if math.isnan(a["df"]) else int(a["df"]), tau2=float(a["tau2"]), tau2_ci=ci, q=float(a["q"]),
                 q_df=int(a["q_df"]), q_p=float(a["q_p"]), i2=float(a["i2"]), i2_q=float(a["i2_q"]), h2=float(a["h2"]),
                 pi_lower=opt(a["pi_lower"]), pi_upper=opt(a["pi_upper"]), qm=None, weights=w / w.sum() * 100, notes=())


def _fitter(method: str, test: str, level: float, convention: str, numerics):
    """The intercept-only fits of trim-and-fill: the scalar kernel, or under the
    metafor convention metafor's own iteration at ``rma``'s default threshold
    (the batch engine iterates as metafor does under absolute numerics)."""
    if convention == "metafor":
        rma_default = replace(numerics, threshold=RMA_DEFAULT_THRESHOLD)
        return lambda y, v, ci=False: _as_ivfit(pool_many(y, v, method=method, test=test, level=level, tau2_ci=ci,
                                                          numerics=rma_default), v)
    return lambda y, v, ci=False: fit(y, v, None, method, test, level, tau2_ci=ci, numerics=numerics)


def _iterate(y0, v0, method: str, side: str | None, estimator: str, numerics, maxiter: int, refit):
    """The trim-and-fill iteration (metafor's): side, k0, its SE, the last trimmed
    estimate β̂ (on the flipped scale), the sort order and the iterations."""
    k = len(y0)
    if side is None:
        X = np.column_stack([np.ones(k), np.sqrt(v0)])
        side = "right" if fit(y0, v0, X, method, "z", tau2_ci=False, numerics=numerics).beta[1] < 0 else "left"
    yf = -y0 if side == "right" else y0
    order = np.argsort(yf, kind="stable")
    y, v = yf[order], v0[order]
    k0, previous, it = 0, -1, 0
    while k0 != previous:
        previous, it = k0, it + 1
        if it > maxiter:
            raise NotConverged(f"trim-and-fill did not converge in {maxiter} iterations (k0 oscillates)")
        beta = float(refit(y[:k - k0], v[:k - k0]).beta[0])
        yc = y - beta
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(yc), kind="stable")] = np.arange(1, k + 1)
        signed = np.sign(yc) * ranks
        if estimator == "R0":
            neg = -signed[signed < 0]
            k0 = k - (neg.max() if neg.size else 0) - 1
            se_k0 = math.sqrt(2 * max(0, k0) + 2)
        else:
            sr = float(signed[signed > 0].sum())
            k0 = (4 * sr - k * (k + 1)) / (2 * k - 1)
            var_sr = (k * (k + 1) * (2 * k + 1) + 10 * k0 ** 3 + 27 * k0 ** 2 + 17 * k0 - 18 * k * k0 ** 2
                      - 18 * k * k0 + 6 * k ** 2 * k0) / 24
            se_k0 = 4 * math.sqrt(var_sr) / (2 * k - 1) if var_sr >= 0 else math.nan   # R: sqrt(<0) is NaN
        k0 = min(k - 1, max(0, round(k0)))
        se_k0 = se_k0 if math.isnan(se_k0) else max(0.0, se_k0)
    return side, k0, se_k0, beta, order, it


class NotConverged(ArithmeticError):
    """The trim-and-fill iteration did not settle on a k0."""


def trimfill(effects, method: str = "REML", side: str | None = None, estimator: str = "L0", test: str = "z",
             level: float = LEVEL, *, measure: str | None = None, drop00: bool = False, convention: str = "metail2",
             outcome: str | None = None, analysis: str | None = None, maxiter: int = MAXITER) -> TrimFill:
    """Trim-and-fill (Duval & Tweedie 2000a, b; metafor ``trimfill``).

    Parameters
    ----------
    method : str
        ``FE`` or a τ² estimator, used for every fit (trimmed and filled).
    side : {"left", "right"}, optional
        Where studies are missing; by default chosen as metafor does: from the
        sign of the slope in the regression of yᵢ on √vᵢ (``method``): a
        negative slope means studies are missing on the right.
    estimator : {"L0", "R0"}
    test : {"z", "hk"}
        Inference of the filled model (metafor refits with its default, ``z``).
    convention : {"metail2", "metafor"}
        ``metail2``: every fit exact (as metafor's ``trimfill(res, control =
        list(threshold = 1e-10))``). ``metafor``: the model on the observed
        studies with metafor's tolerances, the trimmed and filled fits as
        metafor's ``trimfill`` makes them, with ``rma``'s default control
        (REML/ML/EB stop at |Δτ²| ≤ 1e-5, whatever the model's own), so τ² can
        differ from the exact one by ~1e-6 relative.

    Notes
    -----
    With the effects flipped if the side is right and sorted, iterate: fit the
    model to the k − k0 smallest effects, centre all effects on its estimate
    β̂, rank |yᵢ − β̂| (ties by order), and set
    L0: k0 = round((4·S_r − k(k + 1))/(2k − 1)), S_r the sum of the positive
    signed ranks; R0: k0 = k − r* − 1, r* the largest rank of a negative
    centred effect; k0 ≥ 0 — until k0 repeats. The k0 largest studies are then
    mirrored about β̂ (2β̂ − yᵢ on the original scale) with their variances
    and the model is refitted to all k + k0 studies.
    """
    effects = effect_sizes(effects, measure, drop00, outcome, analysis)
    convention, numerics = numerics_of(convention)
    method = method.upper()
    problems = []
    if method not in METHODS:
        problems.append(Problem("<arguments>", None, None, "method", f"unknown method {method!r}"))
    if test not in TESTS:
        problems.append(Problem("<arguments>", None, None, "test", f"unknown test {test!r}; choose z or hk"))
    if estimator not in ESTIMATORS:
        problems.append(Problem("<arguments>", None, None, "estimator", f"unknown estimator {estimator!r}; choose L0 or R0"))
    if side is not None and side not in SIDES:
        problems.append(Problem("<arguments>", None, None, "side", f"unknown side {side!r}; choose left or right"))
    if problems:
        raise SheetError(problems)
    need(effects, 3, "Trim-and-fill")
    studies = effects.studies
    y0, v0 = effects.yi, effects.vi
    k = len(y0)
    given = side is not None
    refit = _fitter(method, test, level, convention, numerics)
    side, k0, se_k0, beta, order, it = computed(effects, "trim-and-fill", _iterate, y0, v0, method, side, estimator,
                                                numerics, maxiter, refit)
    filled = []
    for n, i in enumerate(order[k - k0:], start=1):  # the k0 most extreme, mirrored about β̂
        filled.append(FilledStudy(f"Filled {n}", float(2 * (-beta if side == "right" else beta) - y0[i]), float(v0[i]),
                                  studies[i].study_id))
    observed = computed(effects, "the model", fit, y0, v0, None, method, test, level, numerics=numerics)
    full = computed(effects, "the filled model", refit, np.concatenate([y0, [s.yi for s in filled]]),
                    np.concatenate([v0, [s.vi for s in filled]]), True) if k0 else observed
    p_k0 = 0.5 ** (k0 + 1) if estimator == "R0" else None   # metafor: 1 − Σ_{m=−1}^{k0−1} 0.5^(m+2)
    ni = tuple(s.ni for s in list(studies) + [studies[i] for i in order[k - k0:]] if s.ni is not None)
    notes = caveats(effects) + [f"trim-and-fill model: {n}" for n in full.notes]
    for n in notes:
        warnings.warn(n, MetailWarning, stacklevel=2)
    return TrimFill(effects.measure.name, full.method, full.test, level, estimator, side, given, k, k0, se_k0, p_k0,
                    it, tuple(filled), full, observed, studies, ni, tuple(notes), convention)
