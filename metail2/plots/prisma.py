"""The PRISMA 2020 flow diagram (Page et al. 2021, BMJ 372:n71; the template
for new reviews with searches of databases and registers only).

:func:`prisma_layout` places the boxes (sized to their text, measured),
arrows and phase labels as plain values in points; :func:`prisma` draws them
with matplotlib (text stays text in SVG and PDF). The counts are a plain
mapping, the fields of :class:`metail2.review.prisma.Prisma` (``metail2
prisma --json``); the plots never read the records store themselves.

Boxes: records identified from each search or imported file; records
removed before screening (duplicates, withdrawn); records screened and
excluded (with those still awaiting a decision and the reviewers'
conflicts); reports sought; reports not retrieved or not yet assessed;
reports assessed; reports excluded with each reason; studies and reports
included. Optional fields: ``studies_included`` (several reports of one
study; by default every included report counts as a study),
``reports_not_retrieved``.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from .fonts import font_families, metrics_width, wrap
from .save import save_figure

PAD = 6.0  # points inside a box
COL_GAP = 34.0  # between the two columns (the arrow)
ROW_GAP = 20.0  # between rows (the arrow)
BAND = 20.0  # width of the phase labels
MAX_TEXT = 230.0  # widest line of a box (points); longer lines wrap
PHASE_COLOUR, HEADER_COLOUR = "#c6dbef", "#fdd49e"


@dataclass(frozen=True)
class Box:
    """A box: ``x``, ``y`` (top), ``w``, ``h`` in points from the top left; its text lines."""

    name: str
    x: float
    y: float
    w: float
    h: float
    lines: tuple[str, ...]
    kind: str = "box"  # box, phase (rotated label), header


@dataclass(frozen=True)
class PrismaLayout:
    boxes: tuple[Box, ...]
    arrows: tuple[tuple[tuple[float, float], tuple[float, float]], ...]
    width: float
    height: float
    fontsize: float
    line_height: float

    def box(self, name: str) -> Box:
        return next(b for b in self.boxes if b.name == name)


def _n(v) -> str:
    return f"(n = {int(v)})"


def box_texts(counts: Mapping) -> dict[str, list[str]]:
    """Each box's lines from the counts (every count in exactly one box)."""
    c = dict(counts.to_dict() if hasattr(counts, "to_dict") else counts)
    ident = ["Records identified from:"] + [f"{src} {_n(n)}" for src, n in c.get("identified", {}).items()]
    if len(c.get("identified", {})) != 1:
        ident.append(f"Total {_n(c.get('identified_total', 0))}")
    removed = ["Records removed before screening:", f"Duplicate records removed {_n(c.get('duplicates_removed', 0))}"]
    if "automation_removed" in c:
        removed.append(f"Records marked as ineligible by automation tools {_n(c['automation_removed'])}")
    removed.append(f"Records removed for other reasons (withdrawn) {_n(c.get('records_removed_other', 0))}")
    excluded = [f"Records excluded {_n(c.get('excluded_screening', 0))}"]
    if c.get("screening_pending"):
        excluded.append(f"Records awaiting screening {_n(c['screening_pending'])}")
    if c.get("screening_conflicts"):
        excluded.append(f"  of which reviewers disagree {_n(c['screening_conflicts'])}")
    pending = c.get("fulltext_pending", 0)
    if "reports_not_retrieved" in c:
        missing = [f"Reports not retrieved {_n(c['reports_not_retrieved'])}",
                   f"Reports awaiting assessment {_n(pending - c['reports_not_retrieved'])}"]
    else:
        missing = [f"Reports not retrieved or not yet assessed {_n(pending)}"]
    if c.get("fulltext_conflicts"):
        missing.append(f"  of which reviewers disagree {_n(c['fulltext_conflicts'])}")
    reasons = c.get("reports_excluded", {})
    excl_reports = [f"Reports excluded {_n(sum(reasons.values()))}" + (":" if reasons else "")]
    excl_reports += [f"  {reason} {_n(n)}" for reason, n in reasons.items()]
    included = c.get("included", 0)
    return {
        "identified": ident, "removed": removed,
        "screened": [f"Records screened {_n(c.get('screened', 0))}"], "excluded": excluded,
        "sought": [f"Reports sought for retrieval {_n(c.get('reports_sought', 0))}"], "not_retrieved": missing,
        "assessed": [f"Reports assessed for eligibility {_n(c.get('reports_assessed', 0))}"],
        "reports_excluded": excl_reports,
        "included": [f"Studies included in review {_n(c.get('studies_included', included))}",
                     f"Reports of included studies {_n(included)}"],
    }


