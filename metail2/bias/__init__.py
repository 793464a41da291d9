"""Small-study effects: Egger's regression test, Begg and Mazumdar's rank
correlation and Duval and Tweedie's trim-and-fill (metafor's ``regtest``,
``ranktest`` and ``trimfill``).

Each verb takes the effect-size stage's value (or a sheet and a measure) and
returns a frozen result with ``to_dict()`` (the JSON of ``metail2 bias``) and a
readable ``str()``. Every result carries the caveats of funnel asymmetry
(k < 10; single-arm proportions) in ``warnings``. What a funnel plot needs is
on the results: ``Egger.intercept``/``slope``/``line(se)`` and
``TrimFill.filled`` (yᵢ, vᵢ of each filled study).
"""
from ._begg import Begg, begg, kendall_test
from ._common import MIN_K, SINGLE_ARM, caveats
from ._egger import MODELS, PREDICTORS, Egger, egger
from ._trimfill import ESTIMATORS, FilledStudy, TrimFill, trimfill

__all__ = ["egger", "begg", "trimfill", "Egger", "Begg", "TrimFill", "FilledStudy", "kendall_test", "caveats",
           "PREDICTORS", "MODELS", "ESTIMATORS", "MIN_K", "SINGLE_ARM"]
