"""Meta-regression: mixed-effects models with moderators (metafor's ``rma(yi, vi, mods = ~ …)``).

``metareg(effects, mods=["ablat", "year"], method="REML", test="z")`` builds
the model matrix from the sheet's own columns (:func:`model_matrix`), fits it
with the array kernel :func:`metail2.models.iv.fit` and returns a frozen
:class:`MetaRegression`. Subgroups with a common τ² are the special case of a
single factor (the same kernel, the same X up to a change of basis).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..effects import EffectSizes, Measure, escalc, to_natural
from ..errors import MetailWarning, Problem, SheetError
from ..sheets import Excluded
from ._design import INTERCEPT, Design, Moderator, model_matrix  # noqa: F401  (re-exported)
from .conventions import DEFAULT, get_convention
from .inference import LEVEL, critical_value
from .iv import METHODS, TESTS, IVFit, fit
from .results import _num
from .tau2 import TAU2_ESTIMATORS


@dataclass(frozen=True)
class Coefficient:
    """One coefficient: estimate, SE, z (or t under ``hk``), p and CI."""

    name: str
    estimate: float
    se: float
    stat: float
    p: float
    ci_lower: float
    ci_upper: float

    def to_dict(self) -> dict:
        return {k: v if k == "name" else _num(v) for k, v in vars(self).items()}


@dataclass(frozen=True)
class Prediction:
    """Predicted (average) effects for moderator values: ``X`` β̂ with SE, CI
    and prediction interval (``pi_*`` None for a common-effect model)."""

    X: np.ndarray
    pred: np.ndarray
    se: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    pi_lower: np.ndarray | None
    pi_upper: np.ndarray | None
    measure: Measure
    ni: tuple[float, ...] = ()

    def natural(self, values: np.ndarray) -> np.ndarray:
        """Values back-transformed to the natural scale (exp, expit, …)."""
        return np.array([to_natural(self.measure, float(x), self.ni) for x in np.atleast_1d(values)])

    def to_dict(self) -> list[dict]:
        cols = {"pred": self.pred, "se": self.se, "ci_lower": self.ci_lower, "ci_upper": self.ci_upper,
                "pi_lower": self.pi_lower, "pi_upper": self.pi_upper}
        out = [{c: None if a is None else _num(a[i]) for c, a in cols.items()} for i in range(len(self.pred))]
        if self.measure.natural != "identity":
            for d in out:
                d["natural"] = {c: None if x is None else _num(self.natural(x)[0]) for c, x in d.items() if c != "se"}
        return out


@dataclass(frozen=True)
class MetaRegression:
    """A fitted meta-regression (metafor's ``rma.uni`` with ``mods``).

    Attributes
    ----------
    method, test : str
        τ² estimator (or ``FE``) and ``z`` / ``hk``.
    mods : tuple of str
        The moderator columns, as asked.
    design : Design
        The model matrix (``design.X``, ``design.names``) and the studies in it.
    fit : IVFit
        The kernel's fit: coefficients, residual τ² and its Q-profile CI, QE, I²,
        H², the omnibus QM (χ² on m df, or F on (m, k − p) under ``hk``).
    r2 : float or None
        Pseudo-R² in % (metafor's default): 100·max(0, (τ̂²₀ − τ̂²)/τ̂²₀), τ̂²₀
        from the model without moderators (0 when τ̂²₀ = 0); for ``FE`` the
        adjusted R² of the weighted least-squares fit.
    tau2_intercept_only : float or None
        τ̂²₀ (None for ``FE``).
    effects : EffectSizes
        The effect-size stage (its exclusions are reported with the moderators').
    """

    measure: Measure
    method: str
    test: str
    level: float
    mods: tuple[str, ...]
    design: Design
    fit: IVFit
    r2: float | None
    tau2_intercept_only: float | None
    effects: EffectSizes
    warnings: tuple[str, ...] = ()
    convention: str = DEFAULT

    X = property(lambda self: self.design.X, doc="The model matrix (k × p, intercept first).")
    names = property(lambda self: self.design.names, doc="Coefficient names, as R names them.")
    studies = property(lambda self: self.design.studies, doc="The studies in the model (sheet order).")

    @property
    def excluded(self) -> tuple[Excluded, ...]:
        """Rows not in the model (effect-size and moderator reasons), in sheet order."""
        return tuple(sorted(self.effects.excluded + self.design.excluded, key=lambda e: e.source.line))

    k = property(lambda self: self.fit.k)
    tau2 = property(lambda self: self.fit.tau2, doc="Residual τ².")
    qm = property(lambda self: self.fit.qm, doc="The omnibus test of the moderators (a WaldTest).")

    @property
    def coefficients(self) -> tuple[Coefficient, ...]:
        f = self.fit
        return tuple(Coefficient(n, *(float(a[i]) for a in (f.beta, f.se, f.stat, f.pval, f.ci_lower, f.ci_upper)))
                     for i, n in enumerate(self.names))

    weights = property(lambda self: self.fit.weights, doc="Each study's weight in %, 1/(vᵢ + τ̂²) normalised.")

    def predict(self, newmods=None, level: float | None = None) -> Prediction:
        """Predicted average effects with CI and PI (metafor's ``predict.rma``).

        ``newmods``: see :meth:`Design.rows`; ``None`` gives the fitted values of
        the studies. CI: ŷ ± c·SE, PI: ŷ ± c·√(SE² + τ̂²), c normal, or t(k − p)
        under ``hk``.
        """
        Xn = self.X if newmods is None else self.design.rows(newmods)
        return self._predict_x(Xn, self.level if level is None else level)

    def _predict_x(self, Xn: np.ndarray, level: float) -> Prediction:
        f = self.fit
        pred = Xn @ f.beta
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", Xn, f.vcov, Xn), 0.0))
        c = critical_value(f.df, level)
        pil = piu = None
        if not f.common:
            half = c * np.sqrt(se ** 2 + f.tau2)
            pil, piu = pred - half, pred + half
        ni = tuple(s.ni for s in self.studies if s.ni is not None)
        return Prediction(Xn, pred, se, pred - c * se, pred + c * se, pil, piu, self.measure, ni)

    def to_dict(self) -> dict:
        """The ``meta-regression`` JSON (field names of the metafor reference cases)."""
        f = self.fit
        qm = f.qm
        d = {
            "analysis": "meta-regression", "measure": self.measure.name, "method": self.method, "test": self.test,
            "convention": self.convention,
            "mods": self.mods[0] if len(self.mods) == 1 else list(self.mods),
            "k": f.k, "p": f.p,
            "coefficients": [c.to_dict() for c in self.coefficients],
            "tau2": _num(f.tau2),
            "tau2_ci": None if f.tau2_ci is None else [_num(f.tau2_ci.lower), _num(f.tau2_ci.upper)],
            "i2": _num(f.i2), "h2": _num(f.h2), "r2": _num(self.r2),
            "qm": _num(qm.stat), "qm_df": qm.df, "qm_df2": qm.df2, "qm_p": _num(qm.p), "qm_statistic": qm.statistic,
            "qe": _num(f.q), "qe_df": f.q_df, "qe_p": _num(f.q_p),
            "moderators": [{"column": m.column, "type": m.kind, **({"levels": list(m.levels), "reference": m.levels[0]}
                                                                    if m.kind == "factor" else {})}
                           for m in self.design.moderators],
            "model_matrix": {"columns": list(self.names), "rows": self.X.tolist()},
            "studies": [{**s.to_dict(), "mods": dict(v), "weight": _num(w)}
                        for s, v, w in zip(self.studies, self.design.values, f.weights)],
            "excluded": [e.to_dict() for e in self.excluded],
        }
        if self.level != LEVEL:
            d["level"] = self.level
        return d

    def __str__(self) -> str:
        return format_metareg(self)


def format_metareg(r: MetaRegression) -> str:
    """metafor-like printout of a meta-regression."""
    f, qm = r.fit, r.fit.qm
    p = lambda x: "< 0.0001" if x < 1e-4 else f"= {x:.4f}"
    lines = [f"{'Common-effect' if f.common else 'Mixed-effects'} meta-regression of {r.measure.name} "
             f"({r.measure.label}); k = {f.k}; {'FE' if f.common else 'tau² estimator ' + r.method}; "
             f"{'z' if r.test == 'z' else 'Knapp-Hartung t'} tests",
             "Moderators: " + ", ".join(m.column + (" (numeric)" if m.kind == "numeric" else f" (factor; reference "
                                                    f"{m.levels[0]!r})") for m in r.design.moderators), ""]
    if not f.common:
        ci = "" if f.tau2_ci is None else f" [{f.tau2_ci.lower:.4f}, {f.tau2_ci.upper:.4f}]"
        lines.append(f"Residual heterogeneity: tau² = {f.tau2:.4f}{ci}, I² = {f.i2:.2f}%, H² = {f.h2:.2f}, "
                     f"R² = {r.r2:.2f}%")
    df = f"df = {qm.df}" if qm.statistic == "chisq" else f"df1 = {qm.df}, df2 = {qm.df2}"
    lines += [f"Test for residual heterogeneity: QE(df = {f.q_df}) = {f.q:.4f}, p {p(f.q_p)}",
              f"Test of moderators (coefficients 2:{f.p}): {'QM' if qm.statistic == 'chisq' else 'F'}({df}) = "
              f"{qm.stat:.4f}, p {p(qm.p)}", ""]
    rows = [("", "estimate", "se", "zval" if r.test == "z" else "tval", "pval", "ci.lb", "ci.ub")]
    rows += [(c.name, *(f"{x:.4f}" for x in (c.estimate, c.se, c.stat)), p(c.p).lstrip("= ").replace(" ", ""),
              f"{c.ci_lower:.4f}", f"{c.ci_upper:.4f}") for c in r.coefficients]
    w = [max(len(x[i]) for x in rows) for i in range(7)]
    lines += ["  ".join(x.ljust(w[0]) if i == 0 else x.rjust(w[i]) for i, x in enumerate(row)) for row in rows]
    lines += (["", "Not in the model:"] + [f"  {e.study_id}: {e.reason}" for e in r.excluded]) if r.excluded else []
    lines += (["", "Notes:"] + [f"  {n}" for n in r.warnings]) if r.warnings else []
    return "\n".join(lines)


# --------------------------------------------------------------------------- the verb

def _r2(y, v, X, method: str, f: IVFit, numerics) -> tuple[float | None, float | None]:
    """metafor's pseudo-R² (``r2def = "1"``) and τ̂² of the intercept-only model."""
    k, p = X.shape
    if method == "FE":
        if np.ptp(y) == 0:
            return 0.0, None
        w, fitted = 1.0 / v, X @ f.beta   # summary(lm(yi ~ X, weights = 1/vi))$adj.r.squared
        mss, rss = float(np.dot(w, (fitted - np.dot(w, fitted) / w.sum()) ** 2)), float(np.dot(w, (y - fitted) ** 2))
        return max(0.0, 100 * (1 - (1 - mss / (mss + rss)) * (k - 1) / (k - p))), None
    tau2_0 = TAU2_ESTIMATORS[method](y, v, np.ones((k, 1)), numerics).tau2
    if tau2_0 == 0:
        return 0.0, tau2_0
    return max(0.0, 100 * (tau2_0 - f.tau2) / tau2_0), tau2_0


def metareg(effects, mods: str | Sequence[str], method: str = "REML", test: str = "z", level: float = LEVEL, *,
            measure: str | None = None, factors: Sequence[str] = (), drop00: bool = False,
            convention: str = DEFAULT, outcome: str | None = None, analysis: str | None = None) -> MetaRegression:
    """Meta-regression on moderator columns of the sheet (metafor ``rma(yi, vi, mods = ~ a + b)``).

    Parameters
    ----------
    effects : EffectSizes, or a Sheet / path / DataFrame with ``measure``
    mods : str or sequence of str
        Moderator columns: numbers give covariates, text gives factors (levels
        sorted, the first the reference); coefficients are named as R names them
        (``intrcpt``, ``ablat``, ``allocationrandom``).
    method, test : str
        ``FE`` or a τ² estimator of the residual heterogeneity; ``z`` (Wald z, χ²
        omnibus test) or ``hk`` (Knapp–Hartung t on k − p df, F on (m, k − p)).
    factors : sequence of str
        Numeric-looking columns to treat as factors (R's ``factor(x)``).
    convention : {"metail2", "metafor"}
        Exact numerics (default) or metafor's own tolerances (:mod:`.conventions`).
    outcome, analysis, drop00 : passed to :func:`~metail2.effects.escalc` when ``effects`` is a sheet.

    Notes
    -----
    β̂ = (XᵀWX)⁻¹XᵀWy with W = diag(1/(vᵢ + τ̂²)), τ̂² the residual heterogeneity
    estimated on X (Viechtbauer 2010; Raudenbush 2009); QM = β̂₂ᵀV₂₂⁻¹β̂₂ over the
    non-intercept coefficients; QE = Σ(yᵢ − xᵢβ̂_FE)²/vᵢ on k − p df.
    """
    conv = get_convention(convention)
    if conv.name not in ("metail2", "metafor"):
        raise SheetError([Problem("<arguments>", None, None, "convention", f"no meta-regression under {conv.label}")])
    if not isinstance(effects, EffectSizes):
        if measure is None:
            raise SheetError([Problem("<arguments>", None, None, "measure", "a measure is needed to read a sheet")])
        effects = escalc(effects, measure, drop00=drop00, outcome=outcome, analysis=analysis)
    mods = (mods,) if isinstance(mods, str) else tuple(mods)
    method = method.upper()
    problems = [Problem("<arguments>", None, None, col, msg) for col, bad, msg in (
        ("method", method not in METHODS, f"unknown or unavailable method {method!r}; choose from {', '.join(METHODS)}"),
        ("test", test not in TESTS, f"unknown test {test!r}; choose z or hk"),
        ("level", not 0 < level < 1, f"level must lie in (0, 1) (is {level!r})")) if bad]
    if problems:
        raise SheetError(problems)
    design = model_matrix(effects, mods, tuple(factors))
    y = np.array([s.yi for s in design.studies])
    v = np.array([s.vi for s in design.studies])
    try:
        f = fit(y, v, design.X, method, test, level, numerics=conv.numerics)
        r2, tau2_0 = _r2(y, v, design.X, method, f, conv.numerics)
    except (ArithmeticError, np.linalg.LinAlgError) as exc:
        raise SheetError([Problem(effects.sheet.path, None, None, None,
                                  f"cannot fit the meta-regression ({type(exc).__name__}: {exc})")]) from None
    notes = list(design.notes)
    if design.excluded:
        notes.append(f"{len(design.excluded)} row(s) with a missing moderator left out: "
                     + ", ".join(e.study_id for e in design.excluded))
    notes += [f"meta-regression: {n}" for n in f.notes]
    for n in notes:
        warnings.warn(n, MetailWarning, stacklevel=2)
    return MetaRegression(effects.measure, method, test, level, mods, design, f, r2, tau2_0, effects, tuple(notes),
                          conv.name)


__all__ = ["metareg", "model_matrix", "MetaRegression", "Design", "Moderator", "Coefficient", "Prediction", "INTERCEPT"]
