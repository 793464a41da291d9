"""The batch engine: many intercept-only meta-analyses at once.

``pool_many(Y, V, mask)`` fits one random-effects (or common-effect) model per
column of ``Y``: the trailing axis is the "analyses" axis, the leading one the
studies. Analyses with fewer studies are columns whose mask is 0 for the
studies they lack (weight 0). Every estimator of the scalar kernel is
available, with Hartung–Knapp, prediction intervals, Q, I², H² and, on
request, the Q-profile CI of τ²; the scalar kernel
(:func:`metail2.models.iv.fit`) is the oracle the test suite compares with.

Memory is bounded: the columns are processed in chunks (``chunk`` analyses at
a time). With a Dask array, or ``scheduler=`` (a Dask scheduler name or a
``dask.distributed.Client``), the chunks run as ``dask.array.map_blocks``
tasks on that scheduler (:mod:`._batch_dask`; Dask is imported only there).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from . import _batch_core as core
from .inference import LEVEL
from .iv import METHODS, TESTS


@dataclass(frozen=True)
class BatchResult:
    """Many intercept-only fits: one value per analysis in each array (read-only).

    Attributes
    ----------
    method, test : str
        As asked (a column with k = 1 is a common effect with a z test: see ``common``).
    level : float
    k : ndarray of int
        Studies in each analysis.
    estimate, se, stat, p, ci_lower, ci_upper : ndarray
        Pooled estimate, its SE (scaled by s² under ``hk``), z or t statistic,
        two-sided p-value and CI.
    df : ndarray
        k − 1 for the t tests under ``hk``; NaN for z.
    tau2 : ndarray
        0 for common-effect fits.
    q, q_df, q_p, i2, i2_q, h2 : ndarray
        Cochran's Q, k − 1, its p-value, I² (metafor's), I² from Q, H².
    pi_lower, pi_upper : ndarray
        Prediction interval (NaN for common-effect fits).
    sum_w : ndarray
        Σ 1/(vᵢ + τ²): the unscaled variance of the estimate is 1/sum_w.
    common : ndarray of bool
        Fitted as a common effect (method ``FE``, or k = 1).
    converged : ndarray of bool
        False where the τ² iteration did not settle and the scalar estimator's
        fallback gave τ² (as the scalar kernel's flag).
    tau2_ci_lower, tau2_ci_upper : ndarray or None
        Q-profile CI of τ² (``tau2_ci=True``; NaN for common-effect fits).
    tau2_ci_lower_sign, tau2_ci_upper_sign : ndarray of int8 or None
        0 for a bound found by root finding, −1 for an empty interval (both
        bounds 0), +1 for a bound beyond the search limit max(100, 10·τ̂²),
        reported as that limit.
    """

    method: str
    test: str
    level: float
    k: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    p: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    df: np.ndarray
    tau2: np.ndarray
    q: np.ndarray
    q_df: np.ndarray
    q_p: np.ndarray
    i2: np.ndarray
    i2_q: np.ndarray
    h2: np.ndarray
    pi_lower: np.ndarray
    pi_upper: np.ndarray
    sum_w: np.ndarray
    common: np.ndarray
    converged: np.ndarray
    tau2_ci_lower: np.ndarray | None = None
    tau2_ci_upper: np.ndarray | None = None
    tau2_ci_lower_sign: np.ndarray | None = None
    tau2_ci_upper_sign: np.ndarray | None = None

    def __post_init__(self):
        for f in fields(self):
            a = getattr(self, f.name)
            if isinstance(a, np.ndarray):
                a.setflags(write=False)

    def __len__(self) -> int:
        return len(self.estimate)

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """The per-analysis arrays by name (those computed)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if isinstance(getattr(self, f.name), np.ndarray)}

    @property
    def tau(self) -> np.ndarray:
        return np.sqrt(self.tau2)

    def take(self, index) -> BatchResult:
        """The analyses at ``index`` (an index array, a mask or a slice)."""
        return BatchResult(self.method, self.test, self.level,
                           **{n: np.array(a[index]) for n, a in self.arrays.items()})

    def to_frame(self):
        """A pandas DataFrame, one row per analysis (pandas is loaded here)."""
        import pandas as pd

        return pd.DataFrame(self.arrays)


