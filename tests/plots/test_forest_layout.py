"""The forest plot's layout, computed without drawing (metail2.plots._forest_layout).

Text widths come from a stand-in for font metrics (half an em a character,
0.6 bold, 0.55 italic; the widest line of a wrapped text), so these tests
neither draw nor measure fonts.
"""
from __future__ import annotations

import itertools
import json
import math
import re
import subprocess
import sys
from collections import Counter
from dataclasses import replace

import pandas as pd
import pytest

from metail2.effects import EffectSizes, study_ci
from metail2.errors import InputError
from metail2.plots._forest_axis import RATIO_SCALES, linear_ticks, ratio_scale, tick_label
from metail2.plots._forest_layout import BOLD_KINDS, LOG_TICKS, TOP, UPPER, forest_layout, log_ticks
from metail2.plots._forest_rows import clopper_pearson
from metail2.plots.style import STYLES, resolve_style
from metail2.report.format import (MINUS, estimate_ci, heterogeneity_line, interval, overall_test_line,
                                    subgroup_test_line)

from .conftest import METAFOR, ROOT, quiet_pool


def width(s: str, size: float, bold: bool = False, italic: bool = False) -> float:
    per = 0.6 if bold else (0.55 if italic else 0.5)
    return max(len(line) for line in s.split("\n")) * size * per


def layout(result, style="revman", **kw):
    return forest_layout(result, resolve_style(style), text_width=width, **kw)


def _natural_ci(g):
    n = g.natural
    return n.estimate, n.ci_lower, n.ci_upper


def overall_weights(result):
    return dict(zip(result.overall.study_ids, result.overall.weights))


# --------------------------------------------------------------------------- rows

def test_rows_run_subgroup_by_subgroup_then_overall(bcg):
    kinds = []
    for g in bcg.subgroups.values():
        kinds += ["header"] + ["study"] * g.k + ["subtotal", "het", "test", "blank"]
    kinds += ["overall", "het", "test", "subgroup_test"]
    rows = layout(bcg).rows
    assert [r.kind for r in rows] == kinds
    assert [r.cells[0] for r in rows if r.kind == "header"] == [f"allocation = {g}" for g in bcg.subgroups]
    assert all(a.y > b.y for a, b in itertools.pairwise(rows))  # top to bottom
    steps = Counter(round(a.y - b.y, 9) for a, b in itertools.pairwise(rows))
    assert steps == {1.0: len(rows) - 1 - 3, 0.6: 3}  # a blank row is 0.6 of a row


def test_without_subgroups_studies_then_total(normand_md):
    rows = layout(normand_md).rows
    assert [r.kind for r in rows] == ["study"] * 9 + ["blank", "overall", "het", "test"]
    assert rows[-3].right == ("100.0%", estimate_ci(*_natural_ci(normand_md.overall), 2, minus=MINUS))


def test_study_rows_show_the_input_the_overall_weight_and_the_ci(bcg):
    rows = {r.cells[0]: r for r in layout(bcg).rows if r.kind == "study"}
    weights = overall_weights(bcg)
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
            assert r.span == heterogeneity_line(fits[r.group], 2, i2="q")
        elif r.kind == "test":
            assert r.span == overall_test_line(fits[r.group])
        elif r.kind in ("subtotal", "overall"):
            assert r.right[-1] == estimate_ci(*_natural_ci(fits[r.group]), 2, minus=MINUS)
    assert rows[-1].span == subgroup_test_line(bcg, figure=True, i2=True)
    # counts: the subtotal rows sum the subgroup's events and totals
    sub = next(r for r in rows if r.kind == "subtotal" and r.group == "alternate")
    studies = [s for s in bcg.effects.studies if s.row.text("allocation") == "alternate"]
    assert sub.cells[1:] == tuple(str(sum(int(s.row.text(c)) for s in studies))
                                  for c in ("exp_events", "exp_total", "ctrl_events", "ctrl_total"))


