"""The report's tables of the sheet and the pooled result, with provenance:
every study row links to its sheet file and line (and to PubMed or the DOI
where the sheet gives one); every pooled number names the studies it pooled.

Each function takes result values and returns a :class:`~._table.Table`
(shown as HTML in a notebook, as text in a terminal, and by the HTML and Word
reports).
"""
from __future__ import annotations

import os
import re
from urllib.parse import quote

from ..effects import study_ci
from ..sheets import INPUT_COLUMNS
from ._table import Cell, Link, Row, Table
from .format import interval, number, p_table, subgroup_test_line, tau2_interval

#: Sheet columns not shown among a study's characteristics: its identity and
#: provenance (shown as links), the numbers (shown with the effect sizes), and
#: long free text.
NOT_CHARACTERISTICS = {"study_id", "pmid", "doi", "citation", "source_url", "source_note", "count_basis",
                       "reported_percent", "input", "notes", "note", "reconcile_note"}
ROB_SETS = (("RoB 2", "rob", 5), ("ROBINS-I", "robins", 7))
#: An unknown grouping value (as :mod:`metail2.models.subgroups` reads them).
PUBMED = "https://pubmed.ncbi.nlm.nih.gov/{}/"
DOI = "https://doi.org/{}"
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


# --------------------------------------------------------------------------- provenance

def study_anchor(line: int) -> str:
    """The HTML id of a sheet row's line in the report."""
    return f"study-{line}"


def sheet_href(path: str, line: int | None = None, base: str | None = None) -> str:
    """A link to the sheet file (relative to the report's folder ``base``),
    with ``#L<line>`` as code hosts number lines."""
    target = path
    if base is not None and not path.startswith("<"):
        target = os.path.relpath(os.path.abspath(path), os.path.abspath(base))
    target = quote(target.replace(os.sep, "/"), safe="/._-~")
    return target + (f"#L{line}" if line else "")


def record_links(row) -> tuple[Link, ...]:
    """PubMed and DOI links of a sheet row, for well-formed identifiers only
    (a cell can never become a ``javascript:`` or other link)."""
    links = []
    pmid = row.text("pmid")
    if pmid.isdigit() and pmid.isascii():
        links.append(Link(f"PMID {pmid}", PUBMED.format(pmid)))
    doi = re.sub(r"^(doi:\s*|https?://(dx\.)?doi\.org/)", "", row.text("doi"), flags=re.I)
    if _DOI.match(doi) and doi.isascii():
        links.append(Link(f"doi:{doi}", DOI.format(quote(doi, safe="/:;()._-<>[]"))))
    return tuple(links)


def studies_cell(ids, lines: dict, title: str = "Pooled") -> Cell:
    """The studies a number pooled, each a link to its row."""
    ids = list(ids)
    return Cell("", title=f"{title}: " + "; ".join(ids),
                links=tuple(Link(i, "#" + study_anchor(lines[i])) for i in ids if i in lines))


def pooled_title(ids) -> str:
    return "Pooled: " + "; ".join(ids)


def natural_heading(measure) -> str:
    """What the natural scale of a measure is called in a column heading."""
    if measure.natural in ("expit", "ipft") or measure.name == "PR":
        return "Proportion"
    return measure.name


def study_lines(effects) -> dict:
    """study_id → sheet line, for every row of the sheet."""
    return {r.study_id: r.line for r in effects.sheet.rows}


# --------------------------------------------------------------------------- tables

def characteristics_table(effects, base: str | None = None, by: str | None = None) -> Table:
    """Every row of the sheet: its characteristics, the sheet line it came
    from and its PubMed/DOI record; columns the same for every study are
    named once in the caption."""
    sheet = effects.sheet
    inputs = {c for cols in INPUT_COLUMNS.values() for c in cols}
    rob = {c for _, p, n in ROB_SETS for c in [f"{p}_d{i}" for i in range(1, n + 1)] + [f"{p}_overall"]}
    cols = [c for c in sheet.columns if c not in NOT_CHARACTERISTICS | inputs | rob]
    constant = []
    if len(sheet.rows) > 1:
        constant = [c for c in cols if c != by and len({r.text(c) for r in sheet.rows}) == 1]
    cols = [c for c in cols if c not in constant]
    pooled = {s.study_id for s in effects.studies}
    rows = []
    for r in sheet.rows:
        links = record_links(r)
        cells = [Cell(r.study_id or "(no study_id)"),
                 Cell(f"{os.path.basename(sheet.path)}:{r.line}", href=sheet_href(sheet.path, r.line, base)),
                 Cell("", links=links) if links else Cell("–"),
                 Cell("pooled" if r.study_id in pooled else "not pooled")]
        cells += [Cell(r.text(c)) for c in cols]
        rows.append(Row(tuple(cells), anchor=study_anchor(r.line)))
    caption = f"{len(sheet.rows)} rows of {sheet.path}"
    if constant:
        caption += "; every study: " + "; ".join(f"{c} = {sheet.rows[0].text(c) or '(empty)'}" for c in constant)
    return Table("characteristics", "Study characteristics", ("Study", "Sheet line", "Record", "Analysis", *cols),
                 tuple(rows), caption)