def _check_args(method: str, test: str, level: float) -> str:
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; choose z or hk")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1) (is {level!r})")
    return method


def pool_many(y, v, mask=None, *, method: str = "REML", test: str = "z", level: float = LEVEL,
              tau2_ci: bool = False, chunk: int | None = None, scheduler=None, numerics=None) -> BatchResult:
    """Fit one intercept-only model per column of ``y``.

    Parameters
    ----------
    y : array_like (k, n) or (k,)
        Effect sizes: column j holds analysis j's studies.
    v : array_like (k, n), (k, 1) or (k,)
        Sampling variances; a single column is shared by every analysis.
    mask : array_like of bool (k, n), optional
        Which studies each analysis includes (weight 0 for the others): ragged
        k, subsets, leave-one-out. Default: all.
    method : str
        ``FE`` or a τ² estimator (``REML`` default, ``DL``, ``ML``, ``PM``,
        ``HS``, ``SJ``, ``EB``, ``HE``).
    test : {"z", "hk"}
    level : float
        Confidence level of the CI, the PI and the τ² CI.
    tau2_ci : bool
        Also compute the Q-profile CI of τ² (extra root finding; off by default).
    chunk : int, optional
        Analyses per chunk (memory bound); default about 16,384 study cells
        (k × chunk), which keeps the temporaries in cache.
    scheduler : str or dask.distributed.Client, optional
        Run the chunks as Dask tasks on this scheduler (also the path taken,
        with Dask's default scheduler, when ``y`` is a Dask array).
    numerics : Numerics, optional
        Default (and :data:`~metail2.models.numerics.EXACT`): τ² solved to
        full precision, τ² CI bounds the roots themselves.
        :data:`~metail2.models.numerics.METAFOR`: REML, ML and EB follow
        metafor's iteration and absolute stopping rule (reproducing its last
        digits), and a τ² CI bound beyond metafor's search limit
        max(100, 10·τ̂²) is reported as that limit; PM and CI roots stay exact
        (metafor's ``uniroot`` stops within 1.2e-4).

    Returns
    -------
    BatchResult

    Notes
    -----
    The numbers are the scalar kernel's (:func:`metail2.models.iv.fit` with
    ``X`` a column of ones) to within rounding: iterative estimators are
    solved to full precision (see :mod:`._batch_core`). A column with k = 1
    is a common effect with a z test; a column with k = 0 is all NaN.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0.1, 0.1], [0.3, 0.3], [0.5, 0.9]])
    >>> r = pool_many(y, [0.01, 0.02, 0.04], method="DL")
    >>> np.round(r.estimate, 4).tolist(), r.k.tolist()
    ([0.2524, 0.4025], [3, 3])
    """
    method = _check_args(method, test, level)
    if scheduler is not None or type(y).__module__.split(".")[0] == "dask":
        from ._batch_dask import pool_many_dask

        values = pool_many_dask(y, v, mask, method=method, test=test, level=level, tau2_ci=tau2_ci,
                                chunk=chunk, scheduler=scheduler, numerics=numerics)
        return from_parts([values], method, test, level)
    y, v, m = core.prepare(y, v, mask)
    return _run(y, v, m, method, test, level, tau2_ci, chunk, numerics)


def _run(y, v, m, method, test, level, tau2_ci, chunk, numerics=None) -> BatchResult:
    parts = core.fit_columns(y, v, m, method, test, level, tau2_ci, numerics, chunk)
    return gather(parts, y.shape[1], method, test, level)


