"""The batch kernel's τ² estimators and Q-profile bounds, vectorised over columns.

One chunk at a time: ``y`` and the mask ``m`` are (k, n), ``v`` is (k, n) or
(k, 1) (shared by every analysis); column j is one analysis over the studies
where ``m[:, j]`` is 1 (weight 0 elsewhere, so k may differ per column).
Every quantity is the scalar kernel's (:func:`metail2.models.iv.fit`, the
oracle), with the sums taken down the columns.

Convergence is to full precision rather than to metafor's stopping rule:

* REML and ML: metafor's Fisher scoring from the Hedges start, with Newton's
  method on the same score (yᵀPPy − tr P for REML, yᵀPPy − Σw for ML) where
  it heads the same way and stays inside the bracket of the root that the
  iterates have built (Fisher scoring alone creeps, or oscillates around the
  root, on about one data set in a hundred); bisection where neither step
  stays inside. A Newton step below 1e-8 of the scale τ² + ṽ (ṽ the typical
  within-study variance) leaves an error of order 1e-16 of it and ends the
  column's iteration. A step that would cross zero where the score at τ² = 0
  is not positive ends at τ² = 0 exactly (metafor and the scalar kernel halve
  such steps and stop near 0). Then metafor's ll0 check.
* PM, EB, and the Q-profile bounds: the root of the decreasing Q(τ²) minus a
  target, by Newton's method safeguarded by bisection inside a bracket
  (dQ/dτ² = −Σ wᵢ²eᵢ²; Q(t) < Σ(yᵢ − ȳ)²/t gives the upper end). EB's fixed
  point k/(k−1)·Q(τ²) = k is PM's equation, so EB is solved as PM.

Columns whose iteration does not settle in :data:`~metail2.models.tau2.MAXITER`
steps are refitted by the scalar estimator (``converged`` is then False, as
the scalar's own flag would be).
"""
from __future__ import annotations

import numpy as np
from scipy.special import chdtri

from .tau2 import MAXITER

EPS = float(np.finfo(float).eps)
LL0_TOL = EPS ** 0.25      # metafor's ll0 check
NEWTON_FROM = 1e-3         # Fisher scoring → Newton below this × scale
DONE_AT = 1e-8             # a Newton step below this × scale leaves an error ~1e-16 × scale
ROOT_MAXITER = 200
THRESHOLD = 1e-10          # × ṽ: τ² above it is checked against the likelihood at 0 (metafor's ll0check)


def csum(a):
    """Column sums, each added row by row in order. (NumPy does so for a
    C-contiguous array of two or more columns but adds a single column
    pairwise; the numbers must not depend on how many columns a chunk has.)"""
    return a.sum(0) if a.shape[1] != 1 else np.cumsum(a, axis=0)[-1]


class Cols:
    """The columns of one chunk still being worked on."""

    __slots__ = ("k", "m", "v", "y")

    def __init__(self, y, v, m, k):
        self.y, self.v, self.m, self.k = y, v, m, k

    def take(self, idx) -> Cols:
        """Columns ``idx`` (a mask or indices), C-contiguous, as every array of
        the kernel: NumPy sums a column of another layout in another order, and
        the numbers must not depend on which other analyses share the chunk.
        A y or v shared by every column, (k, 1), stays shared."""
        idx = np.asarray(idx)
        pick = (lambda a: a.compress(idx, axis=1)) if idx.dtype == bool else (lambda a: a.take(idx, axis=1))
        y = self.y if self.y.shape[1] == 1 else pick(self.y)
        v = self.v if self.v.shape[1] == 1 else pick(self.v)
        return Cols(y, v, None if self.m is None else pick(self.m), self.k[idx])

    def w(self, t):
        return 1.0 / (self.v + t) if self.m is None else np.divide(self.m, self.v + t)

    def moments(self, t):
        """w, Σw, μ̂, e = y − μ̂ and w·e at τ² = t (one value per column)."""
        w = self.w(t)
        sw = csum(w)
        mu = csum(w * self.y) / sw
        e = self.y - mu
        return w, sw, mu, e, w * e


