"""metail2: literature meta-analysis from PubMed search to forest plot.

The pipeline, one verb and one immutable value per stage (metafor's
escalc → rma): ``read_sheet`` → :class:`Sheet`; ``escalc`` →
:class:`EffectSizes`; ``pool`` → :class:`MetaResult` (``metareg`` with
moderators); ``egger``, ``begg``, ``trimfill`` for small-study effects;
``leave1out``, ``cumulative``, ``influence``, ``gosh`` for sensitivity;
``forest``, ``funnel`` and ``bubble`` draw. Subpackages follow the reviewer's pipeline: ``review``,
``sheets``, ``effects``, ``models``, ``report``, ``plots``, ``cli``.
Heavy modules load on first use.
"""
from typing import TYPE_CHECKING

from ._version import __version__

_LAZY = {
    "read_sheet": "sheets", "check_sheet": "sheets", "Sheet": "sheets", "SheetCheck": "sheets",
    "escalc": "effects", "EffectSizes": "effects", "StudyEffect": "effects", "MEASURES": "effects",
    "pool": "models", "METHODS": "models", "fit": "models",
    "MetaResult": "models", "Pooled": "models", "GroupEstimate": "models", "SubgroupTest": "models",
    "metareg": "models", "MetaRegression": "models", "pool_many": "models",
    "egger": "bias", "begg": "bias", "trimfill": "bias",
    "leave1out": "sensitivity", "cumulative": "sensitivity", "influence": "sensitivity", "gosh": "sensitivity",
    "forest": "plots", "funnel": "plots", "bubble": "plots",
    "report": None,  # the subpackage, callable: metail2.report(sheet, measure, ..., output=...)
    "SheetError": "errors", "Problem": "errors", "MetailWarning": "errors",
}

if TYPE_CHECKING:  # pragma: no cover  (what type checkers and IDEs see; the names are re-exported)
    from .effects import MEASURES, EffectSizes, StudyEffect, escalc  # noqa: F401
    from .errors import MetailWarning, Problem, SheetError  # noqa: F401
    from .bias import begg, egger, trimfill  # noqa: F401
    from .models import (  # noqa: F401
        METHODS, GroupEstimate, MetaRegression, MetaResult, Pooled, SubgroupTest, fit, metareg, pool, pool_many)
    from .plots import bubble, forest, funnel  # noqa: F401
    from .sensitivity import cumulative, gosh, influence, leave1out  # noqa: F401
    from .sheets import Sheet, SheetCheck, check_sheet, read_sheet  # noqa: F401

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        if _LAZY[name] is None:  # a subpackage exposed as such
            value = importlib.import_module(f".{name}", __name__)
        else:
            value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'metail2' has no attribute {name!r}")


def __dir__():
    return __all__
