"""metail2: literature meta-analysis from PubMed search to forest plot.

The pipeline, one verb and one immutable value per stage (metafor's
escalc → rma): ``read_sheet`` → :class:`Sheet`; ``escalc`` →
:class:`EffectSizes`; ``pool`` → :class:`MetaResult`.
Heavy modules load on first use.
"""
__version__ = "0.1.0"

_LAZY = {
    "read_sheet": "sheets", "Sheet": "sheets",
    "escalc": "effects", "EffectSizes": "effects", "StudyEffect": "effects", "MEASURES": "effects",
    "pool": "pooling", "METHODS": "pooling",
    "MetaResult": "results", "Pooled": "results", "GroupEstimate": "results", "SubgroupTest": "results",
    "SheetError": "errors", "Problem": "errors", "MetailWarning": "errors",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'metail2' has no attribute {name!r}")


def __dir__():
    return __all__