class Base:
    """Quantities at τ² = 0 (weights 1/vᵢ): Q, tr P, ṽ, the scores at 0, Hedges' τ²."""

    def __init__(self, c: Cols):
        n = c.y.shape[1]
        w, sw, _, e, we = c.moments(np.zeros(n))
        sw2 = csum(w * w)
        self.q = np.maximum(csum(we * e), 0.0)
        self.trp = sw - sw2 / sw
        km1 = c.k - 1.0
        self.vt = km1 / self.trp
        self.sw = sw
        yppy = csum(we * we)
        self.g0_reml = yppy - self.trp
        self.g0_ml = yppy - sw
        # Hedges: RSS_OLS − tr((I − H)V) over k − 1 (unweighted mean, mask as weights)
        ones = np.ones_like(c.y) if c.m is None else c.m
        ybar = csum(ones * c.y) / c.k
        d = (c.y - ybar) * ones
        self.ss = csum(d * d)
        vsum = csum(ones * c.v)
        self.he = np.maximum(0.0, (self.ss - vsum * km1 / c.k) / km1)


# --------------------------------------------------------------------------- τ² estimators

def _dl(c, b, numerics=None):
    return np.maximum(0.0, (b.q - (c.k - 1)) / b.trp), None


def _he(c, b, numerics=None):
    return b.he.copy(), None


def _hs(c, b, numerics=None):
    return np.maximum(0.0, (b.q - c.k) / b.sw), None


def _sj(c, b, numerics=None):
    t0 = b.ss / c.k
    _, _, _, e, we = c.moments(t0)
    return np.where(t0 == 0, 0.0, t0 * csum(we * e) / (c.k - 1)), None


def _pm(c, b, numerics=None):
    """Q(τ²) = k − 1 (0 where Q(0) ≤ k − 1); bracket [0, s²] with s² the sample
    variance, since Q(s²) < Σ(yᵢ − ȳ)²/s² = k − 1."""
    tau2 = np.zeros(len(c.k))
    conv = np.ones(len(c.k), dtype=bool)
    pos = np.flatnonzero(b.q > c.k - 1)
    if len(pos):
        sub = c.take(pos)
        hi = b.ss[pos] / (sub.k - 1)
        tau2[pos], conv[pos] = _q_root(sub, sub.k - 1.0, np.zeros(len(pos)), hi, b.vt[pos])
    return tau2, conv


def _reml(c, b, numerics=None):
    if _absolute(numerics):
        return _fisher_metafor(c, b, "REML", numerics.threshold)
    return _likelihood(c, b, reml=True)


def _ml(c, b, numerics=None):
    if _absolute(numerics):
        return _fisher_metafor(c, b, "ML", numerics.threshold)
    return _likelihood(c, b, reml=False)


def _eb(c, b, numerics=None):
    if _absolute(numerics):
        return _fisher_metafor(c, b, "EB", numerics.threshold)
    return _pm(c, b)


ESTIMATORS = {"DL": _dl, "HE": _he, "HS": _hs, "SJ": _sj, "PM": _pm, "EB": _eb, "REML": _reml, "ML": _ml}


def _absolute(numerics) -> bool:
    """metafor's convention: iterations stop on an absolute step (see :func:`_fisher_metafor`)."""
    return numerics is not None and not numerics.relative


def _fisher_metafor(c: Cols, b: Base, kind: str, threshold: float):
    """metafor's own iteration, step for step: Fisher scoring from the Hedges
    start, each step halved while it would make τ² negative, until
    |Δτ²| < threshold (absolute); then the ll0 check for REML and ML. Under
    the metafor convention this reproduces metafor's figures where its
    stopping rule, not the estimating equation, decides the last digits
    (slow convergence near τ² = 0)."""
    n = len(c.k)
    out = np.zeros(n)
    conv = np.zeros(n, dtype=bool)
    idx = np.arange(n)
    cw, t = c, b.he.copy()
    for _ in range(MAXITER):
        w, sw, _, e, we = cw.moments(t)
        if kind == "EB":
            step = (csum(we * e) * cw.k / (cw.k - 1) - cw.k) / sw
        else:
            ww = w * w
            sw2 = csum(ww)
            yppy = csum(we * we)
            if kind == "REML":
                r = sw2 / sw
                step = (yppy - (sw - r)) / (sw2 - 2 * csum(ww * w) / sw + r * r)
            else:
                step = (yppy - sw) / sw2
        step = np.where(np.isfinite(step), step, 0.0)
        new = t + step
        neg = new < 0
        while neg.any():
            step[neg] /= 2
            new = np.where(neg, t + step, new)
            neg &= new < 0
        done = np.abs(new - t) < threshold
        t = new
        if done.any():
            out[idx[done]] = t[done]
            conv[idx[done]] = True
            keep = ~done
            idx, t = idx[keep], t[keep]
            if not len(idx):
                break
            cw = cw.take(keep)
    out[idx] = t
    if kind != "EB":
        chk = np.flatnonzero(conv & (out > threshold))
        if len(chk):
            sub = c.take(chk)
            reml = kind == "REML"
            worse = _loglik(sub, np.zeros(len(chk)), reml) - _loglik(sub, out[chk], reml) > LL0_TOL
            out[chk[worse]] = 0.0
    return out, conv


