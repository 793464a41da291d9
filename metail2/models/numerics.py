"""How exactly roots and iterations are solved: unit-free (exact) or as metafor.

metafor solves Paule–Mandel and the Q-profile τ² CI with ``uniroot`` to an
*absolute* tolerance of ``.Machine$double.eps^0.25`` ≈ 1.2e-4 on τ², stops
REML/ML/EB on an absolute step (``threshold``), and searches τ² up to an
absolute ``max(100, 10·MAD(y)²)``. Those constants carry units: the same data
in other units give other answers. :data:`EXACT` makes every tolerance and
search limit relative to the data's typical within-study variance ṽ, so
results are equivariant under y → a·y, v → a²·v, and roots are solved to
1e-12·ṽ (machine precision in practice). :data:`METAFOR` keeps metafor
3.8's constants (with ``threshold = 1e-10``, as the reference cases were made).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: metafor's ``uniroot`` tolerance, ``.Machine$double.eps^0.25``.
METAFOR_ROOT_TOL = float(np.finfo(float).eps ** 0.25)


@dataclass(frozen=True)
class Numerics:
    """Tolerances and search limits of the τ² estimators and the Q-profile CI.

    Attributes
    ----------
    name : str
    relative : bool
        Scale every tolerance and limit by the typical within-study variance ṽ.
    threshold : float
        Stop Fisher scoring when |Δτ²| < threshold (× ṽ when relative).
    root_tol : float
        Brent's tolerance on τ² (× ṽ when relative).
    tau2_max : float
        Floor of the τ² search limit (× ṽ when relative); the limit is
        max(tau2_max, 10·MAD(y)²) as metafor's.
    truncate_ci : bool
        Report a Q-profile bound beyond the search limit as the limit (metafor)
        instead of widening the bracket until the root is found.
    """

    name: str
    relative: bool
    threshold: float
    root_tol: float
    tau2_max: float
    truncate_ci: bool

    def scale(self, v) -> float:
        """ṽ = (k − 1)/(Σw − Σw²/Σw), w = 1/vᵢ (Higgins & Thompson 2002) when
        relative, else 1."""
        if not self.relative:
            return 1.0
        return typical_v(v)


def typical_v(v) -> float:
    """The typical within-study variance ṽ = (k − 1)/(Σw − Σw²/Σw), w = 1/vᵢ
    (for k = 1, v₁); equal to v when all vᵢ are equal."""
    v = np.asarray(v, dtype=float)
    if v.size < 2:
        return float(v.reshape(-1)[0])
    w = 1.0 / v
    sw = float(w.sum())
    d = sw - float((w * w).sum()) / sw
    return (v.size - 1) / d if d > 0 else float(np.mean(v))


EXACT = Numerics("metail2", relative=True, threshold=1e-10, root_tol=1e-12, tau2_max=100.0, truncate_ci=False)
METAFOR = Numerics("metafor", relative=False, threshold=1e-10, root_tol=METAFOR_ROOT_TOL, tau2_max=100.0,
                   truncate_ci=True)