def _input_text(s) -> str:
    cols = INPUT_COLUMNS.get(s.input, ())
    return ", ".join(f"{c} {s.row.text(c)}" for c in cols if s.row.text(c))


def effects_table(result) -> Table:
    """The pooled studies: the data used, yᵢ and SE, the natural-scale
    estimate with its CI, and the weights."""
    r = result
    weights_overall = dict(zip(r.overall.study_ids, r.overall.weights))
    weights_group = {}
    if r.subgroups and r.subgroup_tau2 == "separate":
        for g in r.subgroups.values():
            weights_group.update(zip(g.study_ids, g.weights))
    nat = natural_heading(r.measure)
    head = ["Study"] + ([r.by] if r.by else []) + ["Data used", "yi", "SE", f"{nat} [95% CI]"]
    head += (["Weight % (subgroup)"] if weights_group else []) + ["Weight % (overall)"]
    rows = []
    order = list(r.subgroups) if r.subgroups else []
    studies = sorted(r.effects.studies, key=lambda s: order.index(_group(s, r.by)) if _group(s, r.by) in order else 0)
    for s in studies:
        est, lo, hi = study_ci(r.measure, s, r.level)
        cells = [Cell(s.study_id, href="#" + study_anchor(s.source.line))]
        if r.by:
            cells.append(Cell(s.row.text(r.by) or "(empty)"))
        cells += [Cell(_input_text(s) + (f" ({s.note})" if s.note else "")), Cell(number(s.yi, 4), numeric=True),
                  Cell(number(s.sei, 4), numeric=True), Cell(f"{number(est)} {interval(lo, hi)}", numeric=True)]
        if weights_group:
            cells.append(Cell(number(weights_group.get(s.study_id), 1), numeric=True))
        cells.append(Cell(number(weights_overall.get(s.study_id), 1), numeric=True))
        rows.append(Row(tuple(cells)))
    return Table("effects", "Effect sizes of the pooled studies", tuple(head), tuple(rows),
                 f"{r.measure.name} ({r.measure.label}); yi and SE on the analysis scale, estimates and 95% CIs "
                 f"on the natural scale")


def _group(s, by):
    from ..models.subgroups import MISSING_GROUP

    return (s.row.text(by) or MISSING_GROUP) if by else None


def check_table(check, effects, base: str | None = None) -> Table:
    """The sheet check: the rows not pooled and why, and the sheet's warnings."""
    sheet = effects.sheet
    rows = [Row((Cell(e.study_id, href="#" + study_anchor(e.source.line)),
                 Cell(f"{os.path.basename(e.source.file)}:{e.source.line}", href=sheet_href(e.source.file, e.source.line, base)),
                 Cell(e.reason))) for e in effects.excluded]
    caption = (f"{len(sheet.rows)} rows; {effects.k} pooled for {effects.measure.name}, "
               f"{len(effects.excluded)} not pooled; {len(check.errors)} errors and {len(check.warnings)} warnings "
               "in the sheet check")
    notes = tuple(f"line {p.line}: {p.study or ''}: {p.column or ''}: {p.message}".replace(": : ", ": ")
                  for p in check.warnings)
    return Table("check", "The sheet check: rows not pooled and why", ("Study", "Sheet line", "Reason"),
                 tuple(rows), caption, notes)


def _groups(r):
    items = [(f"{r.by} = {g}", g, est) for g, est in (r.subgroups or {}).items()]
    return items + [("Overall", None, r.overall)]