def _likelihood(c: Cols, b: Base, reml: bool):
    """REML or ML τ² (see the module's notes); returns (τ², converged)."""
    n = len(c.k)
    out = np.zeros(n)
    conv = np.zeros(n, dtype=bool)
    g0 = b.g0_reml if reml else b.g0_ml
    idx = np.arange(n)
    cw, t, vt, g0w = c, b.he.copy(), b.vt, g0
    lo, hi = np.zeros(n), np.full(n, np.inf)        # bracket of the score's root
    alive = np.ones(n, dtype=bool)                  # still iterating (finished ones frozen)
    for _ in range(MAXITER):
        w, sw, _, _, we = cw.moments(t)
        ww = w * w
        sw2 = csum(ww)
        wwe = w * we
        yppy = csum(we * we)
        w2e = csum(wwe)
        ypppy = csum(wwe * we) - w2e * w2e / sw
        if reml:
            r = sw2 / sw
            info = sw2 - 2 * csum(ww * w) / sw + r * r      # tr PP
            g = yppy - (sw - r)                                # yᵀPPy − tr P
        else:
            info = sw2
            g = yppy - sw
        with np.errstate(divide="ignore", invalid="ignore"):
            fisher = g / info
            dg = info - 2 * ypppy                              # dg/dτ²
            newton = -g / dg
        lo = np.where(g > 0, np.maximum(lo, t), lo)
        hi = np.where(g < 0, np.minimum(hi, t), hi)
        scale = t + vt
        # Newton's step where it heads the same way as the score and stays
        # inside the bracket (or, unbracketed, within 100 Fisher steps);
        # Fisher scoring otherwise
        newt = (dg < 0) & (newton * g >= 0) & np.where(
            np.isfinite(hi), (t + newton > lo) & (t + newton < hi), np.abs(newton) <= 100 * np.abs(fisher))
        step = np.where(newt, newton, fisher)
        bad = ~np.isfinite(step)
        step[bad] = 0.0
        new = t + step
        to_zero = (new < 0) & ((g0w <= 0) | (t == 0))
        new[to_zero] = 0.0
        # a step leaving the bracket (Fisher scoring overshooting): Newton if it
        # stays inside, else bisection
        leave = ~to_zero & (step != 0) & ((new <= lo) | (new >= hi))
        if leave.any():
            alt = t + newton
            inside = leave & (dg < 0) & np.isfinite(alt) & (alt > lo) & (alt < hi)
            mid = np.where(np.isfinite(hi), 0.5 * (lo + hi), 0.5 * (lo + t))
            new = np.where(inside, alt, np.where(leave, mid, new))
            newt &= ~leave
        done = alive & (bad | to_zero | (newt & (np.abs(step) <= DONE_AT * scale))
                         | (np.abs(new - t) <= 4 * EPS * scale) | (hi - lo <= 4 * EPS * scale))
        t = np.where(alive, new, t)
        if done.any():
            out[idx[done]] = t[done]
            conv[idx[done]] = True
            alive &= ~done
            if not alive.any():
                break
            if 2 * alive.sum() <= len(alive):          # drop the finished columns
                keep = alive
                idx, t, vt, g0w, lo, hi, alive = (a[keep] for a in (idx, t, vt, g0w, lo, hi, alive))
                cw = cw.take(keep)
    out[idx[alive]] = t[alive]
    # metafor's ll0 check: a stationary point below the likelihood at τ² = 0
    chk = np.flatnonzero(conv & (out > THRESHOLD * b.vt))
    if len(chk):
        sub = c.take(chk)
        worse = _loglik(sub, np.zeros(len(chk)), reml) - _loglik(sub, out[chk], reml) > LL0_TOL
        out[chk[worse]] = 0.0
    return out, conv


def _loglik(c: Cols, t, reml: bool):
    """(Restricted) log-likelihood at τ² = t, without the constant in 2π."""
    _, sw, _, e, we = c.moments(t)
    lv = np.log(c.v + t)
    if c.m is not None:
        lv = lv * c.m
    ll = -0.5 * csum(lv) - 0.5 * csum(we * e)
    return ll - 0.5 * np.log(sw) if reml else ll


