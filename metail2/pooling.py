"""Pooling: common-effect and random-effects models, and subgroups.

``pool(effects, method, test, by=...)`` is metafor's ``rma`` stage: it takes
the :class:`~metail2.effects.EffectSizes` of a sheet and returns a frozen
:class:`~metail2.results.MetaResult`.
"""
from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np
from scipy.special import chdtrc, fdtrc, ndtr, ndtri, stdtr, stdtrit

from .effects import EffectSizes, Measure, StudyEffect, escalc
from .errors import MetailWarning, Problem, SheetError
from .estimators import TAU2_ESTIMATORS, tau2_qprofile, wls
from .results import GroupEstimate, MetaResult, NaturalScale, Pooled, SubgroupTest

METHODS = ("FE",) + tuple(TAU2_ESTIMATORS)
TESTS = ("z", "hk")
LEVEL = 0.95


# --------------------------------------------------------------------------- back-transformations

def transf_ipft_hm(x: float, ni: Sequence[float]) -> float:
    """Inverse Freeman–Tukey double arcsine with the harmonic mean of the
    sample sizes (Miller 1978; metafor's ``transf.ipft.hm``).

    Notes
    -----
    With n̄ the harmonic mean of nᵢ:
    p = ½ [1 − sgn(cos 2x) √(1 − (sin 2x + (sin 2x − 1/sin 2x)/n̄)²)],
    set to 0 below the transform of p = 0 and to 1 above that of p = 1.
    """
    nhm = 1.0 / float(np.mean(1.0 / np.asarray(ni, dtype=float)))

    def pft(p):
        xx = p * nhm
        return 0.5 * (math.asin(math.sqrt(xx / (nhm + 1))) + math.asin(math.sqrt((xx + 1) / (nhm + 1))))

    if x > pft(1.0):
        return 1.0
    if x < pft(0.0):
        return 0.0
    s = math.sin(2 * x)
    inner = 1 - (s + (s - 1 / s) / nhm) ** 2
    if inner < 0:
        return float("nan")
    return 0.5 * (1 - math.copysign(1.0, math.cos(2 * x)) * math.sqrt(inner))


def to_natural(measure: Measure, x: float | None, ni: Sequence[float] = ()) -> float | None:
    """Back-transform a value on the analysis scale to the natural scale."""
    if x is None or not math.isfinite(x):
        return x
    if measure.natural == "exp":
        return math.exp(x)
    if measure.natural == "expit":
        return 1.0 / (1.0 + math.exp(-x))
    if measure.natural == "ipft":
        return transf_ipft_hm(x, ni)
    return x


def study_ci(measure: Measure, study: StudyEffect, level: float = LEVEL) -> tuple[float, float, float]:
    """A study's estimate and Wald CI, yi ± z·√vi, on the natural scale
    (PFT back-transformed with the study's own n)."""
    h = critical_value(None, level) * math.sqrt(study.vi)
    ni = [study.ni] if study.ni is not None else []
    return tuple(to_natural(measure, x, ni) for x in (study.yi, study.yi - h, study.yi + h))


def _natural(measure: Measure, est, lo, hi, pil, piu, ni) -> NaturalScale:
    f = lambda x: to_natural(measure, x, ni)  # noqa: E731
    return NaturalScale(f(est), f(lo), f(hi), f(pil), f(piu))


def _z_or_t(stat: float, df: float | None) -> float:
    return float(2 * ndtr(-abs(stat))) if df is None else float(2 * stdtr(df, -abs(stat)))


def critical_value(df: float | None, level: float = LEVEL) -> float:
    a = (1 - level) / 2
    return float(-ndtri(a)) if df is None else float(stdtrit(df, 1 - a))


# --------------------------------------------------------------------------- one model