def test_prediction_interval_rows_follow_their_diamonds_when_k_is_3_or_more(bcg):
    assert "pi" not in {r.kind for r in layout(bcg).rows}
    rows = layout(bcg, prediction=True).rows
    fits = {**bcg.subgroups, "Overall": bcg.overall}
    pis = [(a, b) for a, b in itertools.pairwise(rows) if b.kind == "pi"]
    assert [a.group for a, _ in pis] == [g for g, f in fits.items() if f.k >= 3]
    assert bcg.subgroups["alternate"].k == 2  # no PI for k < 3 (R meta's rule; metafor gives one)
    for _, b in pis:
        n = fits[b.group].natural
        assert b.right == ("", interval(n.pi_lower, n.pi_upper, 2, minus=MINUS))


def test_generic_rows_show_the_log_estimate_and_se_that_were_pooled(hackshaw):
    lay = layout(hackshaw)
    assert [t.text for t in lay.texts if t.y == TOP][1:3] == ["log[OR]", "SE"]
    shown = {r.study: r for r in lay.rows if r.kind == "study"}
    for s in hackshaw.effects.studies:
        r = shown[s.study_id]
        assert r.cells[1:] == (f"{s.yi:.4f}".replace("-", MINUS), f"{math.sqrt(s.vi):.4f}")
        # the CI on the right is the one computed from exactly these
        est, lo, hi = study_ci(hackshaw.measure, s, hackshaw.level)
        assert r.right[-1] == estimate_ci(est, lo, hi, 2, minus=MINUS)


# --------------------------------------------------------------------------- item 2: overall weights

def test_weights_are_the_overall_analysis_weights_and_sum_to_100(il2):
    lay = layout(il2)
    weights = overall_weights(il2)
    study = {r.study: float(r.right[0].rstrip("%")) for r in lay.rows if r.kind == "study"}
    assert study == pytest.approx({k: round(v, 1) for k, v in weights.items()}, abs=1e-9)
    subtotals = {r.group: float(r.right[0].rstrip("%")) for r in lay.rows if r.kind == "subtotal"}
    for g, fit in il2.subgroups.items():
        assert subtotals[g] == pytest.approx(sum(weights[s] for s in fit.study_ids), abs=0.051)
    assert sum(subtotals.values()) == pytest.approx(100, abs=0.05 * len(subtotals) + 1e-9)  # each rounded to 0.1
    assert next(r for r in lay.rows if r.kind == "overall").right[0] == "100.0%"
    # one size scale across subgroups: the 9-patient study (alone in its subgroup) is not the largest square
    areas = {name: a for name, _, _, a in lay.squares}
    assert areas["Lin 2009"] < max(areas.values())
    assert max(areas, key=areas.get) == max(weights, key=weights.get)


# --------------------------------------------------------------------------- item 3: I²

def test_heterogeneity_lines_print_the_q_based_i2_and_the_other_on_request(bcg):
    fits = {**bcg.subgroups, "Overall": bcg.overall}
    for choice, attr in (("q", "i2_q"), ("tau2", "i2")):
        for r in layout(bcg, i2=choice).rows:
            if r.kind == "het":
                assert r.span.endswith(f"I² = {getattr(fits[r.group], attr):.0f}%")
    q = fits["random"]
    assert f"{max(0, 100 * (q.q - q.q_df) / q.q):.0f}%" in heterogeneity_line(q, 2, i2="q")
    st = bcg.subgroup_test
    assert layout(bcg).rows[-1].span.endswith(f"I² = {max(0.0, 100 * (st.q - st.df) / st.q):.1f}%")


# --------------------------------------------------------------------------- texts and columns

def test_column_heads_name_the_level_the_method_and_the_convention(bcg):
    heads = lambda lay, y: [t.text for t in lay.texts if t.y == y]  # noqa: E731
    lay = layout(bcg)
    assert heads(lay, TOP) == ["Study or subgroup", "Events", "Total", "Events", "Total", "Weight",
                               "Risk ratio [95% CI]", "IV, random, REML, 95% CI"]
    assert heads(lay, UPPER) == ["Experimental", "Control", "Risk ratio"]
    unweighted = forest_layout(bcg, replace(STYLES["revman"], weight_column=False), text_width=width)
    assert "Weight" not in heads(unweighted, TOP)
    assert all(len(r.right) == 1 for r in unweighted.rows if r.kind == "study")
    at90 = layout(quiet_pool(METAFOR / "bcg.csv", "RR", level=0.9, by="allocation"))
    assert {"Risk ratio [90% CI]", "IV, random, REML, 90% CI"} <= set(heads(at90, TOP))
    assert "Subtotal (90% CI)" in {r.cells[0] for r in at90.rows if r.kind == "subtotal"}


