"""What the small-study tests share: reading the effect sizes, the caveats
every funnel-asymmetry method carries, and JSON numbers."""
from __future__ import annotations

import math

import numpy as np

from ..effects import EffectSizes, escalc
from ..errors import Problem, SheetError
from ..models.conventions import get_convention

#: Below this many studies, tests for funnel asymmetry have too little power
#: to tell chance from asymmetry (Cochrane Handbook, section 13.3.5.4).
MIN_K = 10
#: Measures of single-arm proportions: their sampling variance depends on the
#: proportion itself, so funnel asymmetry can arise without small-study effects.
SINGLE_ARM = ("PR", "PLO", "PFT")


def effect_sizes(effects, measure: str | None, drop00: bool = False, outcome: str | None = None,
                 analysis: str | None = None) -> EffectSizes:
    """The effect sizes of ``effects`` (an EffectSizes, or a sheet read with ``measure``)."""
    if isinstance(effects, EffectSizes):
        return effects
    if measure is None:
        raise SheetError([Problem("<arguments>", None, None, "measure", "a measure is needed to read a sheet")])
    return escalc(effects, measure, drop00=drop00, outcome=outcome, analysis=analysis)


def numerics_of(convention: str):
    """(name, τ² numerics) of a convention: ``metail2`` exact, ``metafor`` metafor's tolerances."""
    conv = get_convention(convention)
    if conv.name not in ("metail2", "metafor"):
        raise SheetError([Problem("<arguments>", None, None, "convention",
                                  f"small-study tests are not defined under the {conv.label} convention")])
    return conv.name, conv.numerics


def computed(effects: EffectSizes, what: str, f, *args, **kwargs):
    """``f(*args, **kwargs)``, with numerical failures turned into a problem of the sheet."""
    try:
        return f(*args, **kwargs)
    except (ArithmeticError, np.linalg.LinAlgError) as exc:
        raise SheetError([Problem(effects.sheet.path, None, None, None,
                                  f"cannot compute {what} ({type(exc).__name__}: {exc})")]) from None


def caveats(effects: EffectSizes) -> list[str]:
    """The warnings every funnel-asymmetry method should carry for these studies."""
    notes = []
    if effects.k < MIN_K:
        notes.append(f"k = {effects.k} < {MIN_K}: tests for funnel-plot asymmetry have little power and should not be "
                     "used with so few studies (Cochrane Handbook 13.3.5.4)")
    if effects.measure.name in SINGLE_ARM:
        notes.append(f"{effects.measure.name} is a single-arm proportion: its variance depends on the proportion "
                     "itself, so funnel asymmetry need not mean small-study effects or publication bias")
    return notes


def need(effects: EffectSizes, k_min: int, what: str) -> None:
    if effects.k < k_min:
        raise SheetError([Problem(effects.sheet.path, None, None, None,
                                  f"{what} needs at least {k_min} studies; {effects.k} usable")])


def num(x):
    """JSON number: None for missing or non-finite values."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None
