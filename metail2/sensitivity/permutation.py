"""Permutation test of the pooled effect (metafor's ``permutest`` for a model
without moderators): the signs of the yᵢ flipped, all 2^k ways (exact) or N
random ways, and the model refitted each time on the batch engine."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._display import show
from ..models.batch import pool_many
from ._inputs import Model, studies

#: metafor's tolerance when comparing permuted statistics with the observed one.
COMPTOL = math.sqrt(np.finfo(float).eps)
#: An exact test enumerates at most 2^MAX_EXACT_K sign patterns.
MAX_EXACT_K = 24
#: Sign patterns refitted per chunk.
CHUNK = 16384


@dataclass(frozen=True)
class Permutation:
    """A permutation test of the pooled effect.

    Attributes
    ----------
    exact : bool
        All 2^k sign patterns (else ``iterations`` random ones, the first
        being the observed data, as metafor does).
    iterations : int
    seed : int or None
    stat : float
        The observed z (or t) statistic.
    estimate : float
        The observed pooled estimate.
    p : float
        Two-sided permutation p-value: the share of patterns with
        |stat| ≥ |observed stat| − √ε (metafor's ``comptol``).
    distribution : ndarray
        The statistic under every pattern (the observed one first).
    model : Model
    """

    exact: bool
    iterations: int
    seed: int | None
    stat: float
    estimate: float
    p: float
    distribution: np.ndarray
    model: Model

    def __str__(self) -> str:
        return show(self, "text")

    def _repr_html_(self) -> str:
        return show(self, "html")

    def to_dict(self) -> dict:
        """The JSON of ``metail2 sensitivity --permutation``."""
        d = self.model.head("permutation")
        d.update(exact=self.exact, iterations=self.iterations, seed=self.seed, estimate=self.estimate,
                 stat=self.stat, p=self.p)
        return d

    def to_frame(self):
        """The permutation distribution: one row per sign pattern (pandas is loaded here)."""
        import pandas as pd

        return pd.DataFrame({"pattern": np.arange(self.iterations), "stat": self.distribution})


def _signs(k: int, start: int, stop: int) -> np.ndarray:
    """Sign patterns start…stop−1 of ``expand.grid(c(1, -1), …)``: (k, n), study
    j negative where bit j of the pattern's index is set."""
    idx = np.arange(start, stop, dtype=np.int64)
    bits = (idx[None, :] >> np.arange(k, dtype=np.int64)[:, None]) & 1
    return 1.0 - 2.0 * bits


def permutest(data, iterations: int | str = "exact", seed: int | None = None, method: str | None = None,
              test: str | None = None, level: float | None = None, convention: str | None = None) -> Permutation:
    """Permutation test of the pooled effect of an intercept-only model.

    Parameters
    ----------
    data : MetaResult, EffectSizes or (yi, vi)
    iterations : "exact" or int
        ``"exact"``: every one of the 2^k sign patterns (k ≤ 24). An integer N:
        N random patterns (the first the observed one), unless 2^k ≤ N, when
        the exact test is done instead (as metafor).
    seed : int, optional
        Seed of the random patterns (drawn and recorded when not given).

    Returns
    -------
    Permutation

    Examples
    --------
    >>> r = permutest(([0.1, 0.3, 0.5, 0.2], [0.01, 0.02, 0.04, 0.03]), method="DL")
    >>> r.iterations, r.p
    (16, 0.125)
    """
    s = studies(data, method, test, level, convention, min_k=1, what="the permutation test")
    k = s.k
    exact = iterations == "exact" or (isinstance(iterations, int) and k < 63 and (1 << k) <= iterations)
    if not exact:
        if not isinstance(iterations, (int, np.integer)) or iterations < 2:
            raise ValueError(f"iterations must be 'exact' or a whole number ≥ 2 (got {iterations!r})")
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
    elif k > MAX_EXACT_K:
        raise ValueError(f"an exact test with k = {k} needs 2^{k} refits; give a number of random permutations")
    n = (1 << k) if exact else int(iterations)
    rng = None if exact else np.random.default_rng(seed)
    stats = np.empty(n)
    est0 = math.nan
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        if exact:
            signs = _signs(k, start, stop)
        else:
            signs = rng.choice(np.array([-1.0, 1.0]), size=(k, stop - start))
            if start == 0:
                signs[:, 0] = 1.0                     # the observed data first (metafor)
        b = pool_many(signs * s.y[:, None], s.v, **s.fit_args())
        stats[start:stop] = b.stat
        if start == 0:
            est0 = float(b.estimate[0])
    obs = float(stats[0])
    ok = ~np.isnan(stats)
    p = min(1.0, float(np.mean(np.abs(stats[ok]) >= abs(obs) - COMPTOL)))
    return Permutation(exact, n, None if exact else seed, obs, est0, p, stats, s.model)
