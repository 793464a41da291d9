"""What every sensitivity analysis starts from: the studies' yᵢ, vᵢ and ids,
the measure, and the model (method, test, level), taken from a pooled result,
from effect sizes, or from two arrays."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..effects import EffectSizes, Measure
from ..models.inference import LEVEL
from ..models.iv import METHODS, TESTS


@dataclass(frozen=True)
class Model:
    """The model every refit of a sensitivity analysis uses.

    Attributes
    ----------
    measure : Measure or None
        None for bare arrays.
    method : str
        ``FE`` or a τ² estimator.
    test : {"z", "hk"}
    level : float
    convention : {"metail2", "metafor"}
        Exact numerics, or metafor's iteration and stopping rule
        (:mod:`metail2.models.conventions`).
    """

    measure: Measure | None
    method: str
    test: str
    level: float = LEVEL
    convention: str = "metail2"

    @property
    def numerics(self):
        from ..models.conventions import get_convention

        return get_convention(self.convention).numerics

    def head(self, analysis: str) -> dict:
        """The fields every analysis's JSON starts with."""
        d = {"analysis": analysis, "measure": None if self.measure is None else self.measure.name,
             "method": self.method, "test": self.test, "convention": self.convention}
        if self.level != LEVEL:
            d["level"] = self.level
        return d


@dataclass(frozen=True)
class Studies:
    """The data of a sensitivity analysis and its model."""

    ids: tuple[str, ...]
    y: np.ndarray
    v: np.ndarray
    model: Model
    effects: EffectSizes | None = None

    @property
    def k(self) -> int:
        return len(self.y)

    def fit_args(self) -> dict:
        """Keyword arguments of the batch engine for this model."""
        m = self.model
        return {"method": m.method, "test": m.test, "level": m.level, "numerics": m.numerics}


def studies(data, method: str | None = None, test: str | None = None, level: float | None = None,
            convention: str | None = None, *, min_k: int = 2, what: str = "this analysis") -> Studies:
    """Resolve ``data``: a :class:`~metail2.models.results.MetaResult` (its
    studies, method, test, level and convention, all studies when it has
    subgroups), an :class:`~metail2.effects.EffectSizes` (default REML, z,
    0.95, the exact convention), or a pair ``(yi, vi)`` of arrays. Explicit
    arguments win."""
    effects = measure = None
    if isinstance(data, EffectSizes):
        effects = data
    elif hasattr(data, "effects") and isinstance(data.effects, EffectSizes):   # a MetaResult
        effects = data.effects
        method = method or data.method
        test = test or data.test
        level = level or getattr(data, "level", LEVEL)
        convention = convention or getattr(data, "convention", None)
    if effects is not None:
        measure = effects.measure
        ids = tuple(s.study_id for s in effects.studies)
        y = np.array([s.yi for s in effects.studies], dtype=float)
        v = np.array([s.vi for s in effects.studies], dtype=float)
    else:
        try:
            y, v = (np.asarray(a, dtype=float).reshape(-1) for a in data)
        except (TypeError, ValueError):
            raise TypeError("give a pooled result, EffectSizes, or a pair (yi, vi) of arrays") from None
        if len(y) != len(v):
            raise ValueError(f"yi and vi differ in length ({len(y)} and {len(v)})")
        ids = tuple(str(i) for i in range(1, len(y) + 1))
    method = (method or "REML").upper()
    test = test or "z"
    level = LEVEL if level is None else level
    if method not in METHODS:
        raise ValueError(f"{what} needs FE or a τ² estimator ({', '.join(METHODS)}); got {method!r}")
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; choose z or hk")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1) (is {level!r})")
    convention = (convention or "metail2").lower()
    if convention not in ("metail2", "metafor"):
        raise ValueError(f"{what} follows the metail2 or the metafor convention, not {convention!r}")
    if len(y) < min_k:
        raise ValueError(f"{what} needs at least {min_k} studies (k = {len(y)})")
    if not (np.isfinite(y).all() and np.isfinite(v).all() and (v > 0).all()):
        raise ValueError("yi must be finite and vi finite and > 0")
    return Studies(ids, y, v, Model(measure, method, test, level, convention), effects)


def num(x):
    """A JSON number: None for NaN or infinity."""
    x = float(x)
    return x if math.isfinite(x) else None


def nums(a) -> list:
    return [num(x) for x in np.asarray(a, dtype=float)]


def fit_fields(b, j=None) -> dict:
    """The per-fit fields of a batch result as JSON lists (or one fit's values)."""
    names = ("k", "estimate", "se", "stat", "p", "ci_lower", "ci_upper", "tau2", "i2", "h2", "q", "q_p",
             "pi_lower", "pi_upper")
    if j is None:
        return {n: (b.k.tolist() if n == "k" else nums(getattr(b, n))) for n in names}
    return {n: (int(b.k[j]) if n == "k" else num(getattr(b, n)[j])) for n in names}
