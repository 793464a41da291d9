"""Risk-of-bias figures, as robvis draws them in R: the traffic-light plot
(one row per study, one circle per domain and overall, coloured and marked
+ − × ! ?) and the summary bar plot (per domain, the share of studies, or
of the analysis's weight, at each judgement).

The judgements come from the sheet's RoB 2 (``rob_d1`` … ``rob_overall``)
or ROBINS-I (``robins_d1`` … ``robins_overall``) columns, checked like every
column (:mod:`metail2.sheets.schema`). Studies with no judgement at all are
left out and named in the figure's note.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import InputError
from ._rob_data import JUDGEMENTS, RobTool, detect_tool, judgements
from .fonts import font_families, metrics_width, wrap
from .save import save_figure

PITCH_Y, PITCH_X, DOT = 15.0, 24.0, 11.0  # points
FONT, SMALL = 8.0, 7.0
BAR_H = 13.0  # points per domain bar
OVERALL_GAP = 10.0  # points between the last domain and the overall column


@dataclass(frozen=True)
class RobPlot:
    """What :func:`rob` drew: the figure and its axes (traffic light and/or
    summary), the tool, each study's judgements, and the summary's shares:
    ``summary[head][judgement]`` in % of the weight (or of the studies)."""

    figure: object
    axes: dict
    tool: RobTool
    studies: tuple[tuple[str, tuple[str, ...]], ...]
    summary: dict
    weighted: bool
    not_assessed: tuple[str, ...] = ()

    def savefig(self, path: str | os.PathLike, **kwargs) -> None:
        save_figure(self.figure, path, **kwargs)


def _rows(source, tool):
    """(study_id, row, weight or None) of a pooled result's studies or a sheet's rows, and the tool."""
    if hasattr(source, "effects"):
        weights = dict(zip(source.overall.study_ids, source.overall.weights))
        sheet = source.effects.sheet
        rows = [(s.study_id, s.row, weights.get(s.study_id)) for s in source.effects.studies]
    else:
        from ..sheets import Sheet, read_sheet

        sheet = source if isinstance(source, Sheet) else (
            Sheet.from_frame(source) if hasattr(source, "columns") else read_sheet(source))
        rows = [(r.study_id, r, None) for r in sheet.rows]
    t = detect_tool(sheet.columns, tool)
    if t is None or not set(t.columns) & set(sheet.columns):
        raise InputError(f"{sheet.path}: no risk-of-bias columns (rob_d1 … rob_overall for RoB 2, "
                         "robins_d1 … robins_overall for ROBINS-I)")
    return rows, t


def rob_summary_shares(studies, tool: RobTool, weights=None) -> dict:
    """Per column head, the share (%) of each judgement, weighted by ``weights``
    (study id → weight) or each study counted once; unjudged cells are left out."""
    out = {}
    for j, head in enumerate(tool.heads):
        tot = {lev: 0.0 for lev in tool.levels}
        for sid, js in studies:
            if js[j] in tot:
                tot[js[j]] += weights.get(sid, 0.0) if weights else 1.0
        s = sum(tot.values())
        out[head] = {lev: (100 * v / s if s else 0.0) for lev, v in tot.items()}
    return out


def rob(source, *, tool: str | None = None, kind: str = "both", weighted: bool = True) -> RobPlot:
    """Draw the risk-of-bias traffic-light plot and/or the summary bar plot.

    Parameters
    ----------
    source : MetaResult, Sheet, path or DataFrame
        A pooled result (its studies; the summary weighted by their weights
        in the overall analysis) or a sheet (every row; each study counted once).
    tool : {"rob2", "robins"}, optional
        By default the one whose columns the sheet has.
    kind : {"both", "traffic", "summary"}
    weighted : bool
        With a pooled result, weight the summary by the analysis's weights (robvis ``weighted=TRUE``).
    """
    import matplotlib.pyplot as plt

    if kind not in ("both", "traffic", "summary"):
        raise InputError(f"unknown kind {kind!r}; choose both, traffic or summary")
    rows, t = _rows(source, tool)
    studies, weights, missing = [], {}, []
    for sid, row, w in rows:
        js = judgements(row, t)
        if any(js):
            studies.append((sid, js))
            if w is not None:
                weights[sid] = w
        else:
            missing.append(sid)
    if not studies:
        raise InputError(f"no study has a {t.name} judgement")
    use_w = weighted and bool(weights)
    shares = rob_summary_shares(studies, t, weights if use_w else None)
    fams = font_families("DejaVu Sans", [s for s, _ in studies] + missing)
    tw = metrics_width(fams)
    label_w = max(tw(s, FONT, False, False) for s, _ in studies) + 8
    dom_w = max(tw(f"D{i}: {d}", SMALL, False, False) for i, d in enumerate(t.domains, 1))
    grid_w = PITCH_X * len(t.heads) + OVERALL_GAP
    width = max(label_w + grid_w + 12, dom_w + 140, 330.0)
    note = [f"{t.name}. " + "  ".join(f"{JUDGEMENTS[j][0]} {JUDGEMENTS[j][2]}" for j in t.levels)]
    if missing:
        note += wrap("Not assessed: " + ", ".join(missing), width - 12, lambda s: tw(s, SMALL, False, False))
    traffic_h = (2.2 + len(studies)) * PITCH_Y + (len(t.domains) + len(note)) * SMALL * 1.35 + 10
    summary_h = (len(t.heads) + 1) * BAR_H + 58
    heights = {"traffic": traffic_h if kind != "summary" else 0.0, "summary": summary_h if kind != "traffic" else 0.0}
    total = sum(heights.values()) + 12
    fig = plt.figure(figsize=(width / 72, total / 72))
    axes = {}
    top = total - 6
    if heights["traffic"]:
        ax = fig.add_axes([0, (top - traffic_h) / total, 1, traffic_h / total])
        _traffic(ax, t, studies, note, width, traffic_h, label_w, fams)
        axes["traffic"] = ax
        top -= traffic_h
    if heights["summary"]:
        left = max(tw(h if h == "Overall" else f"{h} {d}", SMALL, False, False)
                   for h, d in zip(t.heads, t.domains + ("Overall",))) + 12
        ax = fig.add_axes([left / width, (top - summary_h + 46) / total, (width - left - 12) / width,
                           (summary_h - 58) / total])
        _summary(ax, t, shares, use_w, fams, (width - left - 12), tw)
        axes["summary"] = ax
    return RobPlot(fig, axes, t, tuple(studies), shares, use_w, tuple(missing))


def _traffic(ax, t, studies, note, width, height, label_w, fams) -> None:
    from matplotlib.patches import Circle

    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    x0 = label_w + PITCH_X / 2
    y0 = 1.6 * PITCH_Y
    ax.text(6, y0 - PITCH_Y, "Study", fontsize=FONT, fontweight="bold", va="center", family=fams, parse_math=False)
    xs = [x0 + j * PITCH_X + (OVERALL_GAP if head == "Overall" else 0) for j, head in enumerate(t.heads)]
    for x, head in zip(xs, t.heads):
        ax.text(x, y0 - PITCH_Y, head, fontsize=FONT, fontweight="bold", ha="center", va="center",
                family=fams, parse_math=False)
    for i, (sid, js) in enumerate(studies):
        y = y0 + i * PITCH_Y
        ax.text(6, y, sid, fontsize=FONT, va="center", family=fams, parse_math=False, gid=f"study:{sid}")
        for j, judgement in enumerate(js):
            if judgement not in JUDGEMENTS:
                continue
            symbol, colour, _ = JUDGEMENTS[judgement]
            x = xs[j]
            ax.add_patch(Circle((x, y), DOT / 2, facecolor=colour, edgecolor="none",
                                gid=f"rob:{sid}:{t.heads[j]}:{judgement}"))
            ax.text(x, y, symbol, fontsize=FONT, fontweight="bold", ha="center", va="center_baseline",
                    color="black" if colour == "#E2DF07" else "white", family=fams)
    y = y0 + len(studies) * PITCH_Y
    lines = [f"D{i}: {d}" for i, d in enumerate(t.domains, 1)] + note
    for k, line in enumerate(lines):
        ax.text(6, y + k * SMALL * 1.35, line, fontsize=SMALL, va="top", family=fams, parse_math=False)


def _summary(ax, t, shares, weighted, fams, width_pt, tw) -> None:
    import numpy as np

    heads = list(t.heads)
    names = [h if h == "Overall" else f"{h} {d}" for h, d in zip(heads, t.domains + ("Overall",))]
    y = np.arange(len(heads))[::-1]
    left = np.zeros(len(heads))
    for lev in t.levels:
        vals = np.array([shares[h][lev] for h in heads])
        symbol, colour, label = JUDGEMENTS[lev]
        bars = ax.barh(y, vals, left=left, height=0.7, color=colour, edgecolor="white", lw=0.5, label=label,
                       gid=f"summary:{lev}")
        for b, v in zip(bars, vals):
            if tw(f"{v:.0f}%", SMALL - 0.5, False, False) + 4 <= v / 100 * width_pt:  # only where it fits
                ax.text(b.get_x() + b.get_width() / 2, b.get_y() + b.get_height() / 2, f"{v:.0f}%",
                        ha="center", va="center", fontsize=SMALL - 0.5, family=fams,
                        color="black" if colour == "#E2DF07" else "white")
        left += vals
    ax.set_yticks(y, names, fontsize=SMALL, family=fams)
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"], fontsize=SMALL, family=fams)
    ax.set_ylim(-0.6, len(heads) - 0.4)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("Share of the analysis's weight" if weighted else "Share of studies", fontsize=SMALL, family=fams)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.42), ncol=len(t.levels), frameon=False,
              prop={"family": fams, "size": SMALL}, handlelength=1.0, columnspacing=1.0)


__all__ = ["RobPlot", "rob", "rob_summary_shares"]