def fit(studies: Sequence[StudyEffect], measure: Measure, method: str = "REML", test: str = "z",
        notes: list[str] | None = None, label: str = "overall") -> Pooled:
    """Fit the intercept-only model to some studies.

    Parameters
    ----------
    studies : sequence of StudyEffect
    measure : Measure
    method : str
        ``FE`` (common effect) or a τ² estimator of :data:`TAU2_ESTIMATORS`.
    test : {"z", "hk"}
        Normal-theory Wald test, or Hartung–Knapp–Sidik–Jonkman (t with k−1 df).
    notes : list, optional
        Collects warnings raised on the way (they are also issued).
    label : str
        Name used in those warnings.

    Returns
    -------
    Pooled

    Notes
    -----
    Weights wᵢ = 1/(vᵢ + τ²); μ̂ = Σwᵢyᵢ/Σwᵢ, Var(μ̂) = 1/Σwᵢ. Under ``hk`` the
    variance is multiplied by s² = Σwᵢ(yᵢ − μ̂)²/(k−1) (Hartung & Knapp 2001;
    Sidik & Jonkman 2002; metafor ``test="knha"``, no truncation).
    Heterogeneity from the common-effect weights 1/vᵢ: Q = Σ(yᵢ − μ̂_FE)²/vᵢ
    on k−1 df. I² (metafor, Higgins & Thompson 2002 eq. 9):
    I² = 100·τ²/(τ² + ṽ) with the typical within-study variance
    ṽ = (k−1)/(Σwᵢ − Σwᵢ²/Σwᵢ), H² = τ²/ṽ + 1; for a common-effect model
    I² = 100·max(0, (Q−df)/Q) and H² = Q/df. ``i2_q`` is always
    100·max(0, (Q−df)/Q) (RevMan, meta). The prediction interval is
    μ̂ ± c·√(Var(μ̂) + τ²), c the normal quantile, or t(k−1) under ``hk``
    (metafor 3.8's ``predict``). A k = 1 fit is a common effect with a z test.
    """
    notes = notes if notes is not None else []

    def note(msg):
        notes.append(msg)
        warnings.warn(msg, MetailWarning, stacklevel=3)

    y = np.array([s.yi for s in studies], dtype=float)
    v = np.array([s.vi for s in studies], dtype=float)
    ni = [s.ni for s in studies if s.ni is not None]
    k = len(y)
    X = np.ones((k, 1))
    common = method == "FE" or k == 1
    if k == 1:
        note(f"{label}: k = 1 ({studies[0].study_id}); reported as a common effect with a z test, "
             "no heterogeneity statistics")
        test_used = "z"
    else:
        test_used = test
    if common:
        tau2 = 0.0
    else:
        t = TAU2_ESTIMATORS[method](y, v, X)
        tau2 = t.tau2
        if t.note:
            note(f"{label}: {t.note}")
    f = wls(y, X, 1.0 / (v + tau2))
    est = float(f.beta[0])
    var = float(f.a_inv[0, 0])
    df = None
    if test_used == "hk":
        if method == "FE":
            note(f"{label}: the Hartung–Knapp adjustment is not meant for a common-effect model")
        s2w = f.rss / (k - 1)
        var *= 0.0 if f.rss <= np.finfo(float).eps else s2w
        df = k - 1
    se = math.sqrt(var)
    crit = critical_value(df)
    stat = est / se if se > 0 else math.copysign(math.inf, est)
    p = _z_or_t(stat, df)

    # heterogeneity, from the common-effect weights
    if k > 1:
        ffe = wls(y, X, 1.0 / v)
        q = max(0.0, ffe.rss)
        q_df = k - 1
        q_p = float(chdtrc(q_df, q))
        i2_q = 100 * max(0.0, (q - q_df) / q) if q > 0 else 0.0
        if method == "FE":
            i2, h2 = i2_q, q / q_df
        else:
            tr_p = float(ffe.w.sum() - (ffe.w ** 2).sum() / ffe.w.sum())
            vt = q_df / tr_p
            i2, h2 = 100 * tau2 / (vt + tau2), tau2 / vt + 1
    else:
        q, q_df, q_p, i2, i2_q, h2 = 0.0, 0, 1.0, 0.0, 0.0, 1.0

    ci = None
    pil = piu = None
    if not common:
        ci = tau2_qprofile(y, v, X, tau2, LEVEL)
        if ci.upper_sign == ">":
            note(f"{label}: upper bound of the τ² CI lies beyond {ci.tau2_max:g} (the search limit) "
                 f"and is reported as {ci.tau2_max:g}")
        half = crit * math.sqrt(var + tau2)
        pil, piu = est - half, est + half
    lo, hi = est - crit * se, est + crit * se
    w = f.w / f.w.sum() * 100
    return Pooled(
        k=k, model="common" if common else "random", method="FE" if common else method, test=test_used,
        estimate=est, se=se, ci_lower=lo, ci_upper=hi, stat=stat, p=p, df=df,
        tau2=tau2, tau2_ci=ci, i2=i2, i2_q=i2_q, h2=h2, q=q, q_df=q_df, q_p=q_p,
        pi_lower=pil, pi_upper=piu,
        natural=_natural(measure, est, lo, hi, pil, piu, ni),
        weights=tuple(float(x) for x in w),
        study_ids=tuple(s.study_id for s in studies),
    )


