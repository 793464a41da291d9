"""Tables of the sensitivity analyses (leave-one-out, cumulative, influence,
GOSH, permutation): the terminal text the command prints, and ``to_text`` /
``to_html`` registered per result type, so ``print(result)`` and a notebook
show the same table."""
from __future__ import annotations

import html

from ..sensitivity import Gosh, Influence, Permutation, RefitSeries
from .format import interval, number, p_table
from .tables import to_html, to_text


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
            for r in [head, *rows]]


def _title(d: dict, what: str) -> str:
    level = f", level {d['level']}" if "level" in d else ""
    return f"{what}: {d['measure']}, {d['method']}, {d['test']} test{level} ({d['convention']} convention)"


def render(d: dict) -> str:
    """The terminal text of a sensitivity result, from its JSON (``to_dict()``)."""
    a = d["analysis"]
    out: list[str] = []
    if a in ("leave-one-out", "cumulative"):
        label = "omitted" if a == "leave-one-out" else "added"
        order = f"; order: {d['order']}" if a == "cumulative" else ""
        out.append(_title(d, ("Leave-one-out" if a == "leave-one-out" else "Cumulative meta-analysis") + order))
        rows = [[s, str(d["k"][i]), number(d["estimate"][i], 4), number(d["se"][i], 4),
                 interval(d["ci_lower"][i], d["ci_upper"][i], 4), p_table(d["p"][i]), number(d["tau2"][i], 4),
                 number(d["i2"][i], 1), number(d["q"][i], 2)] for i, s in enumerate(d[label])]
        f = d["full"]
        rows.append(["All studies", str(f["k"]), number(f["estimate"], 4), number(f["se"], 4),
                     interval(f["ci_lower"], f["ci_upper"], 4), p_table(f["p"]), number(f["tau2"], 4),
                     number(f["i2"], 1), number(f["q"], 2)])
        out += _table([label.capitalize(), "k", "Estimate", "SE", "95% CI" if d.get("level", 0.95) == 0.95 else "CI",
                       "p", "τ²", "I² %", "Q"], rows)
    elif a == "influence":
        out.append(_title(d, "Influence diagnostics"))
        names = ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat", "weight")
        rows = [[s] + [number(d[n][i], 4) for n in names] + ["*" if d["influential"][i] else ""]
                for i, s in enumerate(d["study_id"])]
        out += _table(["Study", "rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight %", "inf"],
                      rows)
        out.append("* influential (metafor's rule)")
    elif a == "gosh":
        how = "every subset" if d["exact"] else f"random subsets, seed {d['seed']}"
        out.append(_title(d, f"GOSH: {d['subsets']:,} fits ({how}) of {len(d['study_id'])} studies"))
        rows = [[n, *(number(d["summary"][n][s], 4) for s in ("mean", "min", "max"))] for n in ("estimate", "tau2", "i2", "q")]
        out += _table(["", "mean", "min", "max"], rows)
    else:
        how = "exact" if d["exact"] else f"random, seed {d['seed']}"
        out.append(_title(d, f"Permutation test ({how}, {d['iterations']:,} sign patterns)"))
        out.append(f"estimate {number(d['estimate'], 4)}, {'z' if d['test'] == 'z' else 't'} = "
                   f"{number(d['stat'], 4)}, permutation p = {number(d['p'], 6)}")
    for e in d.get("excluded", ()):
        out.append(f"not analysed: {e['study_id']}: {e['reason']}")
    return "\n".join(out)


def _text(result) -> str:
    return render(result.to_dict())


def _html(result) -> str:
    return f"<pre class='metail2-result'>{html.escape(_text(result))}</pre>"


for _type in (RefitSeries, Influence, Gosh, Permutation):
    to_text.register(_type, _text)
    to_html.register(_type, _html)

__all__ = ["render"]
