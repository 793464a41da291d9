"""Pooling methods that are not the inverse-variance kernel: Mantel–Haenszel,
Peto, GLMMs, and RevMan 5's DerSimonian–Laird around the MH estimate.

Each entry of :data:`METHODS` says which measures and inputs it takes and how
to fit a group of studies; :func:`metail2.models.pool` uses the registry, so
adding a method is one function plus one entry.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from ..effects import EffectSizes, Measure, StudyEffect
from ..errors import Problem, SheetError
from ..sheets import Excluded
from .heterogeneity import i2_from_q
from .results import Pooled


@dataclass(frozen=True)
class Method:
    """A pooling method outside the inverse-variance kernel.

    Attributes
    ----------
    name : str
        As printed and in the JSON (``MH``, ``Peto``, ``GLMM``).
    label : str
    measures : tuple of str
    inputs : tuple of str
        Input groups a study must have to enter (others are excluded with the reason).
    fit : callable
        ``fit(studies, measure, level, convention) -> (Pooled, notes)``.
    tests : tuple of str
        Tests it supports.
    """

    name: str
    label: str
    measures: tuple[str, ...]
    inputs: tuple[str, ...]
    fit: Callable
    tests: tuple[str, ...] = ("z",)


def _counts(studies: Sequence[StudyEffect]) -> list[np.ndarray]:
    return [np.array(c, dtype=float) for c in zip(*(s.counts for s in studies))]


def _pooled(name, model, f, studies, measure: Measure, *, tau2=0.0, pi=(None, None), extra=(), i2=None, h2=None,
            q=None) -> Pooled:
    from .subgroups import natural_scale

    ni = [s.ni for s in studies if s.ni is not None]
    q, q_df, q_p = (f.q, f.q_df, f.q_p) if q is None else q
    i2_q = i2_from_q(q, q_df)
    w = np.asarray(f.weights, dtype=float)
    return Pooled(
        k=f.k, model=model, method=name, test="z", estimate=f.estimate, se=f.se, ci_lower=f.ci_lower,
        ci_upper=f.ci_upper, stat=f.stat, p=f.p, df=None, tau2=tau2, tau2_ci=None,
        i2=f.i2 if i2 is None else i2, i2_q=i2_q, h2=f.h2 if h2 is None else h2,
        q=q, q_df=q_df, q_p=q_p, pi_lower=pi[0], pi_upper=pi[1],
        natural=natural_scale(measure, f.estimate, f.ci_lower, f.ci_upper, pi[0], pi[1], ni),
        weights=tuple(float(x) if math.isfinite(x) else 0.0 for x in w),
        study_ids=tuple(s.study_id for s in studies), extra=tuple(extra),
    )


def _fit_mh(studies, measure: Measure, level: float, conv):
    from .mh import mantel_haenszel

    counts = _counts(studies)
    f = mantel_haenszel(*counts, measure=measure.name, level=level, drop00=conv.drop00)
    if measure.name == "RD" and conv.mh_rd_variance == "GR":
        f = _greenland_robins_rd(f, *counts, level=level)
    notes = list(f.notes) + [f"{studies[i].study_id}: {why}" for i, why in f.excluded]
    extra = (("cmh", f.cmh), ("cmh_p", f.cmh_p)) if measure.name == "OR" else ()
    return _pooled("MH", "common", f, studies, measure, extra=extra), notes


def _greenland_robins_rd(f, a, n1, c, n2, level: float):
    """The MH risk difference with Greenland & Robins' (1985) variance, as
    RevMan 5 (and R meta under its RevMan 5 settings):
    Var = Σ(aᵢbᵢn2ᵢ³ + cᵢdᵢn1ᵢ³)/(n1ᵢn2ᵢNᵢ²) / (Σn1ᵢn2ᵢ/Nᵢ)²."""
    from .inference import critical_value, p_value

    keep = (n1 > 0) & (n2 > 0)
    a, n1, c, n2 = a[keep], n1[keep], c[keep], n2[keep]
    b, d, n = n1 - a, n2 - c, n1 + n2
    var = float(((a * b * n2 ** 3 + c * d * n1 ** 3) / (n1 * n2 * n ** 2)).sum() / (n1 * n2 / n).sum() ** 2)
    se = math.sqrt(var)
    crit = critical_value(None, level)
    stat = f.estimate / se if se > 0 else math.nan
    return replace(f, se=se, ci_lower=f.estimate - crit * se, ci_upper=f.estimate + crit * se, stat=stat,
                   p=p_value(stat, None))


def _fit_peto(studies, measure: Measure, level: float, conv):
    from .peto import peto

    f = peto(*_counts(studies), level=level, drop00=conv.drop00)
    return _pooled("Peto", "common", f, studies, measure), list(f.notes) + [
        f"{studies[i].study_id}: {why}" for i, why in f.excluded]


def _fit_glmm(studies, measure: Measure, level: float, conv):
    from .glmm import glmm_or, glmm_plo

    c = _counts(studies)
    f = glmm_plo(*c, level=level) if measure.name == "PLO" else glmm_or(*c, level=level)
    notes = list(f.notes) + [f"{studies[i].study_id}: {why}" for i, why in f.excluded]
    if not f.converged:
        notes.append("the GLMM fit did not converge; its numbers are not reliable")
    nan3 = (math.nan, 0, math.nan)
    return _pooled("GLMM", "random", _GLMMAsFit(f, len(studies)), studies, measure, tau2=f.tau2,
                   pi=(f.pi_lower, f.pi_upper), q=nan3), notes


@dataclass(frozen=True)
class _GLMMAsFit:
    """A GLMM fit seen through the fields :func:`_pooled` reads (no Q: the
    GLMM's heterogeneity is τ², with I² and H² from it)."""

    g: object
    n: int

    def __getattr__(self, name):
        if name == "weights":
            return np.full(self.n, 100.0 / self.n)
        return getattr(self.g, name)


METHODS = {
    "MH": Method("MH", "Mantel–Haenszel", ("OR", "RR", "RD"), ("two-arm counts",), _fit_mh),
    "PETO": Method("Peto", "Peto", ("OR",), ("two-arm counts",), _fit_peto),
    "GLMM": Method("GLMM", "generalised linear mixed model (ML)", ("PLO", "OR"),
                   ("single-arm counts", "two-arm counts"), _fit_glmm),
}


def usable(effects: EffectSizes, method: Method) -> EffectSizes:
    """The effects a method can pool; other rows excluded with the reason.

    Raises
    ------
    SheetError
        The method does not take this measure, or no row is usable.
    """
    m = effects.measure
    if m.name not in method.measures:
        raise SheetError([Problem("<arguments>", None, None, "method",
                                  f"{method.label} pools {', '.join(method.measures)}, not {m.name}")])
    keep, out = [], list(effects.excluded)
    for s in effects.studies:
        if s.input in method.inputs and s.counts is not None:
            keep.append(s)
        else:
            out.append(Excluded(s.study_id, f"{method.label} needs {' or '.join(method.inputs)}; "
                                f"this row gives {s.input}", s.source))
    if not keep:
        raise SheetError([Problem(effects.sheet.path, None, None, None,
                                  f"no row can enter {method.label}: it needs {' or '.join(method.inputs)}")])
    out.sort(key=lambda e: e.source.line)
    return replace(effects, studies=tuple(keep), excluded=tuple(out))


def revman5_dl(studies, measure: Measure, level: float, numerics) -> tuple[Pooled, list[str]]:
    """RevMan 5's random-effects model for two-arm counts (R meta's
    ``method.tau = "DL"`` with ``Q.Cochrane``): Q around the Mantel–Haenszel
    estimate, τ² = max(0, (Q − df)/(Σw − Σw²/Σw)) with w = 1/vᵢ, then the
    inverse-variance random-effects estimate with that τ², z-based CI, no
    prediction interval, I² = (Q − df)/Q."""
    from .iv import fit
    from .mh import mantel_haenszel

    y = np.array([s.yi for s in studies])
    v = np.array([s.vi for s in studies])
    mh = mantel_haenszel(*_counts(studies), measure=measure.name, level=level)
    ok = np.isfinite(mh.yi)
    w = 1 / v[ok]
    denom = float(w.sum() - (w * w).sum() / w.sum())
    tau2 = max(0.0, (mh.q - mh.q_df) / denom) if denom > 0 else 0.0
    f = fit(y, v, None, "DL", "z", level, tau2_ci=False, numerics=numerics, tau2=tau2)
    from .subgroups import pooled_from_fit

    p = pooled_from_fit(f, measure, studies, prediction=False)
    i2_q = i2_from_q(mh.q, mh.q_df)
    return replace(p, q=mh.q, q_df=mh.q_df, q_p=mh.q_p, i2=i2_q, i2_q=i2_q), list(f.notes)
