"""Subgroups: separate fits per subgroup, or one model with the subgroup
factor and a common residual τ² (a meta-regression on indicator columns)."""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
from scipy.special import chdtrc

from ..effects import EffectSizes, Measure, StudyEffect
from ..errors import MetailWarning, Problem, SheetError
from .inference import LEVEL, wald_test
from .iv import IVFit, fit
from .numerics import EXACT, Numerics
from .results import GroupEstimate, NaturalScale, Pooled, SubgroupTest

MISSING_GROUP = "(missing)"
#: Grouping cells that say a study's group is unknown (compared without case
#: and surrounding whitespace; an empty cell is :data:`MISSING_GROUP`): such
#: studies are drawn and pooled as their own subgroup but left out of the test
#: for subgroup differences, unless ``include_unclassified``.
UNCLASSIFIED = ("", "na", "n/a", "nr", "not reported", "not stated", "unknown", "unclear", "missing")


def is_unclassified(label: str) -> bool:
    """True for a subgroup label that says the group is unknown."""
    return label == MISSING_GROUP or label.strip().lower() in UNCLASSIFIED


def natural_scale(measure: Measure, est, lo, hi, pil=None, piu=None, ni=()) -> NaturalScale:
    """The estimate, CI and PI back-transformed (:func:`metail2.effects.to_natural`)."""
    from ..effects import to_natural

    f = lambda x: to_natural(measure, x, ni)  # noqa: E731
    return NaturalScale(f(est), f(lo), f(hi), f(pil), f(piu))


def _note(notes: list[str], msg: str) -> None:
    notes.append(msg)
    warnings.warn(msg, MetailWarning, stacklevel=4)


def pooled(studies: Sequence[StudyEffect], measure: Measure, method: str = "REML", test: str = "z",
           notes: list[str] | None = None, label: str = "overall", level: float = LEVEL, *,
           numerics: Numerics = EXACT, prediction: bool = True, hk_adhoc: bool = False) -> Pooled:
    """Fit the intercept-only model to some studies (:func:`metail2.models.iv.fit`)
    and wrap it as a :class:`Pooled`; the kernel's notes become warnings named by ``label``."""
    notes = notes if notes is not None else []
    k = len(studies)
    if k == 1:
        _note(notes, f"{label}: k = 1 ({studies[0].study_id}); reported as a common effect with a z test, "
              "no heterogeneity statistics")
    f = fit(np.array([s.yi for s in studies], dtype=float), np.array([s.vi for s in studies], dtype=float),
            None, method, test, level, numerics=numerics, hk_adhoc=hk_adhoc)
    for n in f.notes:
        _note(notes, f"{label}: {n}")
    return pooled_from_fit(f, measure, studies, prediction)


def pooled_from_fit(f: IVFit, measure: Measure, studies: Sequence[StudyEffect], prediction: bool = True) -> Pooled:
    """A :class:`Pooled` from an intercept-only :class:`IVFit` (without the
    prediction interval when ``prediction`` is false, as RevMan 5)."""
    pil, piu = (f.pi_lower, f.pi_upper) if prediction else (None, None)
    est, se = float(f.beta[0]), float(f.se[0])
    lo, hi = float(f.ci_lower[0]), float(f.ci_upper[0])
    ni = [s.ni for s in studies if s.ni is not None]
    return Pooled(
        k=f.k, model="common" if f.common else "random", method=f.method, test=f.test,
        estimate=est, se=se, ci_lower=lo, ci_upper=hi, stat=float(f.stat[0]), p=float(f.pval[0]), df=f.df,
        tau2=f.tau2, tau2_ci=f.tau2_ci, i2=f.i2, i2_q=f.i2_q, h2=f.h2, q=f.q, q_df=f.q_df, q_p=f.q_p,
        pi_lower=pil, pi_upper=piu,
        natural=natural_scale(measure, est, lo, hi, pil, piu, ni),
        weights=tuple(float(x) for x in f.weights),
        study_ids=tuple(s.study_id for s in studies),
    )


def group_rows(effects: EffectSizes, by: str) -> dict[str, list[StudyEffect]]:
    """Studies by the value of column ``by``, levels in sorted order (R's factor levels)."""
    sheet = effects.sheet
    if by not in sheet.columns:
        raise SheetError([Problem(sheet.path, 1, None, by, f"--by column {by!r} is not in the sheet "
                                  f"(columns: {', '.join(sheet.columns)})")])
    groups: dict[str, list[StudyEffect]] = {}
    for s in effects.studies:
        groups.setdefault(s.row.text(by) or MISSING_GROUP, []).append(s)
    return {g: groups[g] for g in sorted(groups)}