@pytest.mark.parametrize("kw, head", [
    (dict(method="DL", convention="revman5"), "M-H, Random, 95% CI"),
    (dict(method="FE", convention="revman5"), "M-H, Fixed, 95% CI"),
    (dict(method="MH"), "M-H, common effect, 95% CI"),
    (dict(method="REML", convention="metafor"), "IV, random, REML, 95% CI; metafor 3.8"),
    (dict(method="DL", test="hk"), "IV, random, DL, 95% CI (HK)"),
])
def test_method_heading_names_method_and_convention(kw, head):
    r = quiet_pool(METAFOR / "bcg.csv", "RR", **kw)
    assert head in [t.text for t in layout(r).texts if t.y == TOP]


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


def test_heterogeneity_lines_are_measured_in_italic_and_widen_the_first_column(bcg):
    def wide_italic(s, size, bold=False, italic=False):  # only italic text is wide
        return len(s) * 40.0 if italic else width(s, size, bold)

    lay = forest_layout(bcg, STYLES["revman"], text_width=wide_italic)
    longest = max(len(r.span) * 40.0 for r in lay.rows if r.span and r.kind != "subgroup_test")
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
    assert a.axes_rect[3] * a.figsize[1] * 72 == pytest.approx(rows_a * st.row_height)


def test_title_favours_and_notes_take_their_room(il2):
    plain = layout(il2, show_excluded=False)
    full = layout(il2, favours=("a", "b"), title="IL-2")
    assert plain.title is None and plain.favours is None
    assert full.title.text == "IL-2" and full.title.y > UPPER
    assert full.favours == ("Favours a", "Favours b") and full.favours_pad > 0  # apart, not padded with spaces
    assert "Not pooled (no complete input):" in full.notes and "Not pooled (no complete input):" not in plain.notes
    notes = " ".join(full.notes)
    for e in il2.effects.excluded:
        assert e.study_id in notes
    st = full.style
    extra_notes = (len(full.notes) - len(plain.notes)) * st.small * 1.35
    extra = 1.6 * st.row_height + st.small * 1.25 + 4 + extra_notes
    assert (full.figsize[1] - plain.figsize[1]) * 72 == pytest.approx(extra)


def test_notes_wrap_to_the_figures_measured_width(il2):
    lay = layout(il2)
    content = lay.figsize[0] * 72 - 16
    assert all(width(n, lay.style.small) <= content + 1e-9 for n in lay.notes)
    assert len(lay.notes) > len(il2.effects.excluded) + 1  # long reasons wrapped


# --------------------------------------------------------------------------- item 1: axis and ticks

def test_ratio_axis_is_symmetric_around_1_with_revman_scales(bcg):
    lay = layout(bcg)
    assert lay.log and lay.null == 1.0 and lay.show_null
    assert lay.x_label == "Risk ratio (log scale)"
    lo, hi = lay.xlim
    assert lo * hi == pytest.approx(1) and hi in [s for s, _ in RATIO_SCALES]
    for _, verts in lay.diamonds:
        assert lo < verts[0][0] and verts[2][0] < hi
    assert set(lay.ticks) <= set(LOG_TICKS) and all(lo <= t <= hi for t in lay.ticks)
    assert all(any(t * u == pytest.approx(1) for u in lay.ticks) for t in lay.ticks)  # 0.2 with 5, …


