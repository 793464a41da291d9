"""Leave-one-out and cumulative meta-analysis (metafor's ``leave1out`` and
``cumul``): the model refitted without each study, or to the first 1, 2, …, k
studies in a chosen order, all refits in one call of the batch engine."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._display import show
from ..models.batch import BatchResult, pool_many
from ._inputs import Model, Studies, fit_fields, studies


@dataclass(frozen=True)
class RefitSeries:
    """A series of refits: one per omitted study (``leave-one-out``) or per
    added study (``cumulative``), with the fit to all studies.

    Attributes
    ----------
    analysis : {"leave-one-out", "cumulative"}
    labels : tuple of str
        The study omitted, or added, by each refit (in the order of the refits).
    order : str or None
        Cumulative: ``"sheet"`` or the column the studies were sorted by.
    fits : BatchResult
        One fit per label (:attr:`BatchResult.k` studies each).
    full : BatchResult
        The fit to all studies (one analysis).
    model : Model
        Measure, method, test, level and convention of every fit.
    """

    analysis: str
    labels: tuple[str, ...]
    order: str | None
    fits: BatchResult
    full: BatchResult
    model: Model

    @property
    def label_name(self) -> str:
        return "omitted" if self.analysis == "leave-one-out" else "added"

    def __str__(self) -> str:
        return show(self, "text")

    def _repr_html_(self) -> str:
        return show(self, "html")

    def to_dict(self) -> dict:
        """The JSON of ``metail2 sensitivity --leave-one-out/--cumulative``:
        arrays indexed like ``omitted``/``added``, and the full fit."""
        d = self.model.head(self.analysis)
        if self.order is not None:
            d["order"] = self.order
        d[self.label_name] = list(self.labels)
        d.update(fit_fields(self.fits))
        d["full"] = fit_fields(self.full, 0)
        return d

    def to_frame(self):
        """A pandas DataFrame, one row per refit (pandas is loaded here)."""
        frame = self.fits.to_frame()
        frame.insert(0, self.label_name, list(self.labels))
        return frame


def _fit(s: Studies, mask: np.ndarray, y: np.ndarray | None = None, v: np.ndarray | None = None) -> BatchResult:
    y = s.y if y is None else y
    v = s.v if v is None else v
    return pool_many(np.broadcast_to(y[:, None], mask.shape), v, mask, **s.fit_args())


def leave1out(data, method: str | None = None, test: str | None = None, level: float | None = None,
              convention: str | None = None) -> RefitSeries:
    """Refit the model k times, each time without one study (metafor's ``leave1out``).

    Parameters
    ----------
    data : MetaResult, EffectSizes or (yi, vi)
        A pooled result (its method, test and level are used), effect sizes,
        or two arrays.
    method, test, level, convention : optional
        Override the model (default REML, z, 0.95 and exact numerics for
        effect sizes; ``convention="metafor"`` follows metafor's iteration).

    Returns
    -------
    RefitSeries
        ``labels`` are the omitted studies, in study order.

    Examples
    --------
    >>> r = leave1out(([0.1, 0.3, 0.5, 0.2], [0.01, 0.02, 0.04, 0.03]), method="DL")
    >>> [round(float(x), 4) for x in r.fits.estimate]
    [0.3154, 0.2173, 0.1727, 0.2524]
    """
    s = studies(data, method, test, level, convention, what="leave-one-out")
    mask = ~np.eye(s.k, dtype=bool)
    full = _fit(s, np.ones((s.k, 1), dtype=bool))
    return RefitSeries("leave-one-out", s.ids, None, _fit(s, mask), full, s.model)


def _sort_key(values: list[str]):
    """R's ``order``: numbers as numbers when every given value is one, else
    text; missing values last; ties keep sheet order (a stable sort)."""
    def number(x):
        try:
            f = float(x)
        except ValueError:
            return None
        return f if math.isfinite(f) else None

    given = [x for x in values if x != ""]
    numeric = all(number(x) is not None for x in given)
    return [(x == "", (number(x) if numeric else x) if x != "" else 0) for x in values]


def cumulative(data, order: str | None = None, method: str | None = None, test: str | None = None,
               level: float | None = None, convention: str | None = None, *, decreasing: bool = False) -> RefitSeries:
    """Cumulative meta-analysis (metafor's ``cumul``): the model fitted to the
    first 1, 2, …, k studies.

    Parameters
    ----------
    data : MetaResult, EffectSizes or (yi, vi)
    order : str, optional
        A sheet column to sort the studies by (e.g. ``year``): numbers as
        numbers if every filled cell is one, else text; empty cells last; ties
        in sheet order. Default: sheet order.
    decreasing : bool
        Sort in decreasing order (empty cells still last).

    Returns
    -------
    RefitSeries
        ``labels`` are the studies added at each step; the first fit has one
        study (a common effect with a z test).
    """
    s = studies(data, method, test, level, convention, min_k=1, what="cumulative meta-analysis")
    idx = np.arange(s.k)
    if order is not None:
        if s.effects is None:
            raise ValueError("ordering by a column needs effect sizes from a sheet")
        sheet = s.effects.sheet
        if order not in sheet.columns:
            raise KeyError(f"--order column {order!r} is not in the sheet (columns: {', '.join(sheet.columns)})")
        keys = _sort_key([st.row.text(order) for st in s.effects.studies])
        if decreasing:
            ranked = sorted(idx, key=lambda i: keys[i][1], reverse=True)
            idx = np.array(sorted(ranked, key=lambda i: keys[i][0]), dtype=int)
        else:
            idx = np.array(sorted(idx, key=lambda i: keys[i]), dtype=int)
    y, v = s.y[idx], s.v[idx]
    mask = np.tri(s.k, dtype=bool).T                     # column j: the first j + 1 studies
    full = _fit(s, np.ones((s.k, 1), dtype=bool))
    return RefitSeries("cumulative", tuple(s.ids[i] for i in idx), order or "sheet", _fit(s, mask, y, v), full,
                       s.model)
