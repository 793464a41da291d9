"""Result values of the pooling stage: frozen, named, typed.

``MetaResult.to_dict()`` is the result JSON of docs/design.md (``metail2 pool …
--json``); ``str(result)`` is the terminal table and ``_repr_html_`` the same
table in Jupyter.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from .._display import show

if TYPE_CHECKING:  # pragma: no cover
    from ..effects import EffectSizes, Measure
    from .tau2 import Tau2CI


def _num(x):
    """JSON number: None for missing or non-finite values."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class NaturalScale:
    """Estimate, CI and PI back-transformed to the natural scale
    (exp for ratios, expit for PLO, the harmonic-mean inverse for PFT,
    unchanged otherwise)."""

    estimate: float
    ci_lower: float
    ci_upper: float
    pi_lower: float | None = None
    pi_upper: float | None = None

    def to_dict(self, with_pi: bool = True) -> dict:
        d = {"estimate": _num(self.estimate), "ci_lower": _num(self.ci_lower), "ci_upper": _num(self.ci_upper)}
        if with_pi:
            d.update(pi_lower=_num(self.pi_lower), pi_upper=_num(self.pi_upper))
        return d


@dataclass(frozen=True)
class Pooled:
    """One fitted model without moderators (overall, or one subgroup).

    Attributes
    ----------
    k : int
    model : {"random", "common"}
    method : str
        τ² estimator, or ``FE`` for a common-effect fit (also used for k = 1).
    test : {"z", "hk"}
    estimate, se, ci_lower, ci_upper : float
        Pooled estimate on the analysis scale, its SE and 95% CI.
    stat, p : float
        z (or t under ``hk``) statistic and two-sided p-value.
    df : int or None
        Degrees of freedom of the t test (``None`` for z).
    tau2 : float
    tau2_ci : Tau2CI or None
        Q-profile 95% CI (``None`` for common-effect fits).
    i2 : float
        I² in %, metafor's definition from τ² and the typical within-study
        variance (for a common-effect fit: from Q).
    i2_q : float
        I² in % as 100·(Q − df)/Q, truncated at 0 (RevMan, meta).
    h2 : float
    q, q_df, q_p : float, int, float
        Cochran's Q, its df and p-value.
    pi_lower, pi_upper : float or None
        95% prediction interval (``None`` for common-effect fits).
    natural : NaturalScale
    weights : tuple of float
        Each study's weight in this fit, in %.
    study_ids : tuple of str
    extra : tuple of (name, value)
        Statistics of a particular method, e.g. the Cochran–Mantel–Haenszel
        test (``cmh``, ``cmh_p``) of a Mantel–Haenszel OR.
    """

    k: int
    model: str
    method: str
    test: str
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    stat: float
    p: float
    df: int | None
    tau2: float
    tau2_ci: "Tau2CI | None"
    i2: float
    i2_q: float
    h2: float
    q: float
    q_df: int
    q_p: float
    pi_lower: float | None
    pi_upper: float | None
    natural: NaturalScale
    weights: tuple[float, ...]
    study_ids: tuple[str, ...]
    extra: tuple[tuple[str, float | None], ...] = ()

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2)

    def to_dict(self) -> dict:
        return {
            "k": self.k, "estimate": _num(self.estimate), "se": _num(self.se),
            "ci_lower": _num(self.ci_lower), "ci_upper": _num(self.ci_upper),
            "stat": _num(self.stat), "p": _num(self.p),
            "tau2": _num(self.tau2),
            "tau2_ci": None if self.tau2_ci is None else [_num(self.tau2_ci.lower), _num(self.tau2_ci.upper)],
            "i2": _num(self.i2), "i2_q": _num(self.i2_q), "h2": _num(self.h2),
            "q": _num(self.q), "q_df": self.q_df, "q_p": _num(self.q_p),
            "pi_lower": _num(self.pi_lower), "pi_upper": _num(self.pi_upper),
            "natural": self.natural.to_dict(),
            **{k: _num(v) for k, v in self.extra},
        }


@dataclass(frozen=True)
class GroupEstimate:
    """A subgroup's estimate from the one model with the subgroup factor
    (``subgroup_tau2="common"``): no heterogeneity statistics of its own."""

    k: int
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    stat: float
    p: float
    df: int | None
    natural: NaturalScale
    study_ids: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "k": self.k, "estimate": _num(self.estimate), "se": _num(self.se),
            "ci_lower": _num(self.ci_lower), "ci_upper": _num(self.ci_upper),
            "stat": _num(self.stat), "p": _num(self.p),
            "natural": self.natural.to_dict(with_pi=False),
        }


@dataclass(frozen=True)
class SubgroupTest:
    """Test for subgroup differences.

    ``statistic`` is ``"chisq"`` (``q`` on ``df``) or ``"F"`` (``q`` is the F
    value on ``df`` and ``df2``). ``unclassified`` names the subgroups left
    out of the test (an unknown grouping value: empty, ``NA``, "not reported").
    """

    q: float
    df: int
    p: float
    statistic: str = "chisq"
    df2: int | None = None
    unclassified: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = {"q": _num(self.q), "df": self.df, "p": _num(self.p), "statistic": self.statistic}
        if self.df2 is not None:
            d["df2"] = self.df2
        if self.unclassified:
            d["unclassified"] = list(self.unclassified)
        return d


@dataclass(frozen=True)
class MetaResult:
    """The pooling stage's value.

    Attributes
    ----------
    measure : Measure
    method, test : str
    effects : EffectSizes
        The studies pooled and the rows excluded, with their sources.
    overall : Pooled
        The model without subgroups.
    by : str or None
    subgroup_tau2 : {"separate", "common"} or None
    subgroups : Mapping[str, Pooled | GroupEstimate] or None
        In sorted order of the subgroup labels (as R's factor levels).
    subgroup_test : SubgroupTest or None
    tau2_residual : float or None
        Residual τ² of the model with the subgroup factor (``common`` only).
    warnings : tuple of str
        Everything the reader should know (k = 1, fallbacks, truncated bounds).
    level : float
        Confidence level of every interval (recorded in the JSON when not 0.95).
    convention : str
        The convention the numbers follow (:mod:`metail2.models.conventions`).
    """

    measure: "Measure"
    method: str
    test: str
    effects: "EffectSizes"
    overall: Pooled
    by: str | None
    subgroup_tau2: str | None
    subgroups: Mapping[str, "Pooled | GroupEstimate"] | None
    subgroup_test: SubgroupTest | None
    tau2_residual: float | None
    warnings: tuple[str, ...]
    level: float = 0.95
    convention: str = "metail2"

    def to_dict(self) -> dict:
        """The result JSON of docs/design.md (values on the analysis scale)."""
        d = {
            "measure": self.measure.name, "method": self.method, "test": self.test,
            "convention": self.convention,
            "studies": [s.to_dict() for s in self.effects.studies],
            "excluded": [e.to_dict() for e in self.effects.excluded],
            "overall": self.overall.to_dict(),
        }
        if self.level != 0.95:
            d["level"] = self.level
        d.update(dict(self.effects.selection))
        if self.by is not None:
            d["by"] = self.by
            d["subgroup_tau2"] = self.subgroup_tau2
            d["subgroups"] = {g: s.to_dict() for g, s in self.subgroups.items()}
            d["subgroup_test"] = None if self.subgroup_test is None else self.subgroup_test.to_dict()
            if self.subgroup_tau2 == "common":
                d["tau2_residual"] = _num(self.tau2_residual)
        return d

    def __str__(self) -> str:
        return show(self, "text")

    def _repr_html_(self) -> str:
        return show(self, "html")


