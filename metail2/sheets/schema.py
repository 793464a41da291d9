"""The extraction-sheet schema: every canonical column's type, range and
meaning, and the sheet-level rules. The codebook in ``extraction/README.md``
is generated from this module (``metail2 sheet codebook``); a test keeps the
two identical.
"""
from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass
from typing import Mapping

from .._spreadsheet import FORMULA_START, cell_problem, is_plain_number

#: Input groups and their columns (docs/design.md): a row's effect size comes from a
#: complete group. The names are also the values the ``input`` column takes.
INPUT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "two-arm counts": ("exp_events", "exp_total", "ctrl_events", "ctrl_total"),
    "two-arm continuous": ("exp_mean", "exp_sd", "exp_total", "ctrl_mean", "ctrl_sd", "ctrl_total"),
    "single-arm counts": ("events", "total"),
    "O-E and V": ("o_minus_e", "variance"),
    "estimate and SE": ("estimate", "se"),
    "estimate and 95% CI": ("estimate", "ci_lower", "ci_upper"),
    "estimate and p": ("estimate", "p_value"),
}
INPUT_GROUPS = tuple(INPUT_COLUMNS)
#: The generic groups: an estimate reported with its SE, 95% CI or p-value.
GENERIC = ("estimate and SE", "estimate and 95% CI", "estimate and p")

#: ``count_basis`` must start with one of these.
COUNT_BASES = ("stated", "derived from percentage", "percentage only", "insufficient")

MISSING = frozenset({"", "NA", "N/A", "na", "n/a"})


@dataclass(frozen=True)
class Column:
    """One canonical column.

    ``kind`` is one of ``text``, ``count`` (a whole number), ``number``,
    ``year``, ``pmid``, ``doi``, ``url``, ``category`` (one of ``allowed``),
    ``percent``, ``p``. ``minimum``/``maximum`` bound numbers (``exclusive``
    makes the minimum strict).
    """

    name: str
    group: str
    kind: str
    meaning: str
    required: bool = False
    minimum: float | None = None
    exclusive: bool = False
    maximum: float | None = None
    allowed: tuple[str, ...] = ()
    unit: str = ""

    @property
    def numeric(self) -> bool:
        return self.kind in ("count", "number", "year", "percent", "p")

    def allowed_text(self) -> str:
        if self.allowed:
            return ", ".join(f"`{a}`" for a in self.allowed)
        if self.kind == "year":
            return "1800 to next year"
        if self.kind == "pmid":
            return "digits, no leading zero"
        if self.kind == "doi":
            return "bare DOI `10.NNNN/…` (no https://doi.org/)"
        if self.kind == "url":
            return "http(s) URL"
        if self.kind == "p":
            return "0 < p ≤ 1"
        if self.minimum is not None or self.maximum is not None:
            lo = "" if self.minimum is None else (f"> {self.minimum:g}" if self.exclusive else f"≥ {self.minimum:g}")
            hi = "" if self.maximum is None else f"≤ {self.maximum:g}"
            return " and ".join(x for x in (lo, hi) if x) + (", whole number" if self.kind == "count" else "")
        return "whole number" if self.kind == "count" else ("number" if self.numeric else "text")


#: Judgements of the Cochrane risk-of-bias tool for randomized trials (RoB 2) and for
#: non-randomized studies of interventions (ROBINS-I), per domain and overall.
ROB2 = ("low", "some concerns", "high")
ROBINS_I = ("low", "moderate", "serious", "critical", "no information")

