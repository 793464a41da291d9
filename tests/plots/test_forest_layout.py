"""The forest plot's layout, computed without drawing (metail2.plots._forest_layout).

Text widths come from a stand-in for font metrics (half an em a character,
0.6 bold), so these tests neither draw nor measure fonts.
"""
from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections import Counter
from dataclasses import replace

import pytest

from metail2.effects import study_ci
from metail2.plots._forest_layout import BOLD_KINDS, LOG_TICKS, TOP, UPPER, forest_layout, log_ticks
from metail2.plots.style import STYLES, resolve_style
from metail2.report.format import (MINUS, estimate_ci, heterogeneity_line, interval, overall_test_line,
                                    subgroup_test_line)

from .conftest import METAFOR, ROOT, quiet_pool


def width(s: str, size: float, bold: bool) -> float:
    return len(s) * size * (0.6 if bold else 0.5)


def layout(result, style="revman", **kw):
    return forest_layout(result, resolve_style(style), text_width=width, **kw)


# --------------------------------------------------------------------------- rows

def test_rows_run_subgroup_by_subgroup_then_overall(bcg):
    kinds = []
    for g in bcg.subgroups.values():
        kinds += ["header"] + ["study"] * g.k + ["subtotal", "het", "test", "blank"]
    kinds += ["overall", "het", "test", "subgroup_test"]
    rows = layout(bcg).rows
    assert [r.kind for r in rows] == kinds
    assert [r.cells[0] for r in rows if r.kind == "header"] == list(bcg.subgroups)
    assert all(a.y > b.y for a, b in itertools.pairwise(rows))  # top to bottom
    steps = Counter(round(a.y - b.y, 9) for a, b in itertools.pairwise(rows))
    assert steps == {1.0: len(rows) - 1 - 3, 0.6: 3}  # a blank row is 0.6 of a row


def test_without_subgroups_studies_then_total(normand_md):
    rows = layout(normand_md).rows
    assert [r.kind for r in rows] == ["study"] * 9 + ["blank", "overall", "het", "test"]
    assert rows[-3].right == ("100.0%", estimate_ci(*_natural_ci(normand_md.overall), 2, minus=MINUS))


def _natural_ci(g):
    n = g.natural
    return n.estimate, n.ci_lower, n.ci_upper


def test_study_rows_show_the_input_the_weight_and_the_ci(bcg):
    rows = {r.cells[0]: r for r in layout(bcg).rows if r.kind == "study"}
    weights = {sid: w for g in bcg.subgroups.values() for sid, w in zip(g.study_ids, g.weights)}
    for s in bcg.effects.studies:
        r = rows[s.study_id]
        assert r.cells[1:] == tuple(s.row.text(c) for c in ("exp_events", "exp_total", "ctrl_events", "ctrl_total"))
        est, lo, hi = study_ci(bcg.measure, s, bcg.level)
        assert r.right == (f"{weights[s.study_id]:.1f}%", estimate_ci(est, lo, hi, 2, minus=MINUS))


def test_summary_lines_come_from_report_format(bcg):
    rows = layout(bcg).rows
    fits = {**bcg.subgroups, "Overall": bcg.overall}
    for r in rows:
        if r.kind == "het":
            assert r.span == heterogeneity_line(fits[r.group], 2)
        elif r.kind == "test":
            assert r.span == overall_test_line(fits[r.group])
        elif r.kind in ("subtotal", "overall"):
            assert r.right[-1] == estimate_ci(*_natural_ci(fits[r.group]), 2, minus=MINUS)
    assert rows[-1].span == subgroup_test_line(bcg, figure=True)
    # counts: the subtotal rows sum the subgroup's events and totals
    sub = next(r for r in rows if r.kind == "subtotal" and r.group == "alternate")
    studies = [s for s in bcg.effects.studies if s.row.text("allocation") == "alternate"]
    assert sub.cells[1:] == tuple(str(sum(int(s.row.text(c)) for s in studies))
                                  for c in ("exp_events", "exp_total", "ctrl_events", "ctrl_total"))


def test_prediction_interval_rows_follow_their_diamonds(bcg):
    assert "pi" not in {r.kind for r in layout(bcg).rows}
    rows = layout(bcg, prediction=True).rows
    fits = {**bcg.subgroups, "Overall": bcg.overall}
    pis = [(a, b) for a, b in itertools.pairwise(rows) if b.kind == "pi"]
    assert [a.kind for a, _ in pis] == ["subtotal"] * 3 + ["overall"]
    for _, b in pis:
        n = fits[b.group].natural
        assert b.right == ("", interval(n.pi_lower, n.pi_upper, 2, minus=MINUS))


def test_generic_rows_echo_what_was_reported(hackshaw):
    lay = layout(hackshaw)
    study = next(r for r in lay.rows if r.kind == "study")
    s = next(s for s in hackshaw.effects.studies if s.study_id == study.cells[0])
    assert study.cells[1] == f"{s.row.text('estimate')} [{s.row.text('ci_lower')}, {s.row.text('ci_upper')}]"
    assert "Reported" in {t.text for t in lay.texts if t.y == TOP}


