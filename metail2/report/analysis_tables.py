"""The report's tables of the analyses beyond pooling: the estimator and
convention comparison, leave-one-out, influence diagnostics, small-study
effects and meta-regression. Each takes the analysis's own result value and
returns a :class:`~._table.Table`; pooled numbers carry the studies they pooled."""
from __future__ import annotations

import math

from ..effects import to_natural
from ._table import Cell, Row, Table
from .format import interval, number, p_table
from .sections import natural_heading, pooled_title, study_anchor, study_lines


def _nat(measure, x, ni=()):
    if x is None or not math.isfinite(float(x)):
        return float("nan")
    return to_natural(measure, float(x), list(ni))


def _ni(studies, skip=None):
    return [s.ni for s in studies if s.ni is not None and s.study_id != skip]


def estimators_table(rows, chosen: str, measure, by: str | None) -> Table:
    """One row per method (or convention): the overall and each subgroup's
    natural-scale estimate with its CI, and the overall τ².

    ``rows`` are ``(label, MetaResult or None, why not)``; ``chosen`` is the
    label of the analysis the report is about."""
    groups = []
    for _, res, _ in rows:
        if res is not None and res.subgroups:
            groups = list(res.subgroups)
            break
    nat = natural_heading(measure)
    out, notes = [], []
    for label, res, why in rows:
        if res is None:
            notes.append(f"{label}: not computed ({why})")
            continue
        cells = [Cell(label + (" (this analysis)" if label == chosen else ""))]
        for g in [res.overall] + [res.subgroups[x] for x in groups if res.subgroups and x in res.subgroups]:
            n = g.natural
            cells.append(Cell(f"{number(n.estimate)} {interval(n.ci_lower, n.ci_upper)}", numeric=True,
                              title=pooled_title(g.study_ids)))
        while len(cells) < 2 + len(groups):
            cells.append(Cell("–"))
        cells.append(Cell(number(getattr(res.overall, "tau2", None), 4), numeric=True,
                          title=pooled_title(res.overall.study_ids)))
        out.append(Row(tuple(cells), strong=label == chosen))
    head = ("Method", f"Overall {nat} [95% CI]") + tuple(f"{by} = {g}" for g in groups) + ("τ² (overall)",)
    return Table("estimators", "Sensitivity to the method: estimators, tests and conventions", head, tuple(out),
                 "The same studies pooled with other τ² estimators, inference and conventions.", tuple(notes))


def leave_one_out_table(series, effects) -> Table:
    """metafor's ``leave1out``: the overall model without each study in turn."""
    m = effects.measure
    f = series.fits
    ids = [s.study_id for s in effects.studies]
    lines = study_lines(effects)
    nat = natural_heading(m)
    rows = []
    for j, omitted in enumerate(series.labels):
        ni = _ni(effects.studies, omitted)
        kept = pooled_title([i for i in ids if i != omitted])
        rows.append(Row((
            Cell(omitted, href="#" + study_anchor(lines[omitted]) if omitted in lines else None),
            Cell(str(int(f.k[j])), numeric=True, title=kept),
            Cell(f"{number(_nat(m, f.estimate[j], ni))} {interval(_nat(m, f.ci_lower[j], ni), _nat(m, f.ci_upper[j], ni))}",
                 numeric=True, title=kept),
            Cell(p_table(float(f.p[j])), numeric=True, title=kept),
            Cell(number(float(f.tau2[j]), 4), numeric=True, title=kept),
            Cell(number(float(f.i2[j]), 1), numeric=True, title=kept),
            Cell(number(float(f.q[j]), 2), numeric=True, title=kept))))
    full = series.full
    allt = pooled_title(ids)
    ni = _ni(effects.studies)
    rows.append(Row((Cell("none (all studies)"), Cell(str(int(full.k[0])), numeric=True, title=allt),
                     Cell(f"{number(_nat(m, full.estimate[0], ni))} "
                          f"{interval(_nat(m, full.ci_lower[0], ni), _nat(m, full.ci_upper[0], ni))}", numeric=True,
                          title=allt),
                     Cell(p_table(float(full.p[0])), numeric=True, title=allt),
                     Cell(number(float(full.tau2[0]), 4), numeric=True, title=allt),
                     Cell(number(float(full.i2[0]), 1), numeric=True, title=allt),
                     Cell(number(float(full.q[0]), 2), numeric=True, title=allt)), strong=True))
    return Table("leave1out", "Leave-one-out analysis",
                 ("Omitted", "k", f"{nat} [95% CI]", "p", "τ²", "I² %", "Q"), tuple(rows),
                 f"The overall model ({series.model.method}, {series.model.test}) refitted without each study.")


