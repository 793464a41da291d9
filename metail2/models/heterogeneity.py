"""The heterogeneity statistics derived from Q and from τ², defined once.

I² has two definitions, both reported: from Q, ``i2_q`` = 100·(Q − df)/Q
truncated at 0 (Higgins & Thompson 2002, eq. 10; RevMan, R meta); and from
τ² (metafor), I² = 100·τ²/(τ² + ṽ) with H² = τ²/ṽ + 1, ṽ the typical
within-study variance (:func:`metail2.models.numerics.typical_v`).
"""
from __future__ import annotations

import math


def i2_from_q(q: float, df: int) -> float:
    """100·max(0, (Q − df)/Q) in %; 0 when df < 1 or Q is 0 or not a number."""
    if df < 1 or not q > 0:
        return 0.0
    return 100 * max(0.0, (q - df) / q)


def i2_h2_from_tau2(tau2: float, vt: float) -> tuple[float, float]:
    """metafor's I² = 100·τ²/(τ² + ṽ) (%) and H² = τ²/ṽ + 1."""
    if not math.isfinite(vt):
        return math.nan, math.nan
    return 100 * tau2 / (vt + tau2), tau2 / vt + 1


__all__ = ["i2_from_q", "i2_h2_from_tau2"]