def test_log_ticks_keep_values_below_1_on_wide_ranges():
    assert log_ticks(0.15, 7.9) == (0.2, 0.5, 1, 2, 5)
    assert log_ticks(0.1, 10) == (0.1, 0.2, 0.5, 1, 2, 5, 10)
    assert log_ticks(0.01, 100) == (0.01, 0.1, 1, 10, 100)
    assert log_ticks(0.001, 1000) == (0.001, 0.1, 1, 10, 1000)
    upper, ticks = ratio_scale(2500)  # the 0.002–2,500: a symmetric 10⁻⁴–10⁴ scale, 1/t beside every t
    assert upper == 1e4 and min(ticks) < 1 and all(1 / t in ticks for t in ticks)
    assert [tick_label(t) for t in ticks] == ["0.0001", "0.01", "1", "100", "10000"]
    assert log_ticks(2, 50) == (2, 5, 10, 20, 50)  # far from symmetric (--xlim 2 50): 1-2-5 steps


def test_one_outlier_does_not_squeeze_the_others():
    es = EffectSizes.from_arrays([math.log(x) for x in (0.8, 1.2, 0.9, 1.1, 2500)], [0.04, 0.05, 0.03, 0.06, 2.0],
                                 "OR", study_ids=list("ABCDE"))
    lay = layout(quiet_pool(es, method="DL"))
    assert lay.xlim == pytest.approx((0.2, 5.0))
    outlier = next(m for m in lay.marks if m.name == "E")
    assert outlier.area is None and outlier.arrows[1]  # clipped with an arrow, its numbers in the table
    assert all(m.area for m in lay.marks if m.kind == "study" and m.name != "E")


def test_tick_labels_never_touch():
    es = EffectSizes.from_arrays([0.0, 0.1], [0.01, 0.02], "OR")
    lay = forest_layout(quiet_pool(es), replace(STYLES["revman"], plot_width_in=0.8), text_width=width,
                        xlim=(0.01, 100))
    f = math.log
    pos = [(f(t) - f(0.01)) / (f(100) - f(0.01)) * 0.8 * 72 for t in lay.ticks]
    for (a, la), (b, lb) in itertools.pairwise(zip(pos, lay.tick_labels)):
        assert b - a >= (width(la, 7) + width(lb, 7)) / 2 + 3
    assert 1 in lay.ticks and lay.ticks[0] == 0.01 and lay.ticks[-1] == 100


def test_difference_axis_is_symmetric_around_0_with_one_minus_sign(normand_md):
    lay = layout(normand_md)
    assert not lay.log and lay.null == 0.0
    assert lay.xlim[0] == -lay.xlim[1] and 0 in lay.ticks
    assert all("-" not in s for s in lay.tick_labels) and any(s.startswith(MINUS) for s in lay.tick_labels)
    assert linear_ticks(-4, 4) == (-4, -2, 0, 2, 4)


def test_proportions_have_no_null_line_and_stay_within_0_and_1(il2):
    lay = layout(il2)
    assert not lay.log and lay.null is None and not lay.show_null
    assert lay.x_label == "Proportion" and 0 <= lay.xlim[0] < lay.xlim[1] <= 1
    assert lay.tick_labels == ("0", "0.2", "0.4", "0.6", "0.8", "1")


def test_cis_past_the_limits_are_clipped_with_arrows(bcg):
    lay = layout(bcg, xlim=(0.2, 2.0))
    assert lay.xlim == (0.2, 2.0)
    studies = [m for m in lay.marks if m.kind == "study"]
    assert any(m.arrows[0] for m in studies) and any(m.arrows[1] for m in studies)
    for m in studies:
        assert m.arrows == (m.lower < 0.2, m.upper > 2.0)
        assert m.line == (max(m.lower, 0.2), min(m.upper, 2.0))
        assert (m.area is not None) == (0.2 <= m.estimate <= 2.0)


# --------------------------------------------------------------------------- item 4: squares

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


def test_every_square_has_a_visible_minimum_size():
    es = EffectSizes.from_arrays([0.1, 0.2, -0.1, 0.05, 0.0, 0.15, -0.05, 0.12, 0.08],
                                 [1e-4] + [0.5] * 8, "MD")  # one study holds nearly all the weight
    lay = layout(quiet_pool(es, method="FE"))
    areas = [a for *_, a in lay.squares]
    assert len(areas) == 9 and max(areas) == lay.style.max_square
    assert min(areas) == lay.style.min_square >= 9  # 3 pt a side at least: wider than the 0.9 pt CI line