def prisma_layout(counts: Mapping, *, fontsize: float = 8.0, text_width=None) -> PrismaLayout:
    """Place the diagram's boxes, arrows and phase labels (points, y downwards)."""
    tw = text_width or metrics_width(("DejaVu Sans", "sans-serif"))
    line_h = fontsize * 1.3
    measure = lambda s: tw(s, fontsize, False, False)  # noqa: E731
    def lines(line):
        indent = line[:len(line) - len(line.lstrip())]
        return wrap(line, MAX_TEXT, measure, indent=indent, subsequent=indent + "    ") or [""]

    texts = {k: [w for line in v for w in lines(line)] for k, v in box_texts(counts).items()}
    size = {k: (max(measure(s) for s in v) + 2 * PAD, len(v) * line_h + 2 * PAD) for k, v in texts.items()}
    for name, label in (("identified", "Identification"), ("included", "Included")):  # room for the phase label
        w, h = size[name]
        size[name] = (w, max(h, tw(label, fontsize, True, False) + 2 * PAD))
    rows = [("identified", "removed"), ("screened", "excluded"), ("sought", "not_retrieved"),
            ("assessed", "reports_excluded"), ("included", None)]
    left_w = max(size[a][0] for a, _ in rows)
    right_w = max(size[b][0] for _, b in rows if b)
    x_left = BAND + 8.0
    x_right = x_left + left_w + COL_GAP
    width = x_right + right_w
    header_h = line_h + 2 * PAD
    boxes = [Box("header", x_left, 0.0, width - x_left, header_h,
                 ("Identification of studies via databases and registers",), "header")]
    arrows = []
    y = header_h + ROW_GAP * 0.7
    tops = {}
    for a, b in rows:
        h = max(size[a][1], size[b][1] if b else 0.0)
        boxes.append(Box(a, x_left, y, left_w, size[a][1], tuple(texts[a])))
        tops[a] = y
        if b:
            boxes.append(Box(b, x_right, y, right_w, size[b][1], tuple(texts[b])))
            mid = y + min(size[a][1], size[b][1]) / 2
            arrows.append(((x_left + left_w, mid), (x_right, mid)))
        y += h + ROW_GAP
    names = [a for a, _ in rows]
    for a, b in zip(names, names[1:]):
        arrows.append(((x_left + left_w / 2, tops[a] + size[a][1]), (x_left + left_w / 2, tops[b])))
    height = y - ROW_GAP
    for label, first, last in (("Identification", "identified", "identified"), ("Screening", "screened", "assessed"),
                               ("Included", "included", "included")):
        top, bottom = tops[first], tops[last] + size[last][1]
        boxes.append(Box(f"phase:{label}", 0.0, top, BAND, bottom - top, (label,), "phase"))
    return PrismaLayout(tuple(boxes), tuple(arrows), width, height, fontsize, line_h)


@dataclass(frozen=True)
class PrismaPlot:
    """What :func:`prisma` drew: the figure, its axes and the layout."""

    figure: object
    ax: object
    layout: PrismaLayout

    def savefig(self, path: str | os.PathLike, **kwargs) -> None:
        save_figure(self.figure, path, **kwargs)


def prisma(counts: Mapping, ax=None, *, fontsize: float = 8.0) -> PrismaPlot:
    """Draw the PRISMA 2020 flow diagram of a review's counts.

    Parameters
    ----------
    counts : mapping
        The PRISMA counts (``Prisma.to_dict()``; ``metail2 prisma --json``).
    ax : matplotlib Axes, optional
        Drawn into this axes (its data limits become points); by default a
        figure sized to the diagram.

    Returns
    -------
    PrismaPlot
        ``savefig`` writes PNG at 300 dpi, SVG and PDF with editable text.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch, Rectangle

    strings = [line for v in box_texts(counts).values() for line in v]
    fams = font_families("DejaVu Sans", strings)
    lay = prisma_layout(counts, fontsize=fontsize, text_width=metrics_width(fams))
    margin = 6.0
    if ax is None:
        fig = plt.figure(figsize=((lay.width + 2 * margin) / 72, (lay.height + 2 * margin) / 72))
        ax = fig.add_axes([margin / (lay.width + 2 * margin), margin / (lay.height + 2 * margin),
                           lay.width / (lay.width + 2 * margin), lay.height / (lay.height + 2 * margin)])
    else:
        fig = ax.figure
    ax.set_xlim(0, lay.width)
    ax.set_ylim(lay.height, 0)
    ax.set_axis_off()
    for b in lay.boxes:
        if b.kind == "phase":
            ax.add_patch(FancyBboxPatch((b.x, b.y), b.w, b.h, boxstyle="round,pad=0,rounding_size=4",
                                        facecolor=PHASE_COLOUR, edgecolor="none", gid=f"box:{b.name}",
                                        clip_on=False))
            ax.text(b.x + b.w / 2, b.y + b.h / 2, b.lines[0], rotation=90, ha="center", va="center",
                    fontsize=fontsize, fontweight="bold", family=list(fams), gid=f"text:{b.name}:0",
                    parse_math=False)
            continue
        ax.add_patch(Rectangle((b.x, b.y), b.w, b.h, facecolor=HEADER_COLOUR if b.kind == "header" else "white",
                               edgecolor="none" if b.kind == "header" else "black", lw=0.8, gid=f"box:{b.name}",
                               clip_on=False))
        for i, line in enumerate(b.lines):
            ax.text(b.x + (b.w / 2 if b.kind == "header" else PAD), b.y + PAD + (i + 0.5) * lay.line_height, line,
                    ha="center" if b.kind == "header" else "left", va="center_baseline", fontsize=fontsize,
                    fontweight="bold" if b.kind == "header" else "normal", family=list(fams),
                    gid=f"text:{b.name}:{i}", parse_math=False)
    for (x0, y0), (x1, y1) in lay.arrows:
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", lw=0.8, color="black", shrinkA=0, shrinkB=0,
                                    mutation_scale=8), annotation_clip=False)
    return PrismaPlot(fig, ax, lay)


__all__ = ["Box", "PrismaLayout", "PrismaPlot", "box_texts", "prisma", "prisma_layout"]
