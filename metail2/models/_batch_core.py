"""The batch kernel: many intercept-only inverse-variance fits at once.

One chunk at a time: ``y`` and the mask ``m`` are (k, n), ``v`` is (k, n) or
(k, 1) (shared by every analysis); column j is one analysis over the studies
where ``m[:, j]`` is 1 (weight 0 elsewhere, so k may differ per column).
Every quantity is the scalar kernel's (:func:`metail2.models.iv.fit`, the
oracle), with the sums taken down the columns; τ² comes from
:mod:`._batch_tau2`.
"""
from __future__ import annotations

import numpy as np
from scipy.special import chdtrc, ndtr, ndtri, stdtr, stdtrit

from ._batch_tau2 import EPS, ESTIMATORS, Base, Cols, csum, per_df, qprofile
from .tau2 import TAU2_ESTIMATORS

#: Float fields of a chunk's result, in a fixed order (packing for Dask).
FLOAT_FIELDS = ("estimate", "se", "stat", "p", "ci_lower", "ci_upper", "df", "tau2", "q", "q_p",
                "i2", "i2_q", "h2", "pi_lower", "pi_upper", "sum_w")
INT_FIELDS = ("k", "q_df")
BOOL_FIELDS = ("common", "converged")
CI_FIELDS = ("tau2_ci_lower", "tau2_ci_upper", "tau2_ci_lower_sign", "tau2_ci_upper_sign")


# --------------------------------------------------------------------------- one chunk

#: Default number of analyses per chunk is about this many study cells: each
#: (k × chunk) temporary stays below 128 KiB, in cache and under glibc's mmap
#: threshold (Dask's workers set ``MALLOC_TRIM_THRESHOLD_``, which pins that
#: threshold; larger temporaries are then mapped and unmapped at every
#: operation, three times slower).
CHUNK_CELLS = 1 << 14


def default_chunk(k: int) -> int:
    return max(256, CHUNK_CELLS // max(k, 1))


def _as_2d(a, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{name} must be (studies,) or (studies, analyses); got shape {a.shape}")
    return a


def prepare(y, v, mask):
    """(y, v, m) as the kernel takes them: floats, masked cells neutral (y 0, v 1)."""
    y = _as_2d(y, "y")
    v = _as_2d(v, "v")
    k, n = y.shape
    if v.shape[0] != k or v.shape[1] not in (1, n):
        raise ValueError(f"v has shape {v.shape}; y has {y.shape} (v may also be (studies,) for all analyses)")
    m = None
    if mask is not None:
        mb = np.asarray(mask, dtype=bool)
        if mb.ndim == 1:
            mb = mb[:, None]
        if mb.shape[0] != k or mb.shape[1] not in (1, n):
            raise ValueError(f"mask has shape {mb.shape}; y has {y.shape}")
        mb = np.broadcast_to(mb, (k, n))
        if not mb.all():
            m = mb.astype(float)
            y = np.where(mb, y, 0.0)
            v = np.where(mb, v, 1.0)
        keep = mb
    else:
        keep = True
    bad_y = ~np.isfinite(y) & keep
    bad_v = ~(np.isfinite(v) & (v > 0)) & np.broadcast_to(keep, v.shape)
    if bad_y.any() or bad_v.any():
        raise ValueError("y must be finite and v finite and > 0 for every study included "
                         f"({int(bad_y.sum())} bad y, {int(bad_v.sum())} bad v)")
    return y, v, m



def fit_chunk(y, v, m, method: str, test: str, level: float, tau2_ci: bool, numerics=None) -> dict:
    """Fit every column of a chunk; a dict of arrays (one value per column).

    ``numerics`` (a :class:`~metail2.models.numerics.Numerics`, or None for the
    exact convention): with absolute tolerances (metafor's convention) REML,
    ML and EB follow metafor's own iteration and stopping rule; with
    ``truncate_ci`` the τ² CI search stops at metafor's limit (:func:`qprofile`)."""
    # contiguous copies: NumPy sums a strided view's columns in another order,
    # and the numbers must not depend on how the analyses were chunked
    y, v = np.ascontiguousarray(y), np.ascontiguousarray(v)
    m = None if m is None else np.ascontiguousarray(m)
    n = y.shape[1] if m is None else m.shape[1]
    k = np.full(n, y.shape[0], dtype=float) if m is None else csum(m)
    cols = Cols(y, v, m, k)
    tau2 = np.zeros(n)
    conv = np.ones(n, dtype=bool)
    multi = np.flatnonzero(k >= 2)
    allmulti = len(multi) == n
    c2 = cols if allmulti else cols.take(multi)
    with np.errstate(divide="ignore", invalid="ignore"):
        base = Base(c2) if len(multi) else None
        if method != "FE" and len(multi):
            t, cv = ESTIMATORS[method](c2, base, numerics)
            tau2[multi] = t
            if cv is not None:
                conv[multi] = cv
                for j in multi[~cv]:
                    tau2[j] = _scalar_tau2(y[:, j if y.shape[1] > 1 else 0], v[:, j if v.shape[1] > 1 else 0],
                                           None if m is None else m[:, j], method, numerics)
        out = _final(cols, tau2, method, test, level)
        out["converged"] = conv
        q = np.zeros(n)
        qdf = np.maximum(k - 1, 0)
        i2 = np.zeros(n)
        i2q = np.zeros(n)
        h2 = np.ones(n)
        if len(multi):
            bq, km1 = base.q, c2.k - 1
            q[multi] = bq
            i2q[multi] = np.where(bq > 0, 100 * np.maximum(0.0, (bq - km1) / bq), 0.0)
            if method == "FE":
                i2[multi] = i2q[multi]
                h2[multi] = bq / km1
            else:
                t = tau2[multi]
                i2[multi] = 100 * t / (base.vt + t)
                h2[multi] = t / base.vt + 1
        out.update(q=q, q_df=qdf, q_p=np.where(qdf > 0, chdtrc(np.maximum(qdf, 1), q), 1.0),
                   i2=i2, i2_q=i2q, h2=h2, k=k)
        if tau2_ci:
            lo, hi = np.full(n, np.nan), np.full(n, np.nan)
            ls, us = np.zeros(n, dtype=np.int8), np.zeros(n, dtype=np.int8)
            if method != "FE" and len(multi):
                floor = None
                if numerics is not None and numerics.truncate_ci:
                    floor = numerics.tau2_max * (base.vt if numerics.relative else np.ones(len(multi)))
                lo[multi], hi[multi], ls[multi], us[multi] = qprofile(c2, base, tau2[multi], level, floor)
            out.update(tau2_ci_lower=lo, tau2_ci_upper=hi, tau2_ci_lower_sign=ls, tau2_ci_upper_sign=us)
    empty = k == 0
    if empty.any():
        for name in FLOAT_FIELDS + CI_FIELDS[:2]:
            if name in out:
                out[name][empty] = np.nan
        out["common"][empty] = False
    return out


def fit_columns(y, v, m, method: str, test: str, level: float, tau2_ci: bool, numerics=None, chunk=None):
    """:func:`fit_chunk` over the columns ``chunk`` at a time (a generator of dicts)."""
    n = y.shape[1] if m is None else m.shape[1]
    chunk = chunk or default_chunk(y.shape[0])
    for s in range(0, n, chunk):
        sl = slice(s, s + chunk)
        yield fit_chunk(y if y.shape[1] == 1 else y[:, sl], v if v.shape[1] == 1 else v[:, sl],
                        None if m is None else m[:, sl], method, test, level, tau2_ci, numerics)


def concat(parts) -> dict:
    """One dict of arrays from chunk dicts, in order."""
    parts = list(parts)
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]} if len(parts) != 1 else parts[0]