# --------------------------------------------------------------------------- texts and columns

def test_column_heads(bcg):
    heads = lambda lay, y: [t.text for t in lay.texts if t.y == y]
    lay = layout(bcg)
    assert heads(lay, TOP) == ["Study or subgroup", "Events", "Total", "Events", "Total", "Weight",
                               "Risk ratio [95% CI]", "IV, random, REML, 95% CI"]
    assert heads(lay, UPPER) == ["Experimental", "Control", "Risk ratio"]
    unweighted = forest_layout(bcg, replace(STYLES["revman"], weight_column=False), text_width=width)
    assert "Weight" not in heads(unweighted, TOP)
    assert all(len(r.right) == 1 for r in unweighted.rows if r.kind == "study")


def test_every_cell_is_a_text_at_its_column_edge(bcg):
    lay = layout(bcg, prediction=True)
    placed = {(t.text, t.y, t.anchor, t.x): t for t in lay.texts}
    for r in lay.rows:
        for j, cell in enumerate(r.cells):
            if cell:
                x0, w = lay.left_columns[j]
                t = placed[cell, r.y, "left", x0 if j == 0 else x0 + w]
                assert t.ha == ("left" if j == 0 else "right")
                assert t.bold == (r.kind in BOLD_KINDS)
        for (x0, w), cell in zip(lay.right_columns, r.right):
            if cell:
                assert placed[cell, r.y, "right", x0 + w].ha == "right"
        if r.span:
            t = placed[r.span, r.y, "left", lay.left_columns[0][0]]
            assert t.size == lay.style.small and t.italic == (r.kind != "subgroup_test")
    cells = sum(bool(c) for r in lay.rows for c in r.cells + r.right) + sum(bool(r.span) for r in lay.rows)
    heads = [t for t in lay.texts if t.y in (TOP, UPPER)]
    assert len(lay.texts) == cells + len(heads)


def test_columns_are_as_wide_as_their_widest_text_and_never_overlap(bcg):
    lay = layout(bcg)
    gap = lay.style.gap
    for anchor, cols in (("left", lay.left_columns), ("right", lay.right_columns)):
        for (x0, w), (x1, _) in itertools.pairwise(cols):
            assert x1 == pytest.approx(x0 + w + gap)
        for x0, w in cols:
            inside = [t for t in lay.texts if t.anchor == anchor and t.size == lay.style.fontsize
                      and t.x in (x0, x0 + w)]
            assert inside
            assert max(width(t.text, t.size, t.bold) for t in inside) == pytest.approx(w)
    assert lay.left_columns[-1][0] + lay.left_columns[-1][1] + gap == pytest.approx(0)  # one gap before the plot
    assert lay.right_columns[0][0] == gap
    assert lay.rule == (lay.left_columns[0][0], sum(lay.right_columns[-1]))


def test_a_long_heterogeneity_line_widens_the_first_column(bcg):
    def wide_spans(s, size, bold):  # spans are set in the small size
        return len(s) * 40.0 if size == STYLES["revman"].small else width(s, size, bold)

    lay = forest_layout(bcg, STYLES["revman"], text_width=wide_spans)
    longest = max(len(r.span) * 40.0 for r in lay.rows if r.span)
    left_total = -lay.left_columns[0][0]
    assert left_total + lay.style.plot_width_in * 72 == pytest.approx(longest)
    assert lay.left_columns[0][1] > layout(bcg).left_columns[0][1]


def test_figure_size_follows_the_text_and_the_rows(normand_md):
    a = layout(normand_md)
    b = layout(quiet_pool(METAFOR / "hackshaw1998.csv", "OR"))
    st = a.style
    left, right = -a.left_columns[0][0], sum(a.right_columns[-1])
    assert a.figsize[0] * 72 == pytest.approx(16 + left + st.plot_width_in * 72 + right)
    rows_a, rows_b = -a.rows[-1].y + 1, -b.rows[-1].y + 1
    assert rows_b - rows_a == 37 - 9
    assert (b.figsize[1] - a.figsize[1]) * 72 == pytest.approx((rows_b - rows_a) * st.row_height)
    # the axes hold the rows: its height is the rows' height
    assert a.axes_rect[3] * a.figsize[1] * 72 == pytest.approx(rows_a * st.row_height)


def test_title_favours_and_notes_take_their_room(il2):
    plain = layout(il2, show_excluded=False)
    full = layout(il2, favours=("a", "b"), title="IL-2")
    assert plain.title is None and plain.favours is None and plain.notes == ()
    assert full.title.text == "IL-2" and full.title.y > UPPER
    assert full.favours == ("Favours a  ", "  Favours b")
    assert full.notes[0] == "Not pooled (no complete input):"
    notes = " ".join(full.notes)
    for e in il2.effects.excluded:
        assert e.study_id in notes
    st = full.style
    extra = 1.6 * st.row_height + st.row_height + len(full.notes) * st.small * 1.35
    assert (full.figsize[1] - plain.figsize[1]) * 72 == pytest.approx(extra)