C = Column
COLUMNS: tuple[Column, ...] = (
    C("study_id", "identity", "text", "Short unique label of the study (first author and year, or trial name); "
      "unique within one outcome and analysis", required=True),
    C("author", "identity", "text", "Authors as cited"),
    C("year", "identity", "year", "Publication year"),
    C("pmid", "identity", "pmid", "PubMed ID"),
    C("doi", "identity", "doi", "Digital Object Identifier"),
    C("citation", "identity", "text", "Journal, volume, pages, or the title where the journal is not known"),
    C("route", "grouping", "category", "Route of IL-2: hepatic arterial infusion (locoregional), intravenous or "
      "subcutaneous (systemic), or not stated in the source",
      allowed=("locoregional", "systemic", "not reported")),
    C("route_detail", "grouping", "text", "Schedule and route as the source states it"),
    C("co_treatment", "grouping", "text", "Chemotherapy given with IL-2"),
    C("co_cytokine", "grouping", "text", "Second cytokine given with IL-2, or `none`"),
    C("design", "grouping", "text", "Study design (single-arm phase II, randomized, …)"),
    C("population", "grouping", "text", "Patients studied"),
    C("outcome", "grouping", "text", "Outcome extracted in this row"),
    C("analysis", "grouping", "text", "Name of the analysis the row belongs to, where a sheet holds several"),
    C("exp_events", "two-arm binary", "count", "Participants with the event, experimental arm", minimum=0),
    C("exp_total", "two-arm binary / continuous", "count", "Participants analysed, experimental arm", minimum=0, exclusive=True),
    C("ctrl_events", "two-arm binary", "count", "Participants with the event, control arm", minimum=0),
    C("ctrl_total", "two-arm binary / continuous", "count", "Participants analysed, control arm", minimum=0, exclusive=True),
    C("exp_mean", "two-arm continuous", "number", "Mean, experimental arm", unit="outcome's unit"),
    C("exp_sd", "two-arm continuous", "number", "Standard deviation, experimental arm", minimum=0, unit="outcome's unit"),
    C("ctrl_mean", "two-arm continuous", "number", "Mean, control arm", unit="outcome's unit"),
    C("ctrl_sd", "two-arm continuous", "number", "Standard deviation, control arm", minimum=0, unit="outcome's unit"),
    C("events", "single-arm binary", "count", "Participants with the event (e.g. responders, CR + PR)", minimum=0),
    C("total", "single-arm binary", "count", "Participants analysed (e.g. evaluable patients)", minimum=0, exclusive=True),
    C("reported_percent", "single-arm binary", "percent", "Percentage the source states for the outcome",
      minimum=0, maximum=100, unit="%"),
    C("count_basis", "single-arm binary", "text", "How `events`/`total` were obtained: starts with `stated` (counts "
      "given), `derived from percentage` (a stated percentage of a stated denominator that is a whole count), "
      "`percentage only` or `insufficient` (no counts: the row cannot be pooled), then any detail"),
    C("estimate", "generic", "number", "Effect estimate; ratios (OR, RR, HR) on the natural scale"),
    C("se", "generic", "number", "Standard error of the estimate on the analysis scale (of the log ratio for "
      "OR, RR, HR)", minimum=0, exclusive=True),
    C("ci_lower", "generic", "number", "Lower bound of the 95% CI, same scale as `estimate`"),
    C("ci_upper", "generic", "number", "Upper bound of the 95% CI, same scale as `estimate`"),
    C("p_value", "generic", "p", "Two-sided p-value of the estimate"),
    C("o_minus_e", "survival", "number", "Log-rank observed minus expected events (O−E)"),
    C("variance", "survival", "number", "Variance V of O−E", minimum=0, exclusive=True),
    C("input", "input", "category", "Which input group to use when a row has more than one complete group "
      "for the same measure", allowed=INPUT_GROUPS),
    *(C(f"rob_d{i}", "risk of bias (RoB 2)", "category", f"RoB 2 judgement, domain {i}: {d}", allowed=ROB2)
      for i, d in enumerate(("bias arising from the randomization process",
                             "bias due to deviations from intended interventions",
                             "bias due to missing outcome data", "bias in measurement of the outcome",
                             "bias in selection of the reported result"), 1)),
    C("rob_overall", "risk of bias (RoB 2)", "category", "RoB 2 overall risk-of-bias judgement", allowed=ROB2),
    *(C(f"robins_d{i}", "risk of bias (ROBINS-I)", "category", f"ROBINS-I judgement, domain {i}: {d}",
        allowed=ROBINS_I)
      for i, d in enumerate(("bias due to confounding", "bias in selection of participants into the study",
                             "bias in classification of interventions",
                             "bias due to deviations from intended interventions", "bias due to missing data",
                             "bias in measurement of outcomes", "bias in selection of the reported result"), 1)),
    C("robins_overall", "risk of bias (ROBINS-I)", "category", "ROBINS-I overall risk-of-bias judgement",
      allowed=ROBINS_I),
    C("source_url", "provenance", "url", "Where the data were read"),
    C("source_note", "provenance", "text", "What the source reports, in the extractor's words"),
)
BY_NAME: Mapping[str, Column] = {c.name: c for c in COLUMNS}
REQUIRED = tuple(c.name for c in COLUMNS if c.required)

