"""GOSH: the model fitted to subsets of the studies (Olkin, Dahabreh & Trikalinos
2012; metafor's ``gosh``): every non-empty subset for k ≤ 20, else a random
sample; on the batch engine, in chunks, optionally on a Dask cluster."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._display import show
from ..models.batch import BatchResult, pool_many, pool_subsets
from ._inputs import Model, nums, studies

#: All subsets are fitted up to this many studies (2^20 − 1 = 1,048,575 fits).
MAX_EXACT_K = 20
#: Random subsets drawn above it, unless told otherwise (metafor's default).
DEFAULT_SUBSETS = 1_000_000
FIELDS = ("estimate", "tau2", "i2", "q")


def all_subsets(k: int) -> np.ndarray:
    """Every non-empty subset of k studies as packed bits, in metafor's order:
    by size, then in the order of ``expand.grid`` (binary counting with study 1
    the fastest-changing), i.e. by the integer whose bit j is study j."""
    if k > 32:
        raise ValueError("all subsets of more than 32 studies is too many")
    codes = np.arange(1, 1 << k, dtype=np.uint64)
    size = np.zeros(len(codes), dtype=np.uint8)
    for j in range(k):
        size += ((codes >> np.uint64(j)) & np.uint64(1)).astype(np.uint8)
    codes = codes[np.argsort(size, kind="stable")]
    return codes.astype("<u8").view(np.uint8).reshape(-1, 8)[:, :(k + 7) // 8].copy()


def random_subsets(k: int, n: int, seed: int) -> np.ndarray:
    """n random non-empty subsets (packed bits): each study in with probability
    1/2, empty draws redrawn; this is metafor's scheme (a size m with
    probability ∝ C(k, m), then m studies at random) in one step."""
    rng = np.random.default_rng(seed)
    nbytes = (k + 7) // 8
    last = np.uint8((1 << (k - 8 * (nbytes - 1))) - 1)
    out = np.empty((n, nbytes), dtype=np.uint8)
    todo = np.arange(n)
    while len(todo):
        draw = rng.integers(0, 256, size=(len(todo), nbytes), dtype=np.uint8)
        draw[:, -1] &= last
        out[todo] = draw
        todo = todo[~out[todo].any(axis=1)]
    return out


@dataclass(frozen=True)
class Gosh:
    """The GOSH fits.

    Attributes
    ----------
    study_ids : tuple of str
    exact : bool
        Every non-empty subset was fitted (else a random sample).
    seed : int or None
        Seed of the random sample.
    subsets : ndarray (N, ⌈k/8⌉) of uint8
        The subsets as packed bits (study j is bit j % 8 of byte j // 8);
        :meth:`included` gives index lists, :meth:`mask` a boolean matrix.
    fits : BatchResult
        One fit per subset (``k``, ``estimate``, ``tau2``, ``i2``, ``q``, …).
    full : BatchResult
        The fit to all studies.
    model : Model
    """

    study_ids: tuple[str, ...]
    exact: bool
    seed: int | None
    subsets: np.ndarray
    fits: BatchResult
    full: BatchResult
    model: Model

    def __len__(self) -> int:
        return len(self.subsets)

    def mask(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Boolean (subsets, studies) matrix of rows ``start:stop``."""
        return np.unpackbits(self.subsets[start:stop], axis=1, count=len(self.study_ids), bitorder="little").astype(bool)

    def included(self) -> list[list[int]]:
        """The 0-based study indices of every subset."""
        out = []
        for s in range(0, len(self), 65536):
            m = self.mask(s, s + 65536)
            rows, cols = np.nonzero(m)
            out += [c.tolist() for c in np.split(cols, np.flatnonzero(np.diff(rows)) + 1)] if len(rows) else []
        return out

    def summary(self) -> dict:
        """Mean, minimum and maximum of each of estimate, τ², I², Q over the fits."""
        out = {}
        for name in FIELDS:
            a = getattr(self.fits, name)
            a = a[np.isfinite(a)]
            out[name] = {"mean": float(a.mean()), "min": float(a.min()), "max": float(a.max())}
        return out

    def __str__(self) -> str:
        return show(self, "text")

    def _repr_html_(self) -> str:
        return show(self, "html")

    def to_dict(self, summary_only: bool = False) -> dict:
        """The JSON of ``metail2 sensitivity --gosh`` (``--summary``: no per-subset arrays)."""
        d = self.model.head("gosh")
        d.update(study_id=list(self.study_ids), subsets=len(self), exact=self.exact, seed=self.seed,
                 summary=self.summary())
        if not summary_only:
            d["included"] = self.included()
            d["k"] = self.fits.k.tolist()
            for name in FIELDS:
                d[name] = nums(getattr(self.fits, name))
        return d

    def to_frame(self):
        import pandas as pd

        frame = pd.DataFrame({"k": self.fits.k, **{n: getattr(self.fits, n) for n in FIELDS}})
        frame[list(self.study_ids)] = self.mask()
        return frame


def gosh(data, subsets: int | None = None, seed: int | None = None, method: str | None = None,
         test: str | None = None, level: float | None = None, convention: str | None = None, *,
         chunk: int | None = None, scheduler=None) -> Gosh:
    """Fit the model to every non-empty subset of the studies, or to random ones.

    Parameters
    ----------
    data : MetaResult, EffectSizes or (yi, vi)
    subsets : int, optional
        How many random subsets to fit. Every subset is fitted when there are
        no more than this many (2^k − 1 ≤ subsets), or, without ``subsets``,
        when k ≤ 20; above that 1,000,000 random subsets by default.
    seed : int, optional
        Seed of the random subsets (drawn and recorded when not given).
    chunk : int, optional
        Subsets fitted at a time (memory bound).
    scheduler : str or dask.distributed.Client, optional
        Run the chunks on Dask (:func:`metail2.models.batch.pool_subsets`).

    Returns
    -------
    Gosh

    Examples
    --------
    >>> g = gosh(([0.1, 0.3, 0.5], [0.01, 0.02, 0.04]), method="FE")
    >>> len(g), g.included()[3], round(float(g.fits.estimate[3]), 4)
    (7, [0, 1], 0.1667)
    """
    s = studies(data, method, test, level, convention, what="GOSH")
    total = (1 << s.k) - 1 if s.k < 63 else None
    exact = (subsets is None and s.k <= MAX_EXACT_K) or (subsets is not None and total is not None and total <= subsets)
    if subsets is not None and subsets < 2:
        raise ValueError("--subsets must be at least 2")
    if exact:
        bits, seed = all_subsets(s.k), None
    else:
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        bits = random_subsets(s.k, DEFAULT_SUBSETS if subsets is None else int(subsets), seed)
    fits = pool_subsets(s.y, s.v, bits, chunk=chunk, scheduler=scheduler, **s.fit_args())
    full = pool_many(s.y, s.v, **s.fit_args())
    return Gosh(s.ids, exact, seed, bits, fits, full, s.model)