# --------------------------------------------------------------------------- axis and marks

def test_ratio_axis_is_log_around_1_and_covers_the_pooled_cis(bcg):
    lay = layout(bcg)
    assert lay.log and lay.null == 1.0 and lay.show_null
    assert lay.x_label == "Risk ratio (log scale)"
    lo, hi = lay.xlim
    for _, verts in lay.diamonds:
        assert lo < verts[0][0] and verts[2][0] < hi
    assert set(lay.ticks) <= set(LOG_TICKS) and all(lo <= t <= hi for t in lay.ticks)


def test_difference_axis_is_linear_around_0(normand_md):
    lay = layout(normand_md)
    assert not lay.log and lay.null == 0.0 and lay.ticks is None
    assert lay.xlim[0] < 0 < lay.xlim[1]


def test_proportions_have_no_null_line(il2):
    lay = layout(il2)
    assert not lay.log and lay.null is None and not lay.show_null
    assert lay.x_label == "Proportion"


def test_log_ticks_step_1_2_5():
    assert log_ticks(0.15, 7.9) == (0.2, 0.5, 1, 2, 5)
    assert log_ticks(0.1, 10) == (0.1, 0.2, 0.5, 1, 2, 5, 10)


@pytest.mark.xfail(strict=True, reason="issue 13 item 1: on wide ranges the ticks below 1 vanish")
def test_log_ticks_keep_values_below_1_on_wide_ranges():
    assert min(log_ticks(0.01, 100)) < 1


def test_cis_past_the_limits_are_clipped_with_arrows(bcg):
    lay = layout(bcg, xlim=(0.2, 2.0))
    assert lay.xlim == (0.2, 2.0)
    studies = [m for m in lay.marks if m.kind == "study"]
    assert any(m.arrows[0] for m in studies) and any(m.arrows[1] for m in studies)
    for m in studies:
        assert m.arrows == (m.lower < 0.2, m.upper > 2.0)
        assert m.line == (max(m.lower, 0.2), min(m.upper, 2.0))
        assert (m.area is not None) == (0.2 <= m.estimate <= 2.0)


@pytest.mark.parametrize("style", ["revman", "jama"])
def test_square_areas_are_proportional_to_the_weight_column(bcg, style):
    lay = layout(bcg, style)
    assert len(lay.squares) == 13
    shown = {r.cells[0]: float(r.right[0].rstrip("%")) for r in layout(bcg).rows if r.kind == "study"}
    marks = {m.name: m for m in lay.marks if m.kind == "study"}
    ratios = [area / marks[sid].weight for sid, _, _, area in lay.squares]
    assert ratios == pytest.approx([ratios[0]] * 13, rel=1e-12)
    assert max(a for *_, a in lay.squares) == STYLES[style].max_square
    for sid, x, y, _ in lay.squares:
        assert marks[sid].weight == pytest.approx(shown[sid], abs=0.05)
        assert (x, y) == (marks[sid].estimate, marks[sid].y)


def test_diamonds_span_the_pooled_cis_on_their_rows(bcg):
    lay = layout(bcg)
    fits = {**bcg.subgroups, "Overall": bcg.overall}
    rows = {r.group: r.y for r in lay.rows if r.kind in ("subtotal", "overall")}
    assert [name for name, _ in lay.diamonds] == ["alternate", "random", "systematic", "Overall"]
    for name, ((lo, y0), (top_x, y1), (hi, y2), (bot_x, y3)) in lay.diamonds:
        est, ci_lo, ci_hi = _natural_ci(fits[name])
        assert (lo, top_x, hi, bot_x) == (ci_lo, est, ci_hi, est)
        assert y0 == y2 == rows[name] and y1 > y0 > y3


@pytest.mark.slow  # a fresh interpreter
def test_layout_is_pure_importing_and_laying_out_load_no_matplotlib():
    """A fresh interpreter: importing metail2.plots and computing a layout
    (with a width function) loads no matplotlib and changes no warning
    filter or NumPy error setting. (The pooled result is made first: SciPy
    adds warning filters of its own when it loads.)"""
    code = f"""
import json, sys, warnings
import numpy as np
from metail2 import pool
r = pool({str(METAFOR / 'bcg.csv')!r}, "RR", by="allocation")
filters, err, before = list(warnings.filters), np.geterr(), set(sys.modules)
import metail2.plots
from metail2.plots._forest_layout import forest_layout
from metail2.plots.style import STYLES
lay = forest_layout(r, STYLES["revman"], text_width=lambda s, size, bold: len(s) * size / 2)
loaded = {{m.split(".")[0] for m in set(sys.modules) - before}} - set(sys.stdlib_module_names)
print(json.dumps({{"mpl": sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib"),
                  "filters": warnings.filters == filters, "err": np.geterr() == err, "rows": len(lay.rows),
                  "loaded": sorted(loaded)}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    got = json.loads(out.stdout.splitlines()[-1])
    assert got == {"mpl": [], "filters": True, "err": True, "rows": 32, "loaded": ["metail2"]}