PMID_RE = re.compile(r"[1-9][0-9]{0,8}")
DOI_RE = re.compile(r"10\.\d{4,9}/\S+", re.IGNORECASE)
URL_RE = re.compile(r"https?://\S+")


def parse_number(text: str) -> float | None:
    """A cell's number; ``None`` when the cell is empty or NA.

    The grammar is plain decimal (:data:`metail2._spreadsheet.PLAIN_NUMBER`):
    an optional sign, ASCII digits with an optional decimal point (``12``,
    ``-1.5``, ``.5``), an optional exponent (``1e-5``); surrounding space is
    ignored here (the sheet check warns about it). Everything else Python's
    ``float`` would take is refused: underscores (``1_2``), ``inf``, ``nan``,
    non-ASCII digits (``１２``), as are hexadecimal, digit grouping and
    decimal commas. Raises ``ValueError`` with a reviewer-readable message
    (the likely cause named, never coerced).

    Examples
    --------
    >>> parse_number("-1.5e-3"), parse_number("NA")
    (-0.0015, None)
    >>> parse_number("1_2")
    Traceback (most recent call last):
    ...
    ValueError: '1_2' is not a number (digit separator: write 12 as plain digits)
    """
    t = text.strip()
    if t in MISSING:
        return None
    if t.startswith("CONFLICT:"):
        raise ValueError(conflict_message(t))
    if not is_plain_number(t):
        raise ValueError(f"{text!r} is not a number{_number_hint(t)}")
    x = float(t)
    if not math.isfinite(x):
        raise ValueError(f"{text!r} is too large to be a number (beyond ±1.8e308)")
    return x


def conflict_message(t: str) -> str:
    """The problem of a cell holding a ``CONFLICT:`` marker left by ``sheet reconcile``."""
    rest = t[len("CONFLICT:"):].strip()
    if rest.startswith("A="):
        return f"unresolved reconciliation conflict ({rest}): keep one value"
    return f"unresolved reconciliation conflict: {rest}"


