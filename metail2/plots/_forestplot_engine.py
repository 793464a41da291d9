"""The ``forestplot`` engine (``forest(..., engine="forestplot")``,
``metail2 plot … --engine forestplot``): the ``forestplot`` package (LSYS)
draws the study rows (CIs and weight-scaled markers) and the left table;
metail2 adds what forestplot has no notion of, from the same layout as the
native engine: diamonds, prediction intervals, arrows past the axis, the
null line, the right-hand table (weights, estimates and CIs), the
heterogeneity and test lines, the axis, favours labels and notes.

forestplot 0.4.1's quirks, and what is done about them:

- it places rows by their label text (a categorical axis: equal labels
  collapse onto one row), so every row gets a unique label (invisible
  U+2060 word joiners appended in a last, empty column, where they move
  nothing);
- it writes its right-hand table at the data coordinate ``xlim[1] · 1.05``
  (inside or left of the plot for difference axes ending at or below 0),
  so the right-hand table is not forestplot's: metail2 places it in axes
  coordinates, points from the plot region's right edge;
- on import it silences every warning of the process, sets
  ``np.seterr(all="ignore")`` and changes ``rcParams``, and it draws with
  ``plt.gcf()``: it is imported and run inside :func:`isolated`, which
  restores all three, and with the figure drawn on made current for the
  call only (the previous current figure is restored).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

from ..errors import InputError
from ._forest_layout import MARGIN, ForestLayout

JOINER = "\u2060"


@contextmanager
def isolated():
    """Run forestplot's code: warning filters, NumPy error settings and
    rcParams are as before afterwards, whatever forestplot did to them."""
    import warnings

    import matplotlib as mpl
    import numpy as np

    with warnings.catch_warnings(), np.errstate(), mpl.rc_context():
        # forestplot's own complaints about what this engine does on purpose (equal labels made unique,
        # tick labels set on its categorical axis): not the user's business
        warnings.filterwarnings("ignore", category=UserWarning, module=r"forestplot(\.|$)")
        err = np.geterr()
        try:
            yield
        finally:
            np.seterr(**err)


def load_forestplot():
    """The ``forestplot`` module, imported in isolation (an InputError when it is not installed)."""
    with isolated():
        try:
            import forestplot
        except ImportError:
            raise InputError("the forestplot engine needs the forestplot package: pip install 'forestplot>=0.4' "
                             "(or use the native engine)") from None
    return forestplot


def draw_with_forestplot(lay: ForestLayout, result, ax=None, **meta):
    """Draw ``lay`` with forestplot drawing the study rows and the left table; returns a ForestPlot."""
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from ._forest_draw import ForestPlot, _marks, _texts

    fpl = load_forestplot()
    st = lay.style
    rows = list(lay.rows)
    n = len(rows)
    study = {m.name: m for m in lay.marks if m.kind == "study"}
    n_data = max(len(r.cells) for r in rows) - 1
    heads = [t.text for t in lay.texts if t.y == 0.95 and t.anchor == "left"][1:1 + n_data]
    table = {"label": [], "est": [], "ll": [], "hl": [], "area": []}
    cols = [f"c{j}" for j in range(n_data)] + ["_unique"]
    for c in cols:
        table[c] = []
    for i, r in enumerate(rows):
        m = study.get(r.study) if r.kind == "study" else None
        label = r.cells[0].replace("\n", " ") if r.cells and r.kind != "pi" else (r.cells[0] if r.cells else "")
        table["label"].append(label)
        if m is not None:
            lo, hi = m.line
            table["est"].append(min(max(m.estimate, lay.xlim[0]), lay.xlim[1]))
            table["ll"].append(lo)
            table["hl"].append(hi)
            table["area"].append(m.area or 0.0)
        else:
            for k in ("est", "ll", "hl"):
                table[k].append(np.nan)
            table["area"].append(0.0)
        for j in range(n_data):
            table[f"c{j}"].append(r.cells[j + 1] if j + 1 < len(r.cells) else "")
        table["_unique"].append(JOINER * (i + 1))  # forestplot places rows by label text: make each unique
    df = pd.DataFrame(table)

    made = ax is None
    if made:
        fig = plt.figure(figsize=lay.figsize)
        ax = fig.add_axes(list(lay.axes_rect))
    fig = ax.figure
    previous = plt.gcf() if plt.get_fignums() else None
    managed = fig.number in plt.get_fignums() if hasattr(fig, "number") else False
    open_before = set(plt.get_fignums())
    with isolated():
        if managed:
            plt.figure(fig.number)  # forestplot measures its labels on plt.gcf()
        try:
            fpl.forestplot(df, estimate="est", ll="ll", hl="hl", varlabel="label", annote=cols,
                           annoteheaders=heads + [""], variable_header=st.study_head, capitalize=None,
                           ci_report=False, form_ci_report=False, logscale=lay.log, xlim=lay.xlim,
                           xticks=list(lay.ticks), ax=ax, markersize="area", markercolor=st.square_color,
                           markeralpha=1.0, linecolor=st.ci_color, lw=0.9, fontsize=st.fontsize, xline=None,
                           flush=True, sort=False)
        finally:
            for num in set(plt.get_fignums()) - open_before - {getattr(fig, "number", None)}:
                plt.close(num)  # the figure forestplot's plt.gcf() made for an axes outside pyplot
            if previous is not None and previous.number in plt.get_fignums():
                plt.figure(previous.number)
    # the axis as the layout has it (forestplot set its own limits, ticks and labels)
    from matplotlib.ticker import FixedLocator, NullLocator

    ax.set_xlim(*lay.xlim)
    ax.set_ylim(-0.5, n - 1 + 0.5 + 1.0)
    ax.xaxis.set_major_locator(FixedLocator(lay.ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(lay.ticks, lay.tick_labels, fontsize=st.small, family=list(lay.families))
    ax.set_xlabel("")

    # rows in forestplot's coordinates: the first row at n − 1, downwards by 1
    index = {r.y: i for i, r in enumerate(rows)}

    def ymap(y):
        return (n - 1 - index[y]) if y in index else n - 1 + y / 0.95  # header lines: forestplot's header row at n

    # forestplot pads every label with spaces to one length (its invisible joiners counted as characters):
    # drop the trailing spaces; its label pad is in pixels, taken as points: set it to the table's width
    def trimmed(text):  # rows without a label (heterogeneity lines): only the invisible joiners
        text = text.rstrip(" ")
        return text.strip(" ") if not text.replace(JOINER, "").strip() else text

    ax.set_yticks(ax.get_yticks(), [trimmed(t.get_text()) for t in ax.get_yticklabels()])
    fig.draw_without_rendering()
    r_ = _renderer(fig)
    widest = max((t.get_window_extent(r_).width for t in ax.get_yticklabels() if t.get_text().strip()), default=0)
    ax.yaxis.set_tick_params(pad=widest * 72 / fig.dpi + st.gap)
    if made:  # size the figure to forestplot's table
        fig.draw_without_rendering()
        r_ = _renderer(fig)
        boxes = [t.get_window_extent(r_) for t in ax.get_yticklabels() if t.get_text().strip()]
        left_px = ax.get_window_extent(r_).x0 - min(b.x0 for b in boxes)
        left_pt = left_px * 72 / fig.dpi
        right_pt = lay.figsize[0] * 72 - 2 * MARGIN - (lay.axes_rect[2] * lay.figsize[0] * 72) - (
            lay.axes_rect[0] * lay.figsize[0] * 72 - MARGIN)
        plot_pt = lay.axes_rect[2] * lay.figsize[0] * 72
        h_pt = lay.figsize[1] * 72
        w_pt = 2 * MARGIN + left_pt + plot_pt + right_pt
        fig.set_size_inches(w_pt / 72, h_pt / 72)
        ax.set_position([(MARGIN + left_pt) / w_pt, lay.axes_rect[1], plot_pt / w_pt, lay.axes_rect[3]])
    fig.draw_without_rendering()
    r_ = _renderer(fig)
    boxes = [t.get_window_extent(r_) for t in ax.get_yticklabels() if t.get_text().strip()]
    ax_box = ax.get_window_extent(r_)
    table_left_pt = (min(b.x0 for b in boxes) - ax_box.x0) * 72 / fig.dpi if boxes else lay.left_columns[0][0]

    moved = replace(
        lay,
        rows=tuple(replace(r, y=ymap(r.y)) for r in rows),
        marks=tuple(replace(m, y=ymap(m.y), vertices=tuple((x, ymap(m.y) + (yy - m.y)) for x, yy in m.vertices))
                    for m in lay.marks if m.kind != "study" or m.arrows != (False, False)),
        texts=tuple(replace(t, y=ymap(t.y), x=table_left_pt if t.anchor == "left" else t.x)
                    for t in lay.texts if t.anchor != "left" or (t.y in index and t.size == st.small)),
        rule=None, notes_left=table_left_pt,
        title=replace(lay.title, y=n - 1 + 2.6, x=table_left_pt) if lay.title else None,
        null_segments=tuple((ymap_seg(a, index, n), ymap_seg(b, index, n)) for a, b in lay.null_segments),
        ylim=(-0.5, n + 0.5))
    _null(ax, moved)
    _marks(ax, replace(moved, marks=tuple(m for m in moved.marks if m.kind != "study")))
    for m in moved.marks:  # arrows of clipped study CIs (forestplot draws none)
        if m.kind == "study":
            for side, (lim, mk) in enumerate(((lay.xlim[0], "<"), (lay.xlim[1], ">"))):
                if m.arrows[side]:
                    ax.plot([lim], [m.y], marker=mk, ms=4 * lay.scale, color=st.ci_color, clip_on=False, zorder=3)
    _texts(ax, moved)
    squares = tuple((sid, x, n - 1 - index[y], a) for sid, x, y, a in lay.squares)
    return ForestPlot(fig, ax, moved.rows, squares, moved.diamonds, lay.xlim, lay.log, lay.null, moved,
                      engine="forestplot", **meta)


def _renderer(fig):
    """The figure's renderer (a figure made without pyplot has a canvas without ``get_renderer``)."""
    get = getattr(fig.canvas, "get_renderer", None)
    return get() if get is not None else fig._get_renderer()


def ymap_seg(y: float, index, n) -> float:
    """A null-line end (layout rows) in forestplot's coordinates (rows may be fractions: linear between rows)."""
    keys = sorted(index, reverse=True)
    if y >= keys[0]:
        return n - 1 + (y - keys[0])
    for a, b in zip(keys, keys[1:]):
        if b <= y <= a:
            ya, yb = n - 1 - index[a], n - 1 - index[b]
            return yb + (ya - yb) * (y - b) / (a - b) if a != b else ya
    return (n - 1 - index[keys[-1]]) - (keys[-1] - y)


def _null(ax, lay) -> None:
    if lay.show_null:
        for a, b in lay.null_segments:
            ax.plot([lay.null, lay.null], [a, b], color=lay.style.null_color, lw=0.8, zorder=1, gid="null")


__all__ = ["draw_with_forestplot", "isolated", "load_forestplot"]
