"""Effect sizes from extraction sheets: metafor's ``escalc`` stage.

``escalc(sheet, measure)`` turns every row of a sheet into an effect size
``yi`` with its sampling variance ``vi`` on the analysis scale, or into an
exclusion with its reason. Each row uses whichever complete *input group* it
has (two-arm counts, means/SDs, single-arm counts, O−E and V, or a generic
estimate with SE, 95% CI or p-value), so one sheet can mix studies that report
counts with studies that report only a ratio and its CI.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from .errors import Problem, SheetError
from .schema import GENERIC, INPUT_COLUMNS, parse_number  # noqa: F401  (re-exported)
from .sheets import Row, Sheet, check_sheet, read_sheet

Z975 = 1.959963984540054  # qnorm(0.975), the 95% CI half-width in SEs


# --------------------------------------------------------------------------- measures

@dataclass(frozen=True)
class Measure:
    """An effect measure in metafor's vocabulary.

    Attributes
    ----------
    name : str
        ``OR``, ``RR``, ``RD``, ``HR``, ``MD``, ``SMD``, ``PR``, ``PLO``, ``PFT``.
    label : str
        What ``yi`` is.
    inputs : tuple of str
        Input groups it accepts, in order of preference.
    natural : str
        Back-transformation to the natural scale: ``identity``, ``exp``,
        ``expit`` or ``ipft`` (Freeman–Tukey inverse with the harmonic-mean n).
    null : float
        The null value on the analysis scale.
    """

    name: str
    label: str
    inputs: tuple[str, ...]
    natural: str
    null: float = 0.0

    @property
    def ratio(self) -> bool:
        """True for ratio measures, analysed on the log scale."""
        return self.natural == "exp"


MEASURES: Mapping[str, Measure] = {
    m.name: m
    for m in (
        Measure("OR", "log odds ratio", ("two-arm counts",) + GENERIC, "exp"),
        Measure("RR", "log risk ratio", ("two-arm counts",) + GENERIC, "exp"),
        Measure("RD", "risk difference", ("two-arm counts",) + GENERIC, "identity"),
        Measure("HR", "log hazard ratio", ("O-E and V",) + GENERIC, "exp"),
        Measure("MD", "mean difference", ("two-arm continuous",) + GENERIC, "identity"),
        Measure("SMD", "standardised mean difference (Hedges' g)", ("two-arm continuous",) + GENERIC, "identity"),
        Measure("PR", "raw proportion", ("single-arm counts",), "identity"),
        Measure("PLO", "logit proportion", ("single-arm counts",), "expit"),
        Measure("PFT", "Freeman-Tukey double arcsine proportion", ("single-arm counts",), "ipft"),
    )
}

# --------------------------------------------------------------------------- values

@dataclass(frozen=True)
class Source:
    """Where a row came from: the sheet file and the line the row starts on."""

    file: str
    line: int

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line}


@dataclass(frozen=True)
class StudyEffect:
    """One study's effect size.

    Attributes
    ----------
    study_id : str
    yi, vi : float
        Effect size and sampling variance on the analysis scale.
    input : str
        The input group it was computed from (e.g. ``"two-arm counts"``).
    note : str or None
        Any adjustment made (e.g. the zero-cell correction).
    ni : float or None
        Total sample size, where the input gives one (used by ``PFT``).
    source : Source
    row : Row
        The sheet row (cells as written), for grouping and display.
    """

    study_id: str
    yi: float
    vi: float
    input: str
    note: str | None
    ni: float | None
    source: Source
    row: Row = field(repr=False, compare=False)

    @property
    def sei(self) -> float:
        return math.sqrt(self.vi)

    def to_dict(self) -> dict:
        d = {"study_id": self.study_id, "yi": self.yi, "vi": self.vi, "input": self.input}
        if self.note:
            d["note"] = self.note
        d["source"] = self.source.to_dict()
        return d


@dataclass(frozen=True)
class Excluded:
    """A row that was not pooled, with the reason."""

    study_id: str
    reason: str
    source: Source

    def to_dict(self) -> dict:
        return {"study_id": self.study_id, "reason": self.reason, "source": self.source.to_dict()}


@dataclass(frozen=True)
class EffectSizes:
    """The effect-size stage's value: studies with ``yi``/``vi``, and exclusions.

    Attributes
    ----------
    measure : Measure
    studies : tuple of StudyEffect
        In sheet order.
    excluded : tuple of Excluded
        In sheet order.
    sheet : Sheet
    """

    measure: Measure
    studies: tuple[StudyEffect, ...]
    excluded: tuple[Excluded, ...]
    sheet: Sheet = field(repr=False, compare=False)

    @property
    def k(self) -> int:
        return len(self.studies)

    @classmethod
    def from_arrays(cls, yi, vi, measure: str | Measure = "MD", study_ids=None,
                    groups: Mapping[str, list] | None = None) -> "EffectSizes":
        """Effect sizes computed elsewhere (metafor's ``rma(yi, vi)``).

        ``groups`` maps extra column names to one value per study (for ``by``).
        Rows are numbered as lines 2, 3, … of a sheet named ``<arrays>``.
        """
        from types import MappingProxyType

        m = get_measure(measure)
        yi, vi = list(map(float, yi)), list(map(float, vi))
        if len(yi) != len(vi):
            raise ValueError("yi and vi differ in length")
        ids = [str(x) for x in (study_ids or range(1, len(yi) + 1))]
        extra = dict(groups or {})
        columns = ("study_id", "yi", "vi") + tuple(extra)
        rows, studies = [], []
        for i, (sid, y, v) in enumerate(zip(ids, yi, vi)):
            if not (math.isfinite(y) and math.isfinite(v) and v > 0):
                raise ValueError(f"study {sid}: yi must be finite and vi > 0 (yi={y}, vi={v})")
            cells = {"study_id": sid, "yi": repr(y), "vi": repr(v), **{c: str(vals[i]) for c, vals in extra.items()}}
            row = Row(i + 2, MappingProxyType(cells))
            rows.append(row)
            studies.append(StudyEffect(sid, y, v, "yi and vi", None, None, Source("<arrays>", i + 2), row))
        sheet = Sheet("<arrays>", columns, tuple(rows))
        return cls(m, tuple(studies), (), sheet)

    @property
    def yi(self) -> np.ndarray:
        return np.array([s.yi for s in self.studies], dtype=float)

    @property
    def vi(self) -> np.ndarray:
        return np.array([s.vi for s in self.studies], dtype=float)


# --------------------------------------------------------------------------- computing

class _Exclude(Exception):
    """Internal: the row cannot give an effect size; the message is the reason."""


class _Bad(Exception):
    """Internal: the row's data are wrong in this column."""

    def __init__(self, column: str | None, message: str):
        self.column, self.message = column, message


def _counts_2x2(v: Mapping[str, float], m: Measure, drop00: bool):
    """OR, RR and RD from two-arm counts (metafor escalc, add=1/2, to="only0").

    Notes
    -----
    With a = exp_events, b = exp_total − a, c = ctrl_events, d = ctrl_total − c:
    OR: yi = log(ad/bc), vi = 1/a + 1/b + 1/c + 1/d;
    RR: yi = log((a/n1)/(c/n2)), vi = 1/a − 1/n1 + 1/c − 1/n2;
    RD: yi = a/n1 − c/n2, vi = p1(1−p1)/n1 + p2(1−p2)/n2.
    A table with a zero cell gets 1/2 added to each of its four cells; a
    double-zero table (no events in both arms, or only events in both) is kept
    unless ``drop00`` (RevMan's choice). Viechtbauer (2010), metafor ``escalc``.
    """
    n1, n2 = v["exp_total"], v["ctrl_total"]
    for col, n in (("exp_total", n1), ("ctrl_total", n2)):
        if n <= 0:
            raise _Bad(col, f"total must be > 0 (is {n:g})")
    for col, x, n, tcol in (("exp_events", v["exp_events"], n1, "exp_total"),
                            ("ctrl_events", v["ctrl_events"], n2, "ctrl_total")):
        if x < 0:
            raise _Bad(col, f"events must be >= 0 (is {x:g})")
        if x > n:
            raise _Bad(col, f"events ({x:g}) exceed {tcol} ({n:g})")
    a, c = v["exp_events"], v["ctrl_events"]
    b, d = n1 - a, n2 - c
    note = None
    if drop00 and ((a == 0 and c == 0) or (b == 0 and d == 0)):
        raise _Exclude("double-zero table dropped (drop00: no information on a relative effect)")
    if min(a, b, c, d) == 0:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
        note = "zero cell: 1/2 added to each cell"
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    if m.name == "OR":
        return math.log(p1 / (1 - p1)) - math.log(p2 / (1 - p2)), 1 / a + 1 / b + 1 / c + 1 / d, n1 + n2, note
    if m.name == "RR":
        return math.log(p1) - math.log(p2), 1 / a - 1 / n1 + 1 / c - 1 / n2, n1 + n2, note
    vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    if vi <= 0:
        raise _Exclude("risk difference variance is 0 (risks of 0 or 1 in both arms)")
    return p1 - p2, vi, n1 + n2, note


def _continuous(v: Mapping[str, float], m: Measure, drop00: bool):
    """MD and SMD from means, SDs and group sizes (metafor escalc, vtype="LS").

    Notes
    -----
    MD: yi = m1 − m2, vi = sd1²/n1 + sd2²/n2.
    SMD (Hedges' g): sp² = ((n1−1)sd1² + (n2−1)sd2²)/(n1+n2−2),
    yi = c(m)·(m1−m2)/sp with the exact correction
    c(m) = Γ(m/2) / (√(m/2) Γ((m−1)/2)), m = n1+n2−2 (Hedges 1981), and
    metafor's large-sample variance vi = 1/n1 + 1/n2 + yi²/(2(n1+n2)).
    """
    n1, n2 = v["exp_total"], v["ctrl_total"]
    for col in ("exp_total", "ctrl_total"):
        if v[col] <= 0:
            raise _Bad(col, f"total must be > 0 (is {v[col]:g})")
    for col in ("exp_sd", "ctrl_sd"):
        if v[col] < 0:
            raise _Bad(col, f"SD must be >= 0 (is {v[col]:g})")
    sd1, sd2 = v["exp_sd"], v["ctrl_sd"]
    if m.name == "MD":
        vi = sd1 ** 2 / n1 + sd2 ** 2 / n2
        if vi <= 0:
            raise _Bad("exp_sd", "both SDs are 0: the mean difference has no variance")
        return v["exp_mean"] - v["ctrl_mean"], vi, n1 + n2, None
    df = n1 + n2 - 2
    if df <= 1:
        raise _Exclude("SMD needs exp_total + ctrl_total > 3 for the bias correction")
    sp = math.sqrt(((n1 - 1) * sd1 ** 2 + (n2 - 1) * sd2 ** 2) / df)
    if sp <= 0:
        raise _Bad("exp_sd", "pooled SD is 0: the standardised mean difference is undefined")
    cm = math.exp(math.lgamma(df / 2) - math.log(math.sqrt(df / 2)) - math.lgamma((df - 1) / 2))
    yi = cm * (v["exp_mean"] - v["ctrl_mean"]) / sp
    return yi, 1 / n1 + 1 / n2 + yi ** 2 / (2 * (n1 + n2)), n1 + n2, None


def _single_arm(v: Mapping[str, float], m: Measure, drop00: bool):
    """PR, PLO and PFT from events and total (metafor escalc).

    Notes
    -----
    PR: yi = x/n, vi = yi(1−yi)/n; PLO: yi = log(x/(n−x)), vi = 1/x + 1/(n−x);
    for PR and PLO, 1/2 is added to x and n−x when either is 0.
    PFT (Freeman & Tukey 1950): yi = ½[asin√(x/(n+1)) + asin√((x+1)/(n+1))],
    vi = 1/(4n+2), with no correction.
    """
    x, n = v["events"], v["total"]
    if n <= 0:
        raise _Bad("total", f"total must be > 0 (is {n:g})")
    if x < 0:
        raise _Bad("events", f"events must be >= 0 (is {x:g})")
    if x > n:
        raise _Bad("events", f"events ({x:g}) exceed total ({n:g})")
    if m.name == "PFT":
        yi = 0.5 * (math.asin(math.sqrt(x / (n + 1))) + math.asin(math.sqrt((x + 1) / (n + 1))))
        return yi, 1 / (4 * n + 2), n, None
    note = None
    ni = n
    if x == 0 or x == n:
        x, n = x + 0.5, n + 1
        note = "zero cell: 1/2 added to events and non-events"
    p = x / n
    if m.name == "PR":
        return p, p * (1 - p) / n, ni, note
    return math.log(p / (1 - p)), 1 / x + 1 / (n - x), ni, note


def _o_minus_e(v: Mapping[str, float], m: Measure, drop00: bool):
    """log HR from the log-rank O−E and its variance V: yi = (O−E)/V, vi = 1/V
    (Peto; Parmar, Torri & Stewart 1998)."""
    if v["variance"] <= 0:
        raise _Bad("variance", f"V must be > 0 (is {v['variance']:g})")
    return v["o_minus_e"] / v["variance"], 1 / v["variance"], None, None


def _to_scale(est: float, m: Measure, column: str) -> float:
    if m.ratio:
        if est <= 0:
            raise _Bad(column, f"a ratio ({m.name}) must be > 0 on the natural scale (is {est:g})")
        return math.log(est)
    return est


def _estimate_se(v, m, drop00):
    """Generic inverse variance: yi = estimate (log for ratios), vi = se².
    The SE is on the analysis scale (of the log ratio for OR, RR, HR)."""
    if v["se"] <= 0:
        raise _Bad("se", f"SE must be > 0 (is {v['se']:g})")
    return _to_scale(v["estimate"], m, "estimate"), v["se"] ** 2, None, None


def _estimate_ci(v, m, drop00):
    """Generic inverse variance from a 95% CI: vi = ((U − L)/(2·1.959964))²,
    with L, U and the estimate on the log scale for ratios (Cochrane Handbook 6.3)."""
    lo, hi, est = v["ci_lower"], v["ci_upper"], v["estimate"]
    if lo >= hi:
        raise _Bad("ci_lower", f"ci_lower ({lo:g}) must be below ci_upper ({hi:g})")
    if not lo <= est <= hi:
        raise _Bad("estimate", f"estimate ({est:g}) lies outside its CI [{lo:g}, {hi:g}]")
    yi = _to_scale(est, m, "estimate")
    lo_s, hi_s = _to_scale(lo, m, "ci_lower"), _to_scale(hi, m, "ci_upper")
    return yi, ((hi_s - lo_s) / (2 * Z975)) ** 2, None, None


def _estimate_p(v, m, drop00):
    """Generic inverse variance from a two-sided p-value:
    z = Φ⁻¹(1 − p/2), se = |yi|/z (Altman & Bland 2011)."""
    from scipy.special import ndtri

    p = v["p_value"]
    if not 0 < p <= 1:
        raise _Bad("p_value", f"p must be in (0, 1] (is {p:g})")
    yi = _to_scale(v["estimate"], m, "estimate")
    if p == 1:
        raise _Exclude("p = 1 gives no standard error")
    if yi == 0:
        raise _Bad("estimate", f"estimate at the null value with p = {p:g} < 1 is inconsistent")
    z = float(ndtri(1 - p / 2))
    return yi, (abs(yi) / z) ** 2, None, None


COMPUTE: Mapping[str, Callable] = {
    "two-arm counts": _counts_2x2,
    "two-arm continuous": _continuous,
    "single-arm counts": _single_arm,
    "O-E and V": _o_minus_e,
    "estimate and SE": _estimate_se,
    "estimate and 95% CI": _estimate_ci,
    "estimate and p": _estimate_p,
}


def get_measure(measure: str | Measure) -> Measure:
    if isinstance(measure, Measure):
        return measure
    try:
        return MEASURES[measure.upper()]
    except KeyError:
        raise SheetError([Problem("<arguments>", None, None, "measure",
                                  f"unknown measure {measure!r}; choose from {', '.join(MEASURES)}")]) from None


def escalc(sheet, measure: str | Measure, *, drop00: bool = False) -> EffectSizes:
    """Compute effect sizes ``yi`` and sampling variances ``vi`` for every row.

    Parameters
    ----------
    sheet : Sheet, path or pandas.DataFrame
        The extraction sheet.
    measure : str
        One of :data:`MEASURES` (``OR``, ``RR``, ``RD``, ``HR``, ``MD``,
        ``SMD``, ``PR``, ``PLO``, ``PFT``).
    drop00 : bool
        Drop two-arm tables with no events (or only events) in both arms, as
        RevMan does; by default they are kept with the 1/2 correction (metafor).

    Returns
    -------
    EffectSizes
        Studies in sheet order; rows without a complete input group are listed
        in ``excluded`` with the reason.

    Raises
    ------
    SheetError
        With every problem found: the sheet's own (see
        :func:`~metail2.sheets.check_sheet`: cells that are not numbers,
        impossible values, empty or duplicate ``study_id``, …), missing columns
        for the measure, an ``input`` the measure cannot use, and no usable
        study.

    Notes
    -----
    A row uses the input group named in its ``input`` cell, else the first
    complete group in the measure's order (:attr:`Measure.inputs`): the
    study's own raw data first, then a generic estimate with its SE, 95% CI or
    p-value (a sheet check refuses rows where two complete groups compete and
    ``input`` is empty). Formulas are those of metafor's ``escalc``
    (Viechtbauer 2010) and are given in each input group's function.
    """
    if not isinstance(sheet, Sheet):
        sheet = read_sheet(sheet, validate=False) if not hasattr(sheet, "columns") else Sheet.from_frame(sheet)
    m = get_measure(measure)
    name = sheet.path
    problems: list[Problem] = list(check_sheet(sheet).errors)

    available = [g for g in m.inputs if all(c in sheet.columns for c in INPUT_COLUMNS[g])]
    if not available:
        wanted = " or ".join("+".join(INPUT_COLUMNS[g]) for g in m.inputs)
        problems.append(Problem(name, 1, None, None, f"no input columns for measure {m.name}: needs {wanted}"))
    if problems and (not available or "study_id" not in sheet.columns):
        raise SheetError(problems)

    used_columns = sorted({c for g in available for c in INPUT_COLUMNS[g]})
    bad_rows = {p.line for p in problems}
    studies: list[StudyEffect] = []
    excluded: list[Excluded] = []
    for row in sheet.rows:
        if row.line in bad_rows:
            continue
        sid = row.study_id
        src = Source(name, row.line)
        values = {c: x for c in used_columns if (x := parse_number(row.cells.get(c, ""))) is not None}
        complete = [g for g in available if all(c in values for c in INPUT_COLUMNS[g])]
        chosen = row.text("input")
        if chosen:
            if chosen not in m.inputs:
                problems.append(Problem(name, row.line, sid, "input", f"input {chosen!r} cannot give {m.name}; "
                                        f"{m.name} takes: {', '.join(m.inputs)}"))
                continue
            if chosen not in complete:
                problems.append(Problem(name, row.line, sid, "input",
                                        f"input {chosen!r} is not complete in this row (needs "
                                        f"{', '.join(INPUT_COLUMNS[chosen])})"))
                continue
            complete = [chosen]
        if not complete:
            excluded.append(Excluded(sid, why_incomplete(row, values, m.name, available), src))
            continue
        group = complete[0]
        try:
            yi, vi, ni, note = COMPUTE[group]({c: values[c] for c in INPUT_COLUMNS[group]}, m, drop00)
        except _Bad as exc:
            problems.append(Problem(name, row.line, sid, exc.column, exc.message))
            continue
        except _Exclude as exc:
            excluded.append(Excluded(sid, str(exc), src))
            continue
        if not (math.isfinite(yi) and math.isfinite(vi) and vi > 0):
            problems.append(Problem(name, row.line, sid, None,
                                    f"{group} give no finite effect size (yi={yi}, vi={vi})"))
            continue
        studies.append(StudyEffect(sid, float(yi), float(vi), group, note,
                                   None if ni is None else float(ni), src, row))
    if not problems and not studies:
        problems.append(Problem(name, None, None, None,
                                f"no usable study for measure {m.name} "
                                f"({len(excluded)} row(s) excluded, {len(sheet.rows)} in the sheet)"))
    if problems:
        unique = list(dict.fromkeys(problems))
        unique.sort(key=lambda p: p.line or 0)
        raise SheetError(unique)
    return EffectSizes(m, tuple(studies), tuple(excluded), sheet)


def why_incomplete(row: Row, values: Mapping[str, float], measure: str, available: list[str]) -> str:
    """Why a row has no complete input group, naming what is empty (and the
    row's ``count_basis``, where the sheet has one)."""
    partial = []
    for g in available:
        have = [c for c in INPUT_COLUMNS[g] if c in values]
        if have:
            missing = [c for c in INPUT_COLUMNS[g] if c not in values]
            partial.append(f"{' and '.join(missing)} empty (has {', '.join(f'{c} = {values[c]:g}' for c in have)})")
    if partial:
        reason = f"no complete input for {measure}: " + "; ".join(partial)
    else:
        cols = list(dict.fromkeys(c for g in available for c in INPUT_COLUMNS[g]))
        reason = f"no input for {measure}: {', '.join(cols[:-1])} and {cols[-1]} are empty"
    basis = row.text("count_basis")
    if basis:
        reason += f" [count_basis: {basis}]"
    return reason
