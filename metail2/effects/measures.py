"""Effect measures: codes, analysis scales, back-transformations (metafor's vocabulary)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..errors import Problem, SheetError
from ..sheets.schema import GENERIC, INPUT_COLUMNS

Z975 = 1.959963984540054  # qnorm(0.975), the 95% CI half-width in SEs


@dataclass(frozen=True)
class Measure:
    """An effect measure in metafor's vocabulary.

    Attributes
    ----------
    name : str
        ``OR``, ``RR``, ``RD``, ``HR``, ``MD``, ``SMD``, ``PR``, ``PLO``, ``PFT``.
    label : str
        What ``yi`` is.
    inputs : tuple of str
        Input groups it accepts, in order of preference.
    natural : str
        Back-transformation to the natural scale: ``identity``, ``exp``,
        ``expit`` or ``ipft`` (Freeman–Tukey inverse with the harmonic-mean n).
    null : float
        The null value on the analysis scale.
    """

    name: str
    label: str
    inputs: tuple[str, ...]
    natural: str
    null: float = 0.0

    @property
    def ratio(self) -> bool:
        """True for ratio measures, analysed on the log scale."""
        return self.natural == "exp"


MEASURES: Mapping[str, Measure] = {
    m.name: m
    for m in (
        Measure("OR", "log odds ratio", ("two-arm counts",) + GENERIC, "exp"),
        Measure("RR", "log risk ratio", ("two-arm counts",) + GENERIC, "exp"),
        Measure("RD", "risk difference", ("two-arm counts",) + GENERIC, "identity"),
        Measure("HR", "log hazard ratio", ("O-E and V",) + GENERIC, "exp"),
        Measure("MD", "mean difference", ("two-arm continuous",) + GENERIC, "identity"),
        Measure("SMD", "standardised mean difference (Hedges' g)", ("two-arm continuous",) + GENERIC, "identity"),
        Measure("PR", "raw proportion", ("single-arm counts",), "identity"),
        Measure("PLO", "logit proportion", ("single-arm counts",), "expit"),
        Measure("PFT", "Freeman-Tukey double arcsine proportion", ("single-arm counts",), "ipft"),
    )
}

def get_measure(measure: str | Measure) -> Measure:
    if isinstance(measure, Measure):
        return measure
    try:
        return MEASURES[measure.upper()]
    except KeyError:
        raise SheetError([Problem("<arguments>", None, None, "measure",
                                  f"unknown measure {measure!r}; choose from {', '.join(MEASURES)}")]) from None



# --------------------------------------------------------------------------- back-transformations

def transf_ipft_hm(x: float, ni: Sequence[float]) -> float:
    """Inverse Freeman–Tukey double arcsine with the harmonic mean of the
    sample sizes (Miller 1978; metafor's ``transf.ipft.hm``).

    Notes
    -----
    With n̄ the harmonic mean of nᵢ:
    p = ½ [1 − sgn(cos 2x) √(1 − (sin 2x + (sin 2x − 1/sin 2x)/n̄)²)],
    set to 0 below the transform of p = 0 and to 1 above that of p = 1.
    """
    nhm = 1.0 / float(np.mean(1.0 / np.asarray(ni, dtype=float)))

    def pft(p):
        xx = p * nhm
        return 0.5 * (math.asin(math.sqrt(xx / (nhm + 1))) + math.asin(math.sqrt((xx + 1) / (nhm + 1))))

    if x > pft(1.0):
        return 1.0
    if x < pft(0.0):
        return 0.0
    s = math.sin(2 * x)
    inner = 1 - (s + (s - 1 / s) / nhm) ** 2
    if inner < 0:
        return float("nan")
    return 0.5 * (1 - math.copysign(1.0, math.cos(2 * x)) * math.sqrt(inner))


def to_natural(measure: Measure, x: float | None, ni: Sequence[float] = ()) -> float | None:
    """Back-transform a value on the analysis scale to the natural scale."""
    if x is None or not math.isfinite(x):
        return x
    if measure.natural == "exp":
        return math.exp(x)
    if measure.natural == "expit":
        return 1.0 / (1.0 + math.exp(-x))
    if measure.natural == "ipft":
        return transf_ipft_hm(x, ni)
    return x


def study_ci(measure: Measure, study, level: float = 0.95) -> tuple[float, float, float]:
    """A study's estimate and Wald CI, yi ± z·√vi, on the natural scale
    (PFT back-transformed with the study's own n)."""
    from scipy.special import ndtri

    h = float(-ndtri((1 - level) / 2)) * math.sqrt(study.vi)
    ni = [study.ni] if study.ni is not None else []
    return tuple(to_natural(measure, x, ni) for x in (study.yi, study.yi - h, study.yi + h))


def new_sheet_columns(measure: str) -> tuple[str, ...]:
    """Columns of an empty sheet for a measure: identity, the measure's raw
    input group, the generic columns where the measure accepts them, provenance."""
    m = get_measure(measure)
    cols = ["study_id", "author", "year", "pmid", "doi", "outcome"]
    for g in m.inputs:
        cols += [c for c in INPUT_COLUMNS[g] if c not in cols]
    if m.name in ("PR", "PLO", "PFT"):
        cols += ["reported_percent", "count_basis"]
    if len(m.inputs) > 1:
        cols.append("input")
    cols += ["source_url", "source_note"]
    return tuple(cols)