# --------------------------------------------------------------------------- subgroups

def _group_rows(effects: EffectSizes, by: str) -> dict[str, list[StudyEffect]]:
    sheet = effects.sheet
    if by not in sheet.columns:
        raise SheetError([Problem(sheet.path, 1, None, by, f"--by column {by!r} is not in the sheet "
                                  f"(columns: {', '.join(sheet.columns)})")])
    groups: dict[str, list[StudyEffect]] = {}
    for s in effects.studies:
        label = s.row.text(by) or "(missing)"
        groups.setdefault(label, []).append(s)
    return {g: groups[g] for g in sorted(groups)}


def _subgroup_test_separate(subs: dict[str, Pooled]) -> SubgroupTest:
    """Q between subgroup estimates: Q = Σ w_g (μ̂_g − μ̄)², w_g = 1/SE_g²,
    df = G − 1 (Borenstein et al. 2009, ch. 19; metafor: an FE model on the
    subgroup estimates)."""
    est = np.array([g.estimate for g in subs.values()])
    w = 1 / np.array([g.se for g in subs.values()]) ** 2
    mu = float(np.dot(w, est) / w.sum())
    q = float(np.dot(w, (est - mu) ** 2))
    df = len(subs) - 1
    return SubgroupTest(q=q, df=df, p=float(chdtrc(df, q)), statistic="chisq")


def _fit_common_tau2(effects: EffectSizes, groups: dict[str, list[StudyEffect]], method: str, test: str,
                     notes: list[str]):
    """One model with the subgroup factor (metafor ``mods = ~ factor(by)``).

    Notes
    -----
    X holds one indicator column per subgroup; τ² is the residual
    heterogeneity from the chosen estimator on that X. The test for subgroup
    differences is the Wald omnibus test of equal subgroup means,
    QM = (Lβ̂)ᵀ(L V Lᵀ)⁻¹(Lβ̂) with L the G−1 contrasts against the first
    subgroup, χ²(G−1); under ``hk`` V is scaled by s² = Σwᵢeᵢ²/(k−G) and
    F = QM/(G−1) on (G−1, k−G) df (metafor's QM).
    """
    measure = effects.measure
    labels = list(groups)
    studies = [s for g in labels for s in groups[g]]
    y = np.array([s.yi for s in studies])
    v = np.array([s.vi for s in studies])
    k, G = len(y), len(labels)
    if k - G < 1:
        raise SheetError([Problem(effects.sheet.path, None, None, None,
                                  f"--subgroup-tau2 common needs more studies ({k}) than subgroups ({G})")])
    col = {g: i for i, g in enumerate(labels)}
    X = np.zeros((k, G))
    X[np.arange(k), [col[g] for g in labels for _ in groups[g]]] = 1.0
    if method == "FE":
        tau2 = 0.0
    else:
        t = TAU2_ESTIMATORS[method](y, v, X)
        tau2 = t.tau2
        if t.note:
            notes.append(f"subgroup model: {t.note}")
            warnings.warn(notes[-1], MetailWarning, stacklevel=3)
    f = wls(y, X, 1.0 / (v + tau2))
    vb = f.a_inv.copy()
    df = None
    if test == "hk":
        vb *= 0.0 if f.rss <= np.finfo(float).eps else f.rss / (k - G)
        df = k - G
    crit = critical_value(df)
    subs = {}
    for g, i in col.items():
        est, se = float(f.beta[i]), math.sqrt(vb[i, i])
        lo, hi = est - crit * se, est + crit * se
        stat = est / se
        ni = [s.ni for s in groups[g] if s.ni is not None]
        subs[g] = GroupEstimate(k=len(groups[g]), estimate=est, se=se, ci_lower=lo, ci_upper=hi,
                                stat=stat, p=_z_or_t(stat, df), df=df,
                                natural=_natural(measure, est, lo, hi, None, None, ni),
                                study_ids=tuple(s.study_id for s in groups[g]))
    L = np.zeros((G - 1, G))
    L[:, 0] = -1
    L[np.arange(G - 1), np.arange(1, G)] = 1
    lb = L @ f.beta
    qm = float(lb @ np.linalg.solve(L @ vb @ L.T, lb))
    if test == "hk":
        fstat = qm / (G - 1)
        st = SubgroupTest(q=fstat, df=G - 1, p=float(fdtrc(G - 1, k - G, fstat)), statistic="F", df2=k - G)
    else:
        st = SubgroupTest(q=qm, df=G - 1, p=float(chdtrc(G - 1, qm)), statistic="chisq")
    return subs, st, tau2