def test_diamonds_span_the_pooled_cis_on_their_rows(bcg):
    lay = layout(bcg)
    fits = {**bcg.subgroups, "Overall": bcg.overall}
    rows = {r.group: r.y for r in lay.rows if r.kind in ("subtotal", "overall")}
    assert [name for name, _ in lay.diamonds] == ["alternate", "random", "systematic", "Overall"]
    for name, ((lo, y0), (top_x, y1), (hi, y2), (bot_x, y3)) in lay.diamonds:
        est, ci_lo, ci_hi = _natural_ci(fits[name])
        assert (lo, top_x, hi, bot_x) == (ci_lo, est, ci_hi, est)
        assert y0 == y2 == rows[name] and y1 > y0 > y3


# --------------------------------------------------------------------------- item 5: proportions

@pytest.fixture(scope="module")
def props():
    df = pd.DataFrame({"study_id": ["All ten", "Three", "None"], "events": ["10", "3", "0"],
                       "total": ["10", "20", "15"]})
    return {m: quiet_pool(df, m) for m in ("PLO", "PR")}


def test_proportions_show_observed_values_with_exact_cis(props):
    lay = layout(props["PLO"])
    rows = {r.study: r for r in lay.rows if r.kind == "study"}
    marks = {m.name: m for m in lay.marks if m.kind == "study"}
    assert marks["All ten"].estimate == 1.0 and marks["All ten"].upper == 1.0  # not 0.95 after the 1/2 correction
    lo, hi = clopper_pearson(10, 10, 0.95)
    assert (lo, hi) == (pytest.approx(0.0250 ** (1 / 10)), 1.0)  # (α/2)^(1/n)
    assert rows["All ten"].right[-1] == f"1.00 [{lo:.2f}, 1.00]"
    assert all(0 <= m.lower <= m.estimate <= m.upper <= 1 for m in marks.values())
    assert "IV, random, REML, logit, 95% CI" in [t.text for t in lay.texts if t.y == TOP]
    assert any("Clopper–Pearson" in n for n in lay.notes)
    assert "test" not in {r.kind for r in lay.rows}  # no test against logit 0 (a proportion of 0.5)


def test_raw_proportions_never_show_a_ci_beyond_1(props):
    lay = layout(props["PR"])
    for m in lay.marks:
        assert 0 <= m.lower and m.upper <= 1
    assert "untransformed" in " ".join(t.text for t in lay.texts)


def test_zero_cell_corrections_are_marked_with_a_footnote(props):
    lay = layout(props["PLO"])
    labels = [r.cells[0] for r in lay.rows if r.kind == "study"]
    assert labels == ["All ten†", "Three", "None†"]
    assert "† zero cell: 1/2 added to events and non-events" in lay.notes


# --------------------------------------------------------------------------- item 8: size and labels

def test_a_long_study_label_wraps_instead_of_widening_the_figure(bcg):
    long = "A" * 10 + " very long study label of eighty characters to wrap onto more lines ok"
    df = pd.read_csv(METAFOR / "bcg.csv", dtype=str)
    df.loc[0, "study_id"] = long
    lay = layout(quiet_pool(df, "RR"))
    row = next(r for r in lay.rows if r.study == long)
    assert "\n" in row.cells[0] and row.height > 1
    assert width(row.cells[0], lay.style.fontsize) <= lay.style.label_width_in * 72
    assert lay.figsize[0] < 12


def test_width_and_height_set_the_figure_size(bcg):
    lay = layout(bcg, size=(10.0, 7.0))
    assert lay.figsize == pytest.approx((10.0, 7.0), abs=1e-3)
    assert lay.axes_rect[2] * 10 * 72 > lay.style.plot_width_in * 72  # the plot region takes the spare width
    small = layout(bcg, size=(7.0, 4.0))
    assert small.figsize == pytest.approx((7.0, 4.0), abs=1e-3) and 0.5 <= small.scale < 1
    with pytest.raises(InputError, match="does not fit"):
        layout(bcg, size=(2.0, 1.0))