def subgroup_test_separate(subs: dict[str, Pooled], exclude: Sequence[str] = ()) -> SubgroupTest | None:
    """Q between subgroup estimates: Q = Σ w_g (μ̂_g − μ̄)², w_g = 1/SE_g²,
    df = G − 1 (Borenstein et al. 2009, ch. 19; metafor: an FE model on the
    subgroup estimates), over the subgroups not in ``exclude`` (None when
    fewer than two remain); the excluded ones are named in ``unclassified``."""
    kept = [g for name, g in subs.items() if name not in exclude]
    if len(kept) < 2:
        return None
    est = np.array([g.estimate for g in kept])
    w = 1 / np.array([g.se for g in kept]) ** 2
    mu = float(np.dot(w, est) / w.sum())
    q = float(np.dot(w, (est - mu) ** 2))
    df = len(kept) - 1
    return SubgroupTest(q=q, df=df, p=float(chdtrc(df, q)), statistic="chisq",
                        unclassified=tuple(g for g in subs if g in exclude))


def fit_common_tau2(effects: EffectSizes, groups: dict[str, list[StudyEffect]], method: str, test: str,
                    notes: list[str], level: float = LEVEL, numerics: Numerics = EXACT, hk_adhoc: bool = False,
                    exclude: Sequence[str] = ()):
    """One model with the subgroup factor (metafor ``mods = ~ factor(by)``).

    Notes
    -----
    X holds one indicator column per subgroup; τ² is the residual
    heterogeneity from the chosen estimator on that X (the kernel
    :func:`~metail2.models.iv.fit`). The test for subgroup differences is the
    Wald omnibus test of equal subgroup means, QM = (Lβ̂)ᵀ(L V Lᵀ)⁻¹(Lβ̂) with L
    the G−1 contrasts against the first subgroup, χ²(G−1); under ``hk`` V is
    scaled by s² = Σwᵢeᵢ²/(k−G) and F = QM/(G−1) on (G−1, k−G) df
    (metafor's QM). Subgroups in ``exclude`` (unknown groups) keep their own
    mean in the model (and so inform τ²) but enter no contrast: the test is
    then among the other subgroups (None when fewer than two remain).
    """
    measure = effects.measure
    labels = list(groups)
    studies = [s for g in labels for s in groups[g]]
    k, G = len(studies), len(labels)
    if k - G < 1:
        raise SheetError([Problem(effects.sheet.path, None, None, None,
                                  f"--subgroup-tau2 common needs more studies ({k}) than subgroups ({G})")])
    X = np.zeros((k, G))
    X[np.arange(k), [i for i, g in enumerate(labels) for _ in groups[g]]] = 1.0
    f = fit(np.array([s.yi for s in studies]), np.array([s.vi for s in studies]), X, method, test, level,
            tau2_ci=False, numerics=numerics, hk_adhoc=hk_adhoc)
    for n in f.notes:
        _note(notes, f"subgroup model: {n}")
    subs = {}
    for i, g in enumerate(labels):
        est, se = float(f.beta[i]), float(f.se[i])
        lo, hi = float(f.ci_lower[i]), float(f.ci_upper[i])
        ni = [s.ni for s in groups[g] if s.ni is not None]
        subs[g] = GroupEstimate(k=len(groups[g]), estimate=est, se=se, ci_lower=lo, ci_upper=hi,
                                stat=float(f.stat[i]), p=float(f.pval[i]), df=f.df,
                                natural=natural_scale(measure, est, lo, hi, None, None, ni),
                                study_ids=tuple(s.study_id for s in groups[g]))
    kept = [i for i, g in enumerate(labels) if g not in exclude]
    if len(kept) < 2:
        return subs, None, f.tau2
    L = np.zeros((len(kept) - 1, G))
    L[:, kept[0]] = -1
    L[np.arange(len(kept) - 1), kept[1:]] = 1
    w = wald_test(f.beta, f.vcov, L, f.df)
    st = SubgroupTest(q=w.stat, df=w.df, p=w.p, statistic=w.statistic, df2=w.df2,
                      unclassified=tuple(g for g in labels if g in exclude))
    return subs, st, f.tau2


__all__ = ["pooled", "pooled_from_fit", "group_rows", "subgroup_test_separate", "fit_common_tau2",
           "natural_scale", "MISSING_GROUP", "UNCLASSIFIED", "is_unclassified"]
