"""Readable tables of a :class:`~metail2.models.MetaResult`: plain text for
the terminal, HTML for Jupyter. Both are built from the same rows.

``to_text`` and ``to_html`` dispatch on the result's type
(``functools.singledispatch``): a new result type registers its own.
"""
from __future__ import annotations

import html
import math
from functools import singledispatch

from ..effects import study_ci
from ..models import MetaResult
from .format import NATURAL_NAME, interval, p_phrase, p_table, subgroup_test_line, tau2_interval
from .format import number as fmt

def title(r) -> str:
    m = r.measure
    model = "common-effect" if r.method == "FE" else "random-effects"
    test = {"hk": "Hartung–Knapp (t)", "hk-adhoc": "Hartung–Knapp (t), ad hoc s² ≥ 1"}.get(r.test, "z")
    t = (f"{model.capitalize()} meta-analysis · {m.name} ({m.label}) · method {r.method} · test {test}"
         f" · convention {r.convention}")
    if r.level != 0.95:
        t += f" · {100 * r.level:g}% intervals"
    if r.by:
        t += f" · subgroups by {r.by} ({r.subgroup_tau2} τ²)"
    return t


def study_rows(r):
    """(study, subgroup, natural estimate [95% CI], weight %) per pooled study."""
    weights = {}
    if r.subgroups and r.subgroup_tau2 == "separate":
        for g in r.subgroups.values():
            weights.update(zip(g.study_ids, g.weights))
    else:
        weights.update(zip(r.overall.study_ids, r.overall.weights))
    rows = []
    studies = r.effects.studies
    if r.subgroups:
        order = {g: i for i, g in enumerate(r.subgroups)}
        studies = sorted(studies, key=lambda s: order.get(s.row.text(r.by) or "(missing)", 0))
    for s in studies:
        est, lo, hi = study_ci(r.measure, s, r.level)
        rows.append((s.study_id, s.row.text(r.by) if r.by else "", fmt(s.yi, 4), fmt(math.sqrt(s.vi), 4),
                     f"{fmt(est)} {interval(lo, hi)}", fmt(weights.get(s.study_id), 1)))
    return rows


def pooled_rows(r):
    """One row per subgroup and one for the overall model."""
    rows = []
    items = list((r.subgroups or {}).items()) + [("Overall", r.overall)]
    for name, g in items:
        n = g.natural
        het = hasattr(g, "tau2") and g.k > 1
        pi = ""
        if het and g.pi_lower is not None:
            pi = interval(n.pi_lower, n.pi_upper)
        rows.append((
            name, str(g.k), f"{fmt(g.estimate, 4)} ({fmt(g.se, 4)})", f"{fmt(n.estimate)} {interval(n.ci_lower, n.ci_upper)}",
            p_table(g.p),
            fmt(g.tau2, 4) if het else "", tau2_interval(g.tau2_ci) if het else "",
            fmt(g.i2, 1) if het else "", fmt(g.i2_q, 1) if het else "",
            f"{fmt(g.q, 2)} ({g.q_df}) {p_phrase(g.q_p)}" if het else "",
            pi,
        ))
    return rows


STUDY_HEAD = ("Study", "Subgroup", "yi", "SE", "Natural [95% CI]", "Weight %")
POOLED_HEAD = ("Model", "k", "Estimate (SE)", "Natural [95% CI]", "p", "τ²", "τ² 95% CI", "I² %", "I²(Q) %",
               "Q (df) p", "Natural 95% PI")


def _table(head, rows) -> list[str]:
    cols = list(zip(head, *rows)) if rows else [(h,) for h in head]
    keep = [i for i, c in enumerate(cols) if any(x for x in c[1:]) or i == 0]
    widths = [max(len(x) for x in cols[i]) for i in keep]
    out = []
    for j, row in enumerate([head] + list(rows)):
        out.append("  ".join(row[i].ljust(w) if n == 0 else row[i].rjust(w) for n, (i, w) in enumerate(zip(keep, widths))).rstrip())
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def text_report(r) -> str:
    nat = NATURAL_NAME[r.measure.natural]
    lines = [title(r), f"Sheet: {r.effects.sheet.path} · {r.effects.k} pooled, {len(r.effects.excluded)} excluded"
             + (f" · natural scale: {nat}" if nat else ""), ""]
    lines += _table(STUDY_HEAD if r.by else STUDY_HEAD[:1] + STUDY_HEAD[2:],
                    study_rows(r) if r.by else [x[:1] + x[2:] for x in study_rows(r)])
    lines.append("")
    lines += _table(POOLED_HEAD, pooled_rows(r))
    st = subgroup_test_line(r)
    if st:
        lines += ["", st]
    if r.effects.excluded:
        lines += ["", "Excluded from pooling:"]
        lines += [f"  {e.study_id} (line {e.source.line}): {e.reason}" for e in r.effects.excluded]
    if r.warnings:
        lines += ["", "Notes:"] + [f"  - {w}" for w in r.warnings]
    return "\n".join(lines)


def _html_table(head, rows) -> str:
    h = "".join(f"<th>{html.escape(x)}</th>" for x in head)
    b = "".join("<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{b}</tbody></table>"


def html_report(r) -> str:
    parts = [f"<p><b>{html.escape(title(r))}</b><br>Sheet: {html.escape(r.effects.sheet.path)} · "
             f"{r.effects.k} pooled, {len(r.effects.excluded)} excluded</p>",
             _html_table(STUDY_HEAD, study_rows(r)), _html_table(POOLED_HEAD, pooled_rows(r))]
    st = subgroup_test_line(r)
    if st:
        parts.append(f"<p>{html.escape(st)}</p>")
    if r.effects.excluded:
        parts.append("<p>Excluded from pooling:</p><ul>" + "".join(
            f"<li>{html.escape(e.study_id)} (line {e.source.line}): {html.escape(e.reason)}</li>"
            for e in r.effects.excluded) + "</ul>")
    if r.warnings:
        parts.append("<p>Notes:</p><ul>" + "".join(f"<li>{html.escape(w)}</li>" for w in r.warnings) + "</ul>")
    return "<div class='metail2-result'>" + "".join(parts) + "</div>"


@singledispatch
def to_text(obj) -> str:
    """The terminal table of a result value."""
    raise TypeError(f"no text table for {type(obj).__name__}")


@singledispatch
def to_html(obj) -> str:
    """The HTML table of a result value (Jupyter's ``_repr_html_``)."""
    raise TypeError(f"no HTML table for {type(obj).__name__}")


to_text.register(MetaResult, text_report)
to_html.register(MetaResult, html_report)