def pooled_table(result) -> Table:
    """The pooled estimate per subgroup and overall, on the natural scale,
    each with the studies it pooled."""
    r = result
    lines = study_lines(r.effects)
    nat = natural_heading(r.measure)
    rows = []
    for label, _, g in _groups(r):
        t = pooled_title(g.study_ids)
        n = g.natural
        pi = ""
        if getattr(g, "pi_lower", None) is not None and g.k > 1:
            pi = interval(n.pi_lower, n.pi_upper)
        rows.append(Row((
            Cell(label), Cell(str(g.k), numeric=True, title=t),
            Cell(f"{number(n.estimate)} {interval(n.ci_lower, n.ci_upper)}", numeric=True, title=t),
            Cell(f"{number(g.estimate, 4)} ({number(g.se, 4)})", numeric=True, title=t),
            Cell(p_table(g.p), numeric=True, title=t), Cell(pi, numeric=True, title=t),
            studies_cell(g.study_ids, lines)), strong=label == "Overall"))
    footer = tuple(x for x in [subgroup_test_line(r)] if x)
    return Table("pooled", "Pooled results" + (f" by {r.by}" if r.by else ""),
                 ("Analysis", "k", f"{nat} [95% CI]", f"{r.measure.name} estimate (SE)", "p", f"{nat} 95% PI",
                  "Studies pooled"), tuple(rows),
                 "Estimate and 95% CI on the natural scale; the analysis-scale estimate and SE beside it; "
                 "hover a number (or read the last column) for the studies it pooled.", tuple(r.warnings), footer)


def heterogeneity_table(result) -> Table:
    """τ² with its Q-profile CI, both I², H² and Cochran's Q, per subgroup and overall."""
    r = result
    rows = []
    for label, _, g in _groups(r):
        t = pooled_title(g.study_ids)
        if not hasattr(g, "tau2"):
            rows.append(Row((Cell(label), Cell(str(g.k), numeric=True, title=t)) + tuple(Cell("–") for _ in range(6))))
            continue
        het = g.k > 1
        rows.append(Row((
            Cell(label), Cell(str(g.k), numeric=True, title=t),
            Cell(f"{number(g.tau2, 4)} {tau2_interval(g.tau2_ci)}" if het and g.tau2_ci is not None
                 else (number(g.tau2, 4) if het else "–"), numeric=True, title=t),
            Cell(number(g.i2, 1) if het else "–", numeric=True, title=t),
            Cell(number(g.i2_q, 1) if het else "–", numeric=True, title=t),
            Cell(number(g.h2, 2) if het else "–", numeric=True, title=t),
            Cell(f"{number(g.q, 2)} ({g.q_df})" if het else "–", numeric=True, title=t),
            Cell(p_table(g.q_p) if het else "–", numeric=True, title=t)), strong=label == "Overall"))
    footer = tuple(x for x in [subgroup_test_line(r)] if x)
    if r.tau2_residual is not None:
        footer += (f"Residual τ² of the model with the subgroup factor: {number(r.tau2_residual, 4)}",)
    return Table("heterogeneity", "Heterogeneity",
                 ("Analysis", "k", "τ² [95% CI]", "I² %", "I² (Q) %", "H²", "Q (df)", "p (Q)"), tuple(rows),
                 "τ² with its Q-profile 95% CI; I² from τ² (metafor) and from Q, (Q − df)/Q (RevMan, meta).",
                 (), footer)


def rob_table(effects) -> Table | None:
    """Risk-of-bias judgements (RoB 2: ``rob_d1``…``rob_d5``, ``rob_overall``;
    ROBINS-I: ``robins_d1``…``robins_d7``, ``robins_overall``), or None when
    the sheet has none."""
    sheet = effects.sheet
    for tool, prefix, n in ROB_SETS:
        cols = [c for c in [f"{prefix}_d{i}" for i in range(1, n + 1)] + [f"{prefix}_overall"] if c in sheet.columns]
        if not cols:
            continue
        rows = []
        for r in sheet.rows:
            cells = [Cell(r.study_id, href="#" + study_anchor(r.line))]
            cells += [Cell(r.text(c) or "–", css="rob-" + _rob_class(r.text(c))) for c in cols]
            rows.append(Row(tuple(cells)))
        head = ("Study",) + tuple(c.replace(f"{prefix}_", "").replace("d", "D", 1) if c != f"{prefix}_overall"
                                  else "Overall" for c in cols)
        return Table("rob", f"Risk of bias ({tool})", head, tuple(rows), f"Judgements as extracted in {sheet.path}")
    return None


def _rob_class(text: str) -> str:
    t = text.lower()
    for key, css in (("low", "low"), ("some", "some"), ("moderate", "some"), ("high", "high"),
                     ("serious", "high"), ("critical", "critical")):
        if t.startswith(key):
            return css
    return "unknown"


__all__ = ["characteristics_table", "effects_table", "check_table", "pooled_table", "heterogeneity_table",
           "rob_table", "record_links", "sheet_href", "study_anchor", "natural_heading", "studies_cell"]
