"""Reporting: formatting shared by tables and plots (:mod:`.format`), the
terminal and HTML tables of results (:mod:`.tables`), and the review report
(:mod:`.document`, :mod:`.html`, :mod:`.docx`).

``metail2.report(sheet, measure, ..., output="report.html")`` — the module is
callable — writes the self-contained review report. The report needs figures
and the records store, which live above and beside this layer, so the call is
bound late to :func:`metail2.cli.report.report`, the one place that may
gather them (the same sanctioned late binding as :mod:`metail2._display`).
"""
import sys as _sys
import types as _types

from .format import (estimate_ci, heterogeneity_line, interval, number, overall_test_line, p_phrase, p_table,
                     subgroup_test_line, tau2_interval)
from .tables import html_report, text_report, to_html, to_text
from . import sensitivity as _sensitivity  # noqa: F401,E402  (registers the sensitivity tables)

__all__ = ["to_text", "to_html", "text_report", "html_report", "number", "p_table", "p_phrase", "interval",
           "estimate_ci", "tau2_interval", "heterogeneity_line", "overall_test_line", "subgroup_test_line"]


class _CallableModule(_types.ModuleType):
    def __call__(self, *args, **kwargs):
        """The review report: :func:`metail2.cli.report.report`."""
        from importlib import import_module

        return import_module("metail2.cli.report").report(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