def influence_table(infl, effects) -> Table:
    """metafor's ``influence.rma.uni`` diagnostics, one row per study."""
    lines = study_lines(effects)
    rows = []
    for i, sid in enumerate(infl.study_ids):
        vals = [infl.rstudent[i], infl.dffits[i], infl.cook_d[i], infl.cov_r[i], infl.tau2_del[i], infl.qe_del[i],
                infl.hat[i], infl.weight[i]]
        digits = [3, 3, 3, 3, 4, 2, 3, 1]
        flag = bool(infl.influential[i])
        rows.append(Row((Cell(sid, href="#" + study_anchor(lines[sid]) if sid in lines else None),)
                        + tuple(Cell(number(float(v), d), numeric=True) for v, d in zip(vals, digits))
                        + (Cell("yes" if flag else "no", css="flag" if flag else ""),), strong=flag))
    n = int(infl.influential.sum())
    return Table("influence", "Influence diagnostics",
                 ("Study", "rstudent", "DFFITS", "Cook's D", "cov. ratio", "τ² (−i)", "QE (−i)", "hat", "weight %",
                  "influential"), tuple(rows),
                 f"{n} of {infl.k} studies influential by metafor's criteria (|DFFITS| > 3√(1/(k−1)), "
                 "P(χ²₁ ≤ Cook's D) > 0.5, hat > 3/k or |DFBETAS| > 1).")


def small_study_table(measure, egger=None, begg=None, trimfill=None, ids=()) -> Table:
    """Egger's regression test, Begg's rank correlation and trim-and-fill,
    with the caveats every funnel-asymmetry method carries (k < 10, proportions)."""
    rows, notes = [], []
    allt = pooled_title(ids) if ids else None
    if egger is not None:
        stat = f"t = {number(egger.stat, 3)}, df = {egger.df}" if egger.df is not None else f"z = {number(egger.stat, 3)}"
        what = "limit estimate" if egger.limit_estimate else "intercept"
        rows.append(Row((Cell("Egger's regression test"), Cell(str(egger.k), numeric=True, title=allt),
                         Cell(stat, title=allt), Cell(p_table(egger.p), numeric=True, title=allt),
                         Cell(f"{what} {number(_nat(measure, egger.intercept))} "
                              f"{interval(_nat(measure, egger.intercept_ci_lower), _nat(measure, egger.intercept_ci_upper))}",
                              title=allt))))
        notes += egger.warnings
    if begg is not None:
        rows.append(Row((Cell("Begg and Mazumdar's rank correlation"), Cell(str(begg.k), numeric=True, title=allt),
                         Cell(f"Kendall's τ = {number(begg.tau, 3)}" + ("" if begg.exact else " (normal approx.)"),
                              title=allt),
                         Cell(p_table(begg.p), numeric=True, title=allt), Cell(""))))
        notes += begg.warnings
    if trimfill is not None:
        ni = tuple(trimfill.ni)
        filled = ", ".join(s.study_id for s in trimfill.filled)
        title = pooled_title(list(ids) + [s.study_id for s in trimfill.filled]) if ids else None
        rows.append(Row((Cell(f"Trim-and-fill ({trimfill.estimator})"), Cell(str(trimfill.k), numeric=True),
                         Cell(f"k0 = {trimfill.k0} on the {trimfill.side}" + (f" ({filled})" if filled else "")),
                         Cell(p_table(float(trimfill.fit.pval[0])), numeric=True, title=title),
                         Cell(f"adjusted {number(_nat(measure, trimfill.estimate, ni))} "
                              f"{interval(_nat(measure, trimfill.ci_lower, ni), _nat(measure, trimfill.ci_upper, ni))}",
                              title=title))))
        notes += trimfill.warnings
    seen = []
    for n in notes:
        if n not in seen:
            seen.append(n)
    return Table("small_study", "Small-study effects", ("Method", "k", "Statistic", "p", "Estimate [95% CI]"),
                 tuple(rows), f"Estimates on the natural scale ({natural_heading(measure)}).", tuple(seen))


def metareg_table(mr) -> Table:
    """A meta-regression's coefficients (analysis scale), its omnibus and residual tests."""
    f, qm = mr.fit, mr.fit.qm
    rows = tuple(Row((Cell(c.name), Cell(number(c.estimate, 4), numeric=True), Cell(number(c.se, 4), numeric=True),
                      Cell(number(c.stat, 3), numeric=True), Cell(p_table(c.p), numeric=True),
                      Cell(interval(c.ci_lower, c.ci_upper, 4), numeric=True))) for c in mr.coefficients)
    stat = "QM" if qm.statistic == "chisq" else "F"
    df = f"df = {qm.df}" if qm.statistic == "chisq" else f"df = {qm.df}, {qm.df2}"
    footer = (f"Test of moderators: {stat} = {number(qm.stat, 3)} ({df}), p = {p_table(qm.p)}",
              f"Residual heterogeneity: QE = {number(f.q, 3)} (df = {f.q_df}), p = {p_table(f.q_p)}"
              + ("" if f.common else f"; τ² = {number(f.tau2, 4)}; I² = {number(f.i2, 1)}%; R² = {number(mr.r2, 1)}%"))
    return Table("metareg", f"Meta-regression on {', '.join(mr.mods)}",
                 ("Coefficient", "Estimate", "SE", "z" if mr.test == "z" else "t", "p", "95% CI"), rows,
                 f"{mr.measure.name} on the analysis scale; k = {mr.k}; {mr.method}; "
                 f"studies: {'; '.join(s.study_id for s in mr.studies)}.", tuple(mr.warnings), footer)


__all__ = ["estimators_table", "leave_one_out_table", "influence_table", "small_study_table", "metareg_table"]
