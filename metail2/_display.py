"""How a result value shows itself (``str(result)``, ``_repr_html_``).

Result values live in the model layer, their tables in :mod:`metail2.report`,
one layer up. This hook is the one sanctioned late binding from a lower layer
to a higher one: ``show`` loads :mod:`metail2.report` when a value is first
displayed and asks its ``to_text``/``to_html`` (``functools.singledispatch``
functions, registered per result type). The layer test names this module as
the only exception.
"""
from __future__ import annotations


def show(obj, kind: str) -> str:
    """``kind`` is ``"text"`` or ``"html"``."""
    from importlib import import_module

    return getattr(import_module("metail2.report"), f"to_{kind}")(obj)