def packed_subsets(subsets, k: int) -> np.ndarray:
    """Subsets of k studies as packed bits, one row per subset: a (N, ⌈k/8⌉)
    uint8 array (study j is bit j % 8 of byte j // 8, little bit order), from
    that or from a boolean (N, k) array."""
    a = np.asarray(subsets)
    if a.dtype == bool:
        if a.ndim != 2 or a.shape[1] != k:
            raise ValueError(f"boolean subsets must be (N, {k}); got {a.shape}")
        return np.packbits(a, axis=1, bitorder="little")
    if a.dtype != np.uint8 or a.ndim != 2 or a.shape[1] != (k + 7) // 8:
        raise ValueError(f"packed subsets must be uint8 (N, {(k + 7) // 8}); got {a.dtype} {a.shape}")
    return a


def pool_subsets(y, v, subsets, *, method: str = "REML", test: str = "z", level: float = LEVEL,
                 chunk: int | None = None, scheduler=None, numerics=None) -> BatchResult:
    """Fit one data set's model to many subsets of its studies (GOSH, refits).

    Parameters
    ----------
    y, v : array_like (k,)
        The studies' effect sizes and sampling variances.
    subsets : ndarray
        One row per subset: boolean (N, k), or packed bits (N, ⌈k/8⌉) uint8
        (:func:`packed_subsets`), which is 8 times smaller.
    method, test, level, numerics :
        As :func:`pool_many`.
    chunk : int, optional
        Subsets per chunk: only this many masks are unpacked at a time (with
        ``scheduler``: per Dask task, each unpacked a default chunk at a time).
    scheduler : str or dask.distributed.Client, optional
        Run the chunks as ``dask.array.map_blocks`` tasks on this scheduler.

    Returns
    -------
    BatchResult
        One analysis per subset, in the order given.
    """
    method = _check_args(method, test, level)
    y = np.asarray(y, dtype=float).reshape(-1)
    v = np.asarray(v, dtype=float).reshape(-1)
    k = len(y)
    bits = packed_subsets(subsets, k)
    if len(v) != k:
        raise ValueError(f"y and v differ in length ({k} and {len(v)})")
    core.prepare(y, v, None)                       # validate once
    if scheduler is not None:
        from ._batch_dask import subsets_dask

        values = subsets_dask(y, v, bits, method=method, test=test, level=level,
                              chunk=chunk or 64 * core.default_chunk(k), scheduler=scheduler, numerics=numerics)
        return from_parts([values], method, test, level)
    chunk = chunk or core.default_chunk(k)
    parts = (core.fit_subsets(y, v, bits[s:s + chunk], method, test, level, numerics)
             for s in range(0, len(bits), chunk))
    return gather(parts, len(bits), method, test, level)


def gather(parts, n: int, method: str, test: str, level: float) -> BatchResult:
    """A BatchResult of n analyses from the chunk kernel's dicts, as they come
    (each chunk copied into arrays allocated once: no second copy of the whole)."""
    out: dict[str, np.ndarray] = {}
    at = 0
    for part in parts:
        size = len(part["estimate"])
        if not out:
            out = {name: np.empty(n, dtype=np.int64 if name in core.INT_FIELDS else a.dtype) for name, a in part.items()}
        for name, a in part.items():
            out[name][at:at + size] = a
        at += size
    return BatchResult(method, test, level, **out) if out else from_parts([], method, test, level)


def from_parts(parts: list[dict], method: str, test: str, level: float) -> BatchResult:
    """A BatchResult from the chunk kernel's dicts (concatenated in order)."""
    if not parts:
        parts = [core.fit_chunk(np.zeros((1, 0)), np.ones((1, 1)), None, method, test, level, False)]
    cat = {name: np.concatenate([p[name] for p in parts]) if len(parts) > 1 else parts[0][name]
           for name in parts[0]}
    for name in core.INT_FIELDS:
        cat[name] = cat[name].astype(np.int64)
    return BatchResult(method, test, level, **cat)


__all__ = ["BatchResult", "packed_subsets", "pool_many", "pool_subsets"]
