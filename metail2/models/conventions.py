"""Conventions by name: what a result reproduces.

- ``metail2`` (default): exact, unit-free numerics (:data:`~metail2.models.numerics.EXACT`);
  otherwise metafor 3.8's definitions.
- ``metafor``: metafor 3.8 to the last digit, its root-finding tolerance and
  absolute search limits included (:data:`~metail2.models.numerics.METAFOR`).
- ``revman5``: RevMan 5 as R meta 6.5 computes it under
  ``settings.meta("RevMan5")``: Mantel–Haenszel common effect for two-arm
  counts, DerSimonian–Laird with Q around the MH estimate, Q-based I²,
  no prediction interval, double-zero studies excluded, SMD with the
  approximate Hedges correction and RevMan's variance.

Adding a convention is one :class:`Convention` and one entry in :data:`CONVENTIONS`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .numerics import EXACT, METAFOR, Numerics


@dataclass(frozen=True)
class Convention:
    """The rules a result follows.

    Attributes
    ----------
    name : str
    numerics : Numerics
        Tolerances and search limits of τ² estimation and the τ² CI.
    prediction : bool
        Report a prediction interval (not under RevMan 5).
    i2 : {"tau2", "q"}
        The I² printed first: metafor's (from τ²) or (Q − df)/Q (RevMan, meta).
    mh_common : bool
        The common effect of two-arm counts (OR, RR, RD) is Mantel–Haenszel,
        and Q (hence DL's τ²) is taken around it.
    drop00 : bool
        Exclude two-arm tables with no events in both arms.
    smd : {"exact", "revman5"}
        The SMD's variance: metafor's large-sample 1/n₁ + 1/n₂ + g²/(2N), or
        as R meta 6.5 computes it under its RevMan 5 settings (see
        :class:`metail2.effects.formulas.Options`).
    mh_rd_variance : {"Sato", "GR"}
        Variance of the MH risk difference: Sato, Greenland & Robins (1989),
        as metafor; or Greenland & Robins (1985), as RevMan 5.
    label : str
        How figures and tables name it.
    """

    name: str
    numerics: Numerics
    prediction: bool = True
    i2: str = "tau2"
    mh_common: bool = False
    drop00: bool = False
    smd: str = "exact"
    mh_rd_variance: str = "Sato"
    label: str = ""


CONVENTIONS: Mapping[str, Convention] = {
    c.name: c for c in (
        Convention("metail2", EXACT, label="exact numerics"),
        Convention("metafor", METAFOR, label="metafor 3.8"),
        Convention("revman5", EXACT, prediction=False, i2="q", mh_common=True, drop00=True, smd="revman5",
                   mh_rd_variance="GR", label="RevMan 5"),
    )
}
DEFAULT = "metail2"


def get_convention(name: "str | Convention") -> Convention:
    if isinstance(name, Convention):
        return name
    from ..errors import Problem, SheetError

    try:
        return CONVENTIONS[name.lower()]
    except (KeyError, AttributeError):
        raise SheetError([Problem("<arguments>", None, None, "convention",
                                  f"unknown convention {name!r}; choose from {', '.join(CONVENTIONS)}")]) from None