def _number_hint(t: str) -> str:
    """Why ``t`` (stripped) is not a plain number, as a parenthesised hint ('' if no idea)."""
    low = t.lower().lstrip("+-")
    if any(ch.isdigit() and not ch.isascii() for ch in t):
        return " (non-ASCII digits, e.g. full-width: type the digits 0-9)"
    if re.fullmatch(r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?", t):
        return " (thousands separator: write 1200, not 1,200)"
    if re.fullmatch(r"[+-]?[0-9]+([_ '\u00a0\u2009\u202f][0-9]+)+(\.[0-9]+)?", t):
        return f" (digit separator: write {re.sub(r'[^0-9.+-]', '', t)} as plain digits)"
    if "," in t:
        return " (decimal comma or list: write one number with a decimal point)"
    if t.endswith("%"):
        return " (write a number, not a percentage)"
    if t[:1] in "<>\u2264\u2265":
        return " (an inequality: write the number, and the inequality in source_note)"
    if t[:1] in "\u2212\u2013\u2014":
        return " (a typographic minus or dash: type '-')"
    if low in ("nan", "inf", "infinity"):
        return " (write NA, or leave the cell empty, for not reported)" if low == "nan" else " (not finite)"
    if low.startswith("0x"):
        return " (hexadecimal: write the decimal number)"
    return ""


def check_cell(col: Column, text: str) -> list[tuple[str, str]]:
    """Problems of one cell on its own: a list of (severity, message),
    severity ``error`` or ``warning``."""
    out: list[tuple[str, str]] = []
    bad = cell_problem(text)
    if bad is not None:
        return [("error", bad)]
    if text and text != text.strip():
        out.append(("warning", "stray whitespace around the value"))
    t = text.strip()
    if t in MISSING:
        return out
    if t.startswith("CONFLICT:"):
        return out + [("error", conflict_message(t))]
    if col.numeric:
        try:
            x = parse_number(t)
        except ValueError as exc:
            return out + [("error", str(exc))]
        if col.kind in ("count", "year") and ("e" in t or "E" in t):
            return out + [("error", f"must be a whole number written in digits, without an exponent (is {t})")]
        if col.kind in ("count", "year") and not x.is_integer():
            return out + [("error", f"must be a whole number (is {t})")]
        if col.kind == "year":
            hi = datetime.date.today().year + 1
            if not 1800 <= x <= hi:
                out.append(("error", f"year {t} is out of range (1800 to {hi})"))
        elif col.kind == "p":
            if not 0 < x <= 1:
                out.append(("error", f"p must be in (0, 1] (is {t})"))
        else:
            if col.minimum is not None and (x <= col.minimum if col.exclusive else x < col.minimum):
                out.append(("error", f"must be {'>' if col.exclusive else '>='} {col.minimum:g} (is {t})"))
            if col.maximum is not None and x > col.maximum:
                out.append(("error", f"must be <= {col.maximum:g} (is {t})"))
    elif col.kind == "pmid" and not PMID_RE.fullmatch(t):
        out.append(("error", f"malformed PMID {t!r} (digits only)"))
    elif col.kind == "doi" and not DOI_RE.fullmatch(t):
        hint = " (write the bare DOI, without https://doi.org/)" if "doi.org/" in t.lower() else ""
        out.append(("error", f"malformed DOI {t!r}{hint}"))
    elif col.kind == "url" and not URL_RE.fullmatch(t):
        out.append(("error", f"not an http(s) URL: {t!r}"))
    elif col.kind == "category" and t not in col.allowed:
        out.append(("error", f"{t!r} is not one of: {', '.join(col.allowed)}"))
    elif col.name == "count_basis" and not t.lower().startswith(COUNT_BASES):
        out.append(("error", f"must start with one of: {', '.join(COUNT_BASES)}"))
    if not col.numeric:
        out += text_cell_problems(t)
    return out


def text_cell_problems(t: str) -> list[tuple[str, str]]:
    """Problems of a text cell (stripped) that any column shares: an
    unresolved conflict marker (an error) and a formula a spreadsheet opening
    the CSV would run (a warning)."""
    if t.startswith("CONFLICT:"):
        return [("error", conflict_message(t))]
    if t.startswith(FORMULA_START) and not is_plain_number(t) and len(t) > 1:
        return [("warning", f"starts with {t[0]!r}: a spreadsheet opening this CSV would read it as a formula; "
                 "edit the sheet in Excel through `metail2 sheet export --xlsx`")]
    return []


def codebook_markdown() -> str:
    """The codebook table (Markdown), generated from :data:`COLUMNS`."""
    lines = ["| column | group | type | allowed values | unit | meaning |", "|---|---|---|---|---|---|"]
    for c in COLUMNS:
        kind = c.kind + (" (required)" if c.required else "")
        meaning = c.meaning.replace("|", "\\|")
        lines.append(f"| `{c.name}` | {c.group} | {kind} | {c.allowed_text()} | {c.unit} | {meaning} |")
    return "\n".join(lines) + "\n"
