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


def p_jama(p) -> str:
    """A p-value as JAMA writes it: "P < .001", "P = .003" (3 decimals below
    .01), "P = .47" (2 decimals), "P > .99"."""
    if p is None or not math.isfinite(p):
        return "–"
    if p < 0.001:
        return "P < .001"
    if p < 0.01:
        return "P = " + f"{p:.3f}"[1:]
    if p > 0.99:
        return "P > .99"
    return "P = " + f"{p:.2f}".lstrip("0")


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


def heterogeneity_line(g, d: int = 2, *, i2: str = "tau2", p=p_phrase) -> str:
    """"Heterogeneity: τ² = …; Q = …, df = … (p …); I² = …%" for a figure.

    ``i2="tau2"`` prints metafor's I² (from τ²), ``"q"`` the Q-based
    100·(Q − df)/Q a reader computes from the Q and df beside it (RevMan,
    meta); ``p`` formats the p-value."""
    if g.k == 1:
        return "Heterogeneity: not applicable (k = 1)"
    tau = "" if g.method == "FE" else f"τ² = {number(g.tau2, max(d, 2) + 1, minus=MINUS)}; "
    value = g.i2_q if i2 == "q" else g.i2
    return (f"Heterogeneity: {tau}Q = {number(g.q, 2, minus=MINUS)}, df = {g.q_df} ({p(g.q_p)}); "
            f"I² = {value:.0f}%")


def overall_test_line(g, *, p=p_phrase) -> str:
    """"Test for overall effect: z = … (p …)" (t(df) under Hartung–Knapp); ``p`` formats the p-value."""
    stat = "t" if g.df is not None else "z"
    df = f"({g.df})" if g.df is not None else ""
    return f"Test for overall effect: {stat}{df} = {number(g.stat, 2, minus=MINUS)} ({p(g.p)})"


def subgroup_test_line(r, *, figure: bool = False, i2: bool = False, p=p_phrase) -> str | None:
    """The test for subgroup differences of a pooled result, for a table
    (``figure=False``: names the statistic, adds the residual τ²) or a figure
    (``i2=True`` adds the I² of subgroup differences, 100·(Q − df)/Q, as RevMan;
    ``p`` formats the p-value)."""
    st = r.subgroup_test
    if st is None:
        return None
    left_out = tuple(getattr(st, "unclassified", ()) or ())
    if figure:
        out = f" ({', '.join(left_out)} left out)" if left_out else ""
        if st.statistic == "F":
            return (f"Test for subgroup differences: F({st.df}, {st.df2}) = {number(st.q, 2, minus=MINUS)} "
                    f"({p(st.p)}){out}")
        s = f"Test for subgroup differences: Q = {number(st.q, 2, minus=MINUS)}, df = {st.df} ({p(st.p)})"
        if i2 and st.q > 0:
            from ..models.heterogeneity import i2_from_q  # (metail2.models loads SciPy: only when drawn)

            s += f"; I² = {i2_from_q(st.q, st.df):.1f}%"
        return s + out
    if st.statistic == "F":
        s = f"Test for subgroup differences (QM as F): F({st.df}, {st.df2}) = {st.q:.3f}, {p_phrase(st.p)}"
    else:
        kind = "Q between subgroups" if r.subgroup_tau2 == "separate" else "QM"
        s = f"Test for subgroup differences ({kind}): Q = {st.q:.3f}, df = {st.df}, {p_phrase(st.p)}"
    if r.tau2_residual is not None:
        s += f"; residual τ² = {r.tau2_residual:.4f}"
    if left_out:
        s += f"; {', '.join(left_out)} (unknown {r.by}) left out"
    return s


__all__ = ["number", "p_table", "p_phrase", "p_jama", "interval", "estimate_ci", "tau2_interval", "heterogeneity_line",
           "overall_test_line", "subgroup_test_line", "NATURAL_NAME", "MINUS"]
