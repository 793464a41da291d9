"""Permutation tests for meta-regression (metafor's ``permutest.rma.uni``).

The rows of the model matrix are permuted against (yᵢ, vᵢ) and the model is
refitted each time (Higgins & Thompson 2004; Viechtbauer et al. 2015). The
test is exact (every distinct permutation of the rows) when that number is
small enough, otherwise it uses N random permutations from a seeded
generator, the first being the observed order, as metafor does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..errors import Problem, SheetError
from .iv import fit

#: metafor's tolerance when comparing permuted statistics with the observed one.
COMPTOL = math.sqrt(np.finfo(float).eps)
#: Largest number of permutations an exact test will enumerate.
MAX_EXACT = 1_000_000


@dataclass(frozen=True)
class PermutationTest:
    """Permutation p-values of a meta-regression's coefficients and omnibus test.

    Attributes
    ----------
    exact : bool
        Every distinct permutation of the model-matrix rows was used.
    iterations : int
        Permutations used (the observed one included).
    seed : int or None
        Seed of the random permutations (``None`` for an exact test).
    names : tuple of str
    stat : ndarray
        Observed z (or t) statistics.
    p : ndarray
        Two-sided permutation p-values: the share of permutations with
        |stat| ≥ |observed stat| − √ε.
    qm, qm_p : float
        Observed omnibus statistic (χ², or F under ``hk``) and its permutation p.
    failed : int
        Permutations whose fit failed (left out, as metafor does).
    """

    exact: bool
    iterations: int
    seed: int | None
    names: tuple[str, ...]
    stat: np.ndarray
    p: np.ndarray
    qm: float
    qm_p: float
    failed: int = 0

    def to_dict(self) -> dict:
        return {"exact": self.exact, "iterations": self.iterations, "seed": self.seed,
                "coefficients": [{"name": n, "stat": float(s), "p": float(p)}
                                 for n, s, p in zip(self.names, self.stat, self.p)],
                "qm": float(self.qm), "qm_p": float(self.qm_p), "failed": self.failed}

    def __str__(self) -> str:
        how = (f"exact: all {self.iterations} distinct permutations" if self.exact
               else f"{self.iterations} random permutations, the observed one included; seed {self.seed}")
        lines = [f"Permutation test ({how})",
                 f"Test of moderators: permutation p = {self.qm_p:.4f}"]
        w = max(len(n) for n in self.names)
        lines += [f"  {n.ljust(w)}  stat {s:9.4f}  permutation p = {p:.4f}" for n, s, p in zip(self.names, self.stat, self.p)]
        if self.failed:
            lines.append(f"  ({self.failed} permutation fit(s) failed and were left out)")
        return "\n".join(lines)


def row_types(X: np.ndarray) -> np.ndarray:
    """Label each row of X by its distinct row (0, 1, …; identical rows share a label)."""
    _, labels = np.unique(X, axis=0, return_inverse=True)
    return labels.reshape(-1)


def count_permutations(X: np.ndarray) -> int:
    """Distinct permutations of the rows of X: k! / Πⱼ nⱼ! (nⱼ rows alike)."""
    counts = np.bincount(row_types(X))
    out = math.factorial(int(counts.sum()))
    for c in counts:
        out //= math.factorial(int(c))
    return out


def distinct_permutations(labels: np.ndarray) -> Iterator[np.ndarray]:
    """Every distinct arrangement of a multiset of labels, in lexicographic order
    (the classical next-permutation step, Knuth's Algorithm L)."""
    a = np.sort(np.asarray(labels)).tolist()
    n = len(a)
    while True:
        yield np.array(a)
        i = n - 2
        while i >= 0 and a[i] >= a[i + 1]:
            i -= 1
        if i < 0:
            return
        j = n - 1
        while a[j] <= a[i]:
            j -= 1
        a[i], a[j] = a[j], a[i]
        a[i + 1:] = a[i + 1:][::-1]


def permutest(result, permutations: int | str = 1000, seed: int | None = None) -> PermutationTest:
    """Permutation test of a :class:`~metail2.models.metareg.MetaRegression`.

    Parameters
    ----------
    result : MetaRegression
    permutations : int or ``"exact"``
        N random permutations (the observed order counted as the first), or
        ``"exact"``: every distinct permutation. An exact test is also used
        whenever the number of distinct permutations is at most N (metafor).
    seed : int, optional
        Seed of the random permutations (NumPy's PCG64); drawn and recorded in
        the result when not given.

    Notes
    -----
    Each permutation refits the model (same τ² estimator and test) with the
    rows of X permuted; p = mean(|zⱼ*| ≥ |zⱼ| − √ε) per coefficient and
    mean(QM* ≥ QM − √ε) for the omnibus test (metafor ``permutest``, two-sided,
    ``p2defn = "abs"``, ``stat = "test"``).
    """
    y = np.array([s.yi for s in result.studies])
    v = np.array([s.vi for s in result.studies])
    X = result.X
    k = len(y)
    n_exact = count_permutations(X)
    if permutations == "exact":
        if n_exact > MAX_EXACT:
            raise SheetError([Problem("<arguments>", None, None, "permutations",
                                      f"an exact test needs {n_exact:,} permutations of the {k} studies' moderator "
                                      f"values (more than {MAX_EXACT:,}); give a number of random permutations instead")])
        exact = True
    else:
        n = int(permutations)
        if n < 2:
            raise SheetError([Problem("<arguments>", None, None, "permutations",
                                      f"permutations must be at least 2 or 'exact' (is {permutations!r})")])
        exact = n_exact <= n

    def refit(Xp):
        try:
            f = fit(y, v, Xp, result.method, result.test, result.level, tau2_ci=False)
        except (ArithmeticError, np.linalg.LinAlgError, ValueError):
            return None
        return f.stat, f.qm.stat

    stats, qms = [], []
    if exact:
        labels = row_types(X)
        rows = np.array([X[labels == j][0] for j in range(labels.max() + 1)])
        for perm in distinct_permutations(labels):
            out = refit(rows[perm])
            if out is not None:
                stats.append(out[0])
                qms.append(out[1])
        iterations, seed = n_exact, None
    else:
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        rng = np.random.Generator(np.random.PCG64(seed))
        stats.append(result.fit.stat)
        qms.append(result.fit.qm.stat)
        iterations = n
        for _ in range(n - 1):
            out = refit(X[rng.permutation(k)])
            if out is not None:
                stats.append(out[0])
                qms.append(out[1])
    stats, qms = np.array(stats), np.array(qms)
    obs, qm = result.fit.stat, result.fit.qm.stat
    p = np.minimum(1.0, (np.abs(stats) >= np.abs(obs) - COMPTOL).mean(axis=0))
    qm_p = float((qms >= qm - COMPTOL).mean())
    return PermutationTest(exact, iterations, seed, result.names, obs.copy(), p, float(qm), qm_p,
                           iterations - len(qms))


__all__ = ["permutest", "PermutationTest", "count_permutations", "distinct_permutations", "row_types", "MAX_EXACT"]
