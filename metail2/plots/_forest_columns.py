"""What the forest plot's table shows for each input group: the data
columns (heads and each study's cells) and the subtotal rows' totals.

Raw inputs (counts, means and SDs, O−E and V) are shown as the sheet gives
them. Rows from generic inputs (an estimate with its CI, SE or p) and sheets
that mix inputs show what was pooled, as RevMan's generic inverse-variance
tables do: the estimate on the analysis scale ("log[OR]") and its SE, so the
columns always agree with the CI on the right.
"""
from __future__ import annotations

import math

from ..report.format import MINUS, number

_RAW = {
    "two-arm counts": ((("Experimental", "Events"), ("Experimental", "Total"), ("Control", "Events"),
                        ("Control", "Total")), ("exp_events", "exp_total", "ctrl_events", "ctrl_total")),
    "single-arm counts": ((("", "Events"), ("", "Total")), ("events", "total")),
    "two-arm continuous": ((("Experimental", "Mean"), ("Experimental", "SD"), ("Experimental", "Total"),
                            ("Control", "Mean"), ("Control", "SD"), ("Control", "Total")),
                           ("exp_mean", "exp_sd", "exp_total", "ctrl_mean", "ctrl_sd", "ctrl_total")),
    "O-E and V": ((("", "O−E"), ("", "V")), ("o_minus_e", "variance")),
}
#: Columns whose subtotal is the sum of the studies' cells.
SUMMED = ("exp_events", "exp_total", "ctrl_events", "ctrl_total", "events", "total")


def analysis_scale_head(measure) -> str:
    """The name of ``yi``: "log[OR]", "logit[p]", "MD"."""
    return {"exp": f"log[{measure.name}]", "expit": "logit[p]", "ipft": "FT[p]"}.get(measure.natural, measure.name)


def data_columns(result, jama: bool = False):
    """Left data columns: ((super head, head), …), each study's cells by
    study id, and the sheet columns behind them (empty for generic rows).
    The JAMA layout has none."""
    studies = result.effects.studies
    if jama:
        return (), {s.study_id: () for s in studies}, ()
    inputs = {s.input for s in studies}
    if len(inputs) == 1 and next(iter(inputs)) in _RAW:
        heads, cols = _RAW[next(iter(inputs))]
        return heads, {s.study_id: tuple(s.row.text(c) for c in cols) for s in studies}, cols
    heads = (("", analysis_scale_head(result.measure)), ("", "SE"))
    return heads, {s.study_id: (number(s.yi, 4, minus=MINUS), number(math.sqrt(s.vi), 4, minus=MINUS))
                   for s in studies}, ()


def totals(cols, studies) -> tuple[str, ...]:
    """The data columns of a Subtotal/Total row: participants and events
    summed (counts and the totals of continuous outcomes), other cells empty."""
    out = []
    for c in cols:
        if c in SUMMED:
            vals = [s.row.text(c) for s in studies]
            try:
                out.append(str(sum(int(float(v)) for v in vals)))
            except ValueError:
                out.append("")
        else:
            out.append("")
    return tuple(out) if cols else ()


__all__ = ["SUMMED", "analysis_scale_head", "data_columns", "totals"]