def _q_root(c: Cols, target, lo, hi, vt):
    """The τ² in [lo, hi] where Q(τ²) = target, Q(lo) > target > Q(hi):
    Newton's method kept inside the bracket (bisection otherwise)."""
    n = len(c.k)
    out = np.zeros(n)
    conv = np.zeros(n, dtype=bool)
    idx = np.arange(n)
    cw, x, lo, hi, tgt, vt = c, lo.astype(float).copy(), lo.astype(float).copy(), hi.astype(float).copy(), \
        np.broadcast_to(target, (n,)).astype(float), np.broadcast_to(vt, (n,)).astype(float)
    alive = np.ones(n, dtype=bool)
    for _ in range(ROOT_MAXITER):
        _, _, _, e, we = cw.moments(x)
        f = csum(we * e) - tgt
        fp = -csum(we * we)
        above = f > 0
        lo = np.where(above, x, lo)
        hi = np.where(above, hi, x)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = x - f / fp
        ok = np.isfinite(newton) & (newton > lo) & (newton < hi)
        nxt = np.where(ok, newton, 0.5 * (lo + hi))
        scale = x + vt
        exact = f == 0
        done = alive & (exact | (ok & (np.abs(nxt - x) <= DONE_AT * scale)) | (hi - lo <= 4 * EPS * scale))
        x = np.where(exact | ~alive, x, nxt)
        if done.any():
            out[idx[done]] = x[done]
            conv[idx[done]] = True
            alive &= ~done
            if not alive.any():
                break
            if 2 * alive.sum() <= len(alive):          # drop the finished columns
                keep = alive
                idx, x, lo, hi, tgt, vt, alive = (a[keep] for a in (idx, x, lo, hi, tgt, vt, alive))
                cw = cw.take(keep)
    out[idx[alive]] = x[alive]
    return out, conv


def qprofile(c: Cols, b: Base, tau2, level, floor=None):
    """Q-profile CI of τ² (:func:`~metail2.models.tau2.tau2_qprofile`): the
    roots of Q(τ²) = χ²_{k−1, α/2} (lower; 0 where Q(0) is below it) and
    Q(τ²) = χ²_{k−1, 1−α/2} (upper). Signs: −1 for an empty interval (Q(0)
    below the lower critical value; both bounds 0), 0 for a root. Without
    ``floor`` the bounds are exact (Q(t) < Σ(yᵢ − ȳ)²/t brackets each root);
    with ``floor`` (metafor's convention) the search stops at
    max(floor, 10·τ̂²) and a bound beyond it is reported as that limit, sign +1."""
    n = len(c.k)
    df = c.k - 1
    alpha = 1 - level
    crit_u = per_df(df, lambda d: chdtri(d, alpha / 2))
    crit_l = per_df(df, lambda d: chdtri(d, 1 - alpha / 2))
    q0 = b.q
    lower, upper = np.zeros(n), np.zeros(n)
    ls, us = np.zeros(n, dtype=np.int8), np.zeros(n, dtype=np.int8)
    empty = q0 < crit_l
    ls[empty] = us[empty] = -1
    if floor is None:
        hi_u, hi_l = b.ss / crit_u, b.ss / crit_l
        rest = ~empty
    else:
        tmax = np.maximum(floor, 10 * tau2)
        hi_u = hi_l = tmax
        _, _, _, e, we = c.moments(tmax)
        qmax = csum(we * e)
        beyond = ~empty & (qmax > crit_u)
        lower[beyond] = upper[beyond] = tmax[beyond]
        ls[beyond] = us[beyond] = 1
        rest = ~empty & ~beyond
        cut = rest & (qmax > crit_l)
        upper[cut] = tmax[cut]
        us[cut] = 1
    need = np.flatnonzero(rest & (q0 >= crit_u))
    if len(need):
        lower[need], _ = _q_root(c.take(need), crit_u[need], np.zeros(len(need)), hi_u[need], b.vt[need])
    need = np.flatnonzero(rest & (us == 0))
    if len(need):
        upper[need], _ = _q_root(c.take(need), crit_l[need], np.zeros(len(need)), hi_l[need], b.vt[need])
    return lower, upper, ls, us


def per_df(df, f):
    """f(df) elementwise, computed once per distinct df (quantiles are slow)."""
    u, inv = np.unique(df, return_inverse=True)
    return np.asarray(f(u.astype(float)), dtype=float)[inv]