def fit_subsets(y, v, bits, method: str, test: str, level: float, numerics=None) -> dict:
    """Fit one data set (y, v: (k,)) to each subset of a chunk, given as packed
    bits (n, ⌈k/8⌉) (see :func:`metail2.models.batch.packed_subsets`)."""
    m = np.unpackbits(bits, axis=1, count=len(y), bitorder="little").T.astype(float)
    return fit_chunk(y[:, None], v[:, None], m, method, test, level, False, numerics)


def _final(cols: Cols, tau2, method, test, level) -> dict:
    """Estimate, SE, test, CI and PI at τ²; k = 1 is a common effect with a z test."""
    k = cols.k
    _, sw, mu, e, we = cols.moments(tau2)
    var = 1.0 / sw
    hk = (test == "hk") & (k >= 2)
    df = np.where(hk, k - 1, np.nan)
    if test == "hk":
        rss = csum(we * e)
        s2 = np.where(rss <= EPS, 0.0, rss / np.maximum(k - 1, 1))
        var = np.where(hk, var * s2, var)
    se = np.sqrt(var)
    a = (1 - level) / 2
    crit = np.full(len(k), float(-ndtri(a)))
    if hk.any():
        crit[hk] = per_df(df[hk], lambda d: stdtrit(d, 1 - a))
    stat = np.where(se > 0, mu / np.where(se > 0, se, 1.0), np.copysign(np.inf, mu))
    p = 2 * ndtr(-np.abs(stat))
    if hk.any():
        p[hk] = 2 * stdtr(df[hk], -np.abs(stat[hk]))
    common = (k < 2) if method != "FE" else np.ones(len(k), dtype=bool)
    half = crit * np.sqrt(var + tau2)
    pil = np.where(common, np.nan, mu - half)
    piu = np.where(common, np.nan, mu + half)
    return {"estimate": mu, "se": se, "stat": stat, "p": p, "ci_lower": mu - crit * se, "ci_upper": mu + crit * se,
            "df": df, "tau2": tau2, "pi_lower": pil, "pi_upper": piu, "common": common, "sum_w": sw}


def _scalar_tau2(y, v, m, method, numerics=None) -> float:
    """The scalar estimator on one column (the fallback where iteration did not settle)."""
    keep = np.ones(len(y), dtype=bool) if m is None else m > 0
    yy, vv = y[keep], np.broadcast_to(v, y.shape)[keep]
    args = () if numerics is None else (numerics,)
    return TAU2_ESTIMATORS[method](yy, vv, np.ones((len(yy), 1)), *args).tau2