# --------------------------------------------------------------------------- the verb

def pool(effects, measure: str | None = None, method: str = "REML", test: str = "z", *,
         by: str | None = None, subgroup_tau2: str = "separate", drop00: bool = False) -> MetaResult:
    """Pool effect sizes with a common-effect or random-effects model.

    Parameters
    ----------
    effects : EffectSizes, or a Sheet / path / DataFrame with ``measure``
        The effect-size stage's value (from :func:`metail2.escalc`), or a sheet
        to compute it from.
    measure : str, optional
        Needed only when ``effects`` is a sheet.
    method : str
        ``FE`` or a τ² estimator: ``REML`` (default), ``DL``, ``ML``, ``PM``,
        ``HS``, ``SJ``, ``EB``, ``HE``.
    test : {"z", "hk"}
        Inference for the pooled estimate: normal (``z``) or
        Hartung–Knapp–Sidik–Jonkman (``hk``).
    by : str, optional
        A sheet column defining subgroups (e.g. ``route``).
    subgroup_tau2 : {"separate", "common"}
        ``separate``: each subgroup fitted alone (its own τ²), test for
        subgroup differences = Q between subgroup estimates on G−1 df;
        ``common``: one model with the subgroup factor and a common residual
        τ², test = omnibus QM (F under ``hk``).
    drop00 : bool
        Passed to :func:`~metail2.effects.escalc` when ``effects`` is a sheet.

    Returns
    -------
    MetaResult
        The overall fit is always the model without subgroups.

    Raises
    ------
    SheetError
        Bad data or arguments (every problem at once).
    """
    if not isinstance(effects, EffectSizes):
        if measure is None:
            raise SheetError([Problem("<arguments>", None, None, "measure", "a measure is needed to pool a sheet")])
        effects = escalc(effects, measure, drop00=drop00)
    method = method.upper()
    problems = []
    if method not in METHODS:
        problems.append(Problem("<arguments>", None, None, "method",
                                f"unknown or unavailable method {method!r}; choose from {', '.join(METHODS)}"))
    if test not in TESTS:
        problems.append(Problem("<arguments>", None, None, "test", f"unknown test {test!r}; choose z or hk"))
    if subgroup_tau2 not in ("separate", "common"):
        problems.append(Problem("<arguments>", None, None, "subgroup_tau2",
                                f"unknown subgroup_tau2 {subgroup_tau2!r}; choose separate or common"))
    if problems:
        raise SheetError(problems)

    notes: list[str] = []
    overall = fit(effects.studies, effects.measure, method, test, notes, "overall")
    subgroups = None
    st = None
    tau2_res = None
    if by is not None:
        groups = _group_rows(effects, by)
        if "(missing)" in groups:
            notes.append(f"{len(groups['(missing)'])} pooled row(s) have an empty {by!r}: grouped as '(missing)'")
            warnings.warn(notes[-1], MetailWarning, stacklevel=2)
        if subgroup_tau2 == "separate":
            subgroups = {g: fit(ss, effects.measure, method, test, notes, f"{by} = {g}") for g, ss in groups.items()}
            st = _subgroup_test_separate(subgroups) if len(groups) > 1 else None
        else:
            if len(groups) < 2:
                raise SheetError([Problem(effects.sheet.path, None, None, by,
                                          f"--subgroup-tau2 common needs at least 2 subgroups; {by!r} has {len(groups)}")])
            subgroups, st, tau2_res = _fit_common_tau2(effects, groups, method, test, notes)
        if st is None:
            notes.append(f"only one subgroup in {by!r}: no test for subgroup differences")
            warnings.warn(notes[-1], MetailWarning, stacklevel=2)
    return MetaResult(
        measure=effects.measure, method=method, test=test, effects=effects, overall=overall,
        by=by, subgroup_tau2=subgroup_tau2 if by else None,
        subgroups=subgroups, subgroup_test=st, tau2_residual=tau2_res, warnings=tuple(notes),
    )
