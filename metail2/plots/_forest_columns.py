"""What the forest plot's table shows for each input group: the data
columns (heads and each study's cells, as written in the sheet) and the
subtotal rows' totals."""
from __future__ import annotations


def data_columns(result):
    """Left data columns for the studies' input: ((super head, head), …) and
    each study's cells by study id."""
    studies = result.effects.studies
    inputs = {s.input for s in studies}
    if inputs == {"two-arm counts"}:
        heads = (("Experimental", "Events"), ("Experimental", "Total"), ("Control", "Events"), ("Control", "Total"))
        cols = ("exp_events", "exp_total", "ctrl_events", "ctrl_total")
    elif inputs == {"single-arm counts"}:
        heads, cols = (("", "Events"), ("", "Total")), ("events", "total")
    elif inputs == {"two-arm continuous"}:
        heads = (("Experimental", "Mean"), ("Experimental", "SD"), ("Experimental", "Total"),
                 ("Control", "Mean"), ("Control", "SD"), ("Control", "Total"))
        cols = ("exp_mean", "exp_sd", "exp_total", "ctrl_mean", "ctrl_sd", "ctrl_total")
    elif inputs == {"O-E and V"}:
        heads, cols = (("", "O−E"), ("", "V")), ("o_minus_e", "variance")
    else:
        return (("", "Reported"),), {s.study_id: (_reported(s),) for s in studies}
    return heads, {s.study_id: tuple(s.row.text(c) for c in cols) for s in studies}


def _reported(s) -> str:
    """A generic row's input as the sheet gives it (one "Reported" column)."""
    r = s.row
    if s.input == "estimate and 95% CI":
        return f"{r.text('estimate')} [{r.text('ci_lower')}, {r.text('ci_upper')}]"
    if s.input == "estimate and SE":
        return f"{r.text('estimate')} (SE {r.text('se')})"
    if s.input == "estimate and p":
        return f"{r.text('estimate')} (p {r.text('p_value')})"
    if s.input == "two-arm counts":
        return f"{r.text('exp_events')}/{r.text('exp_total')} vs {r.text('ctrl_events')}/{r.text('ctrl_total')}"
    if s.input == "single-arm counts":
        return f"{r.text('events')}/{r.text('total')}"
    if s.input == "O-E and V":
        return f"O−E {r.text('o_minus_e')}, V {r.text('variance')}"
    return ""


def totals(heads, studies) -> tuple[str, ...]:
    """The data columns of a Subtotal/Total row: summed events and totals for counts, else empty."""
    heads = tuple(h for _, h in heads)
    if heads == ("Events", "Total"):
        return (str(sum(int(float(s.row.text("events"))) for s in studies)),
                str(sum(int(float(s.row.text("total"))) for s in studies)))
    if heads == ("Events", "Total", "Events", "Total"):
        return tuple(str(sum(int(float(s.row.text(c))) for s in studies))
                     for c in ("exp_events", "exp_total", "ctrl_events", "ctrl_total"))
    return ("",) * len(heads)


__all__ = ["data_columns", "totals"]
