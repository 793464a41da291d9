"""Reporting: formatting shared by tables and plots (:mod:`.format`), and the
terminal and HTML tables of results (:mod:`.tables`)."""
from .format import (estimate_ci, heterogeneity_line, interval, number, overall_test_line, p_phrase, p_table,
                     subgroup_test_line, tau2_interval)
from .tables import html_report, text_report, to_html, to_text

__all__ = ["to_text", "to_html", "text_report", "html_report", "number", "p_table", "p_phrase", "interval",
           "estimate_ci", "tau2_interval", "heterogeneity_line", "overall_test_line", "subgroup_test_line"]
