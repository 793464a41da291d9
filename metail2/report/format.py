"""Formatting shared by tables, plots and reports: numbers, p-values,
intervals, and the heterogeneity, overall-effect and subgroup-test lines.

Defined once here; :mod:`.tables` (terminal and HTML) and
:mod:`metail2.plots` both use them.
"""
from __future__ import annotations

import math

#: What the natural scale of a back-transformation is called.
NATURAL_NAME = {"exp": "ratio", "expit": "proportion", "ipft": "proportion", "identity": ""}
MINUS = "−"  # U+2212, for figures


def number(x, d: int = 3, *, minus: str = "-") -> str:
    """``x`` with ``d`` decimals; "–" when missing, "∞" for infinity, never
    a negative zero; ``minus`` replaces the hyphen (figures use U+2212)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else minus + "∞"
    s = f"{x:.{d}f}"
    if s.startswith("-") and float(s) == 0:
        s = s[1:]
    return s.replace("-", minus)


def p_table(p) -> str:
    """A p-value in a table cell: "<0.0001" or four decimals."""
    if p is None or math.isnan(p):
        return "–"
    return "<0.0001" if p < 0.0001 else f"{p:.4f}"


def p_phrase(p) -> str:
    """A p-value in running text: "p < 0.0001", "p = 0.0004", "p = 0.012"."""
    if p is None or not math.isfinite(p):
        return "–"
    if p < 0.0001:
        return "p < 0.0001"
    return f"p = {p:.4f}" if p < 0.001 else f"p = {p:.3f}"


def interval(lo, hi, d: int = 3, *, minus: str = "-") -> str:
    """"[lo, hi]"."""
    return f"[{number(lo, d, minus=minus)}, {number(hi, d, minus=minus)}]"


def estimate_ci(est, lo, hi, d: int = 3, *, minus: str = "-") -> str:
    """"est [lo, hi]"."""
    return f"{number(est, d, minus=minus)} {interval(lo, hi, d, minus=minus)}"


def tau2_interval(ci) -> str:
    """A Q-profile τ² CI: "[0, 0] (null set)" when empty, "≥"/">" on bounds at the search limit."""
    if ci is None:
        return "–"
    if ci.empty:
        return "[0, 0] (null set)"
    lo = ("≥" if ci.lower_sign == ">" else "") + number(ci.lower, 4)
    hi = (">" if ci.upper_sign == ">" else "") + number(ci.upper, 4)
    return f"[{lo}, {hi}]"


def heterogeneity_line(g, d: int = 2) -> str:
    """"Heterogeneity: τ² = …; Q = …, df = … (p …); I² = …%" for a figure."""
    if g.k == 1:
        return "Heterogeneity: not applicable (k = 1)"
    tau = "" if g.method == "FE" else f"τ² = {number(g.tau2, max(d, 2) + 1, minus=MINUS)}; "
    return (f"Heterogeneity: {tau}Q = {number(g.q, 2, minus=MINUS)}, df = {g.q_df} ({p_phrase(g.q_p)}); "
            f"I² = {g.i2:.0f}%")


def overall_test_line(g) -> str:
    """"Test for overall effect: z = … (p …)" (t(df) under Hartung–Knapp)."""
    stat = "t" if g.df is not None else "z"
    df = f"({g.df})" if g.df is not None else ""
    return f"Test for overall effect: {stat}{df} = {number(g.stat, 2, minus=MINUS)} ({p_phrase(g.p)})"


def subgroup_test_line(r, *, figure: bool = False) -> str | None:
    """The test for subgroup differences of a pooled result, for a table
    (``figure=False``: names the statistic, adds the residual τ²) or a figure."""
    st = r.subgroup_test
    if st is None:
        return None
    if figure:
        if st.statistic == "F":
            return f"Test for subgroup differences: F({st.df}, {st.df2}) = {number(st.q, 2, minus=MINUS)} ({p_phrase(st.p)})"
        return f"Test for subgroup differences: Q = {number(st.q, 2, minus=MINUS)}, df = {st.df} ({p_phrase(st.p)})"
    if st.statistic == "F":
        s = f"Test for subgroup differences (QM as F): F({st.df}, {st.df2}) = {st.q:.3f}, p = {p_table(st.p)}"
    else:
        kind = "Q between subgroups" if r.subgroup_tau2 == "separate" else "QM"
        s = f"Test for subgroup differences ({kind}): Q = {st.q:.3f}, df = {st.df}, p = {p_table(st.p)}"
    if r.tau2_residual is not None:
        s += f"; residual τ² = {r.tau2_residual:.4f}"
    return s


__all__ = ["number", "p_table", "p_phrase", "interval", "estimate_ci", "tau2_interval", "heterogeneity_line",
           "overall_test_line", "subgroup_test_line", "NATURAL_NAME", "MINUS"]
