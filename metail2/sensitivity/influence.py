"""Influence diagnostics of an intercept-only model (metafor's ``influence.rma.uni``),
from the full fit and the k leave-one-out fits of the batch engine."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import chdtr

from .._display import show
from ..models.batch import BatchResult, pool_many
from ._inputs import Model, nums, studies

EPS = float(np.finfo(float).eps)


@dataclass(frozen=True)
class Influence:
    """Case diagnostics, one value per study (study order).

    Attributes
    ----------
    study_ids : tuple of str
    rstudent : ndarray
        Externally studentised residuals: (yᵢ − μ̂₍₋ᵢ₎) / √(s²₍₋ᵢ₎(vᵢ + τ̂²₍₋ᵢ₎) + Var(μ̂₍₋ᵢ₎)).
    dffits : ndarray
        (μ̂ − μ̂₍₋ᵢ₎) / √(s²₍₋ᵢ₎ hᵢ (τ̂²₍₋ᵢ₎ + vᵢ)).
    cook_d : ndarray
        (μ̂ − μ̂₍₋ᵢ₎)² / Var(μ̂).
    cov_r : ndarray
        Var(μ̂₍₋ᵢ₎) / Var(μ̂).
    tau2_del, qe_del : ndarray
        τ̂² and Cochran's Q without study i.
    hat : ndarray
        hᵢ = wᵢ/Σw, wᵢ = 1/(vᵢ + τ̂²).
    weight : ndarray
        100·hᵢ (%).
    dfbetas : ndarray
        (μ̂ − μ̂₍₋ᵢ₎) / √(s²₍₋ᵢ₎ / Σⱼ 1/(vⱼ + τ̂²₍₋ᵢ₎)).
    influential : ndarray of bool
        metafor's rule: |DFFITS| > 3√(1/(k−1)), or P(χ²₁ ≤ Cook's D) > 0.5,
        or hᵢ > 3/k, or |DFBETAS| > 1.
    full : BatchResult
        The fit to all studies.
    deleted : BatchResult
        The k leave-one-out fits.
    y, v : ndarray
        The studies' effect sizes and variances (for the Baujat plot).
    model : Model

    Notes
    -----
    s²₍₋ᵢ₎ is 1 under the z test and the Knapp–Hartung factor of the
    leave-one-out fit under ``hk``; variances are those of each fit (scaled
    by its s²), as metafor's.
    """

    study_ids: tuple[str, ...]
    rstudent: np.ndarray
    dffits: np.ndarray
    cook_d: np.ndarray
    cov_r: np.ndarray
    tau2_del: np.ndarray
    qe_del: np.ndarray
    hat: np.ndarray
    weight: np.ndarray
    dfbetas: np.ndarray
    influential: np.ndarray
    full: BatchResult
    deleted: BatchResult
    y: np.ndarray
    v: np.ndarray
    model: Model

    @property
    def k(self) -> int:
        return len(self.study_ids)

    def __str__(self) -> str:
        return show(self, "text")

    def _repr_html_(self) -> str:
        return show(self, "html")

    def to_dict(self) -> dict:
        """The JSON of ``metail2 sensitivity --influence``."""
        d = self.model.head("influence")
        d["study_id"] = list(self.study_ids)
        for name in ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat", "weight", "dfbetas"):
            d[name] = nums(getattr(self, name))
        d["influential"] = [bool(x) for x in self.influential]
        d["full"] = {"k": self.k, "estimate": float(self.full.estimate[0]), "tau2": float(self.full.tau2[0]),
                     "q": float(self.full.q[0])}
        return d

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({"study_id": list(self.study_ids), **{n: getattr(self, n) for n in (
            "rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat", "weight", "dfbetas", "influential")}})


def _s2(b: BatchResult) -> np.ndarray:
    """Each fit's Knapp–Hartung factor s² (1 under z, and for k = 1 fits)."""
    return np.where(np.isnan(b.df), 1.0, b.se ** 2 * b.sum_w)


def influence(data, method: str | None = None, test: str | None = None, level: float | None = None,
              convention: str | None = None) -> Influence:
    """Influence diagnostics (metafor 3.8 ``influence.rma.uni``) of the
    intercept-only model.

    Parameters
    ----------
    data : MetaResult, EffectSizes or (yi, vi)
    method, test, level, convention : optional

    Returns
    -------
    Influence

    Examples
    --------
    >>> r = influence(([0.1, 0.3, 0.5, 0.2, 1.5], [0.01, 0.02, 0.04, 0.03, 0.02]), method="DL")
    >>> [round(float(x), 3) for x in r.rstudent], r.influential.tolist()
    ([-0.736, -0.351, -0.033, -0.533, 7.176], [False, False, False, False, True])
    """
    s = studies(data, method, test, level, convention, what="influence diagnostics")
    k = s.k
    mask = np.concatenate([np.ones((k, 1), dtype=bool), ~np.eye(k, dtype=bool)], axis=1)
    both = pool_many(np.broadcast_to(s.y[:, None], mask.shape), s.v, mask, **s.fit_args())
    full, dele = both.take([0]), both.take(np.arange(1, k + 1))
    beta, vb, tau2 = full.estimate[0], full.se[0] ** 2, full.tau2[0]
    w = 1.0 / (s.v + tau2)
    hat = w / w.sum()
    s2 = _s2(dele)
    bdel, vdel, tdel = dele.estimate, dele.se ** 2, dele.tau2
    resid = s.y - bdel
    resid[np.abs(resid) < 100 * EPS] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        rstudent = resid / np.sqrt(s.v * s2 + vdel + tdel * s2)
        dfb = beta - bdel
        dffits = dfb / np.sqrt(s2 * hat * (tdel + s.v))
        vb_del = 1.0 / (1.0 / (s.v[None, :] + tdel[:, None])).sum(axis=1)
        dfbetas = dfb / np.sqrt(s2 * vb_del)
        cook = dfb ** 2 / vb
        cov_r = vdel / vb
    infl = (np.abs(dffits) > 3 * np.sqrt(1 / (k - 1))) | (chdtr(1, cook) > 0.5) | (hat > 3 / k) | (np.abs(dfbetas) > 1)
    return Influence(s.ids, rstudent, dffits, cook, cov_r, tdel.copy(), dele.q.copy(), hat, 100 * hat, dfbetas,
                     infl & ~np.isnan(dffits), full, dele, s.y, s.v, s.model)