# --------------------------------------------------------------------------- item 10

def test_an_all_excluded_subgroup_keeps_its_heading_as_not_estimable():
    df = pd.read_csv(METAFOR / "bcg.csv", dtype=str)
    df.loc[df.allocation == "alternate", ["exp_events", "ctrl_events"]] = ""
    r = quiet_pool(df, "RR", by="allocation")
    assert "alternate" not in r.subgroups
    rows = layout(r).rows
    i = next(i for i, row in enumerate(rows) if row.cells[:1] == ("allocation = alternate",))
    assert rows[i + 1].kind == "subtotal" and rows[i + 1].right[-1] == "Not estimable"


def test_continuous_totals_count_participants(normand_md):
    total = next(r for r in layout(normand_md).rows if r.kind == "overall")
    s = normand_md.effects.studies
    assert total.cells[1:] == ("", "", str(sum(int(x.row.text("exp_total")) for x in s)),
                               "", "", str(sum(int(x.row.text("ctrl_total")) for x in s)))


@pytest.mark.parametrize("sort", ["year", "weight", "effect"])
def test_studies_sorted_within_subgroups(bcg, sort):
    lay = layout(bcg, sort=sort)
    by_id = {s.study_id: s for s in bcg.effects.studies}
    w = overall_weights(bcg)
    key = {"year": lambda s: int(s.row.text("year")), "weight": lambda s: -w[s.study_id], "effect": lambda s: s.yi}
    for g in bcg.subgroups:
        ids = [r.study for r in lay.rows if r.kind == "study" and by_id[r.study].row.text("allocation") == g]
        assert [key[sort](by_id[i]) for i in ids] == sorted(key[sort](by_id[i]) for i in ids)


def test_jama_layout_estimate_left_no_weights_favors_and_p_values(bcg):
    lay = layout(bcg, "jama", favours=("vaccine", "control"))
    assert lay.right_columns == () and all(r.right == () for r in lay.rows)
    assert [t.text for t in lay.texts if t.y == TOP][:2] == ["Source", "Risk ratio (95% CI)"]
    study = next(r for r in lay.rows if r.kind == "study")
    assert study.cells[1].count("(") == 1 and "[" not in study.cells[1]
    assert lay.favours == ("Favors vaccine", "Favors control")
    spans = " ".join(r.span for r in lay.rows if r.span)
    assert "P = ." in spans or "P < ." in spans
    assert "p = " not in spans and "p < " not in spans


def test_figure_text_has_one_minus_sign_and_no_negative_zero():
    es = EffectSizes.from_arrays([-0.0001, -0.3, 0.2], [0.01, 0.02, 0.03], "MD", study_ids=["Z", "N", "P"])
    lay = layout(quiet_pool(es))
    texts = [t.text for t in lay.texts] + list(lay.tick_labels)
    assert not [t for t in texts if re.search(r"-\d", t)]  # a hyphen is never a minus sign
    assert not [t for t in texts if re.search(MINUS + r"0\.0+(?!\d*[1-9])\b", t)]  # no −0.00
    z = next(r for r in lay.rows if r.study == "Z")
    assert z.right[-1].startswith("0.00 [")


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
lay = forest_layout(r, STYLES["revman"], text_width=lambda s, size, bold, italic=False: len(s) * size / 2)
loaded = {{m.split(".")[0] for m in set(sys.modules) - before}} - set(sys.stdlib_module_names)
print(json.dumps({{"mpl": sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib"),
                  "filters": warnings.filters == filters, "err": np.geterr() == err, "rows": len(lay.rows),
                  "loaded": sorted(loaded)}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    got = json.loads(out.stdout.splitlines()[-1])
    assert got == {"mpl": [], "filters": True, "err": True, "rows": 32, "loaded": ["metail2"]}


def test_subgroups_left_out_of_the_test_are_named(il2):
    left_out = il2.subgroup_test.unclassified
    assert left_out == ("not reported",)
    line = layout(il2).rows[-1]
    assert line.kind == "subgroup_test" and line.span.endswith("; route = not reported left out")
    assert f"df = {il2.subgroup_test.df}" in line.span
