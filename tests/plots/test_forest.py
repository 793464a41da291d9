"""The forest plot as drawn: artists, texts and their boxes, checked against
the layout and the numbers. Each figure is drawn once per module and
inspected by several tests."""
from __future__ import annotations

import json
import warnings
from itertools import combinations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from metail2.errors import InputError, MetailWarning
from metail2.plots import forest
from metail2.plots._rob_data import JUDGEMENTS

from .conftest import IL2, METAFOR, ROOT, quiet_pool, texts
from .demo import bcg_rob_frame

LONG = "Zhang, Wang, Li and the Interleukin-2 Hepatic Arterial Infusion Study Group 2003 (pilot)"  # 80+ characters
CJK = "李 2001"


@pytest.fixture(scope="module")
def bcg_plot(bcg):
    fp = forest(bcg, favours=("vaccine", "control"))
    yield fp
    plt.close(fp.figure)


def _stress():
    """BCG with an 80-character and a CJK study name, RoB columns, by allocation."""
    df = bcg_rob_frame()
    df.loc[0, "study_id"] = LONG
    df.loc[1, "study_id"] = CJK
    return quiet_pool(df, "RR", by="allocation")


def _boxes(fp):
    fp.figure.draw_without_rendering()  # lays out every text (ticks included) without rasterizing
    r = fp.figure.canvas.get_renderer()
    return [(t.get_text(), t.get_window_extent(r)) for t in texts(fp.figure)]


@pytest.fixture(scope="module")
def drawn():
    """Figures drawn once, with their texts' boxes: subgroups with prediction
    intervals, favours, a title and rows not pooled (IL-2); a long
    generic-input JAMA plot; a plain SMD plot; a stress figure (80-character
    and CJK names, risk of bias, a wide fixed axis); a plot in a small given axes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetailWarning)
        fig, ax = plt.subplots(figsize=(9, 5))
        fig.subplots_adjust(left=0.5, right=0.7)
        figures = {
            "il2": forest(quiet_pool(IL2, "PLO", by="route"), prediction=True, favours=("a", "b"), title="IL-2"),
            "hackshaw_jama": forest(quiet_pool(METAFOR / "hackshaw1998.csv", "OR", by="design"), style="jama",
                                    favours=("control", "exposure")),
            "normand_smd": forest(quiet_pool(METAFOR / "normand1999.csv", "SMD"), favours=("unit", "ward")),
            "stress": forest(_stress(), rob=True, prediction=True, favours=("vaccine", "control"), xlim=(0.002, 500)),
            "given_axes": forest(quiet_pool(METAFOR / "bcg.csv", "RR", by="allocation"), ax=ax,
                                 favours=("vaccine", "control")),
        }
    out = {name: (fp, _boxes(fp)) for name, fp in figures.items()}
    yield out
    for fp, _ in out.values():
        plt.close(fp.figure)


# --------------------------------------------------------------------------- marks

def test_diamonds_are_the_pooled_estimates_and_cis(bcg, bcg_plot):
    fp = bcg_plot
    assert [name for name, _ in fp.diamonds] == ["alternate", "random", "systematic", "Overall"]
    fits = {**bcg.subgroups, "Overall": bcg.overall}
    patches = {p.get_gid(): p for p in fp.ax.patches if (p.get_gid() or "").startswith("diamond:")}
    assert len(patches) == 4
    for name, verts in fp.diamonds:
        n = fits[name].natural
        drawn = patches[f"diamond:{name}"].get_xy()[:4]
        assert np.array_equal(drawn, np.array(verts))
        assert tuple(drawn[:, 0]) == (n.ci_lower, n.estimate, n.ci_upper, n.estimate)


def test_squares_are_drawn_with_areas_proportional_to_the_overall_weights(bcg, bcg_plot):
    fp = bcg_plot
    sc = next(c for c in fp.ax.collections if c.get_gid() == "squares")
    assert list(sc.get_sizes()) == [area for *_, area in fp.squares]
    assert np.array_equal(sc.get_offsets(), [(x, y) for _, x, y, _ in fp.squares])
    weights = dict(zip(bcg.overall.study_ids, bcg.overall.weights))  # one scale across subgroups (RevMan)
    ratio = sc.get_sizes() / np.array([weights[sid] for sid, *_ in fp.squares])
    assert np.allclose(ratio, ratio[0], rtol=1e-12) and len(ratio) == 13


def test_every_square_is_drawn_visibly(drawn):
    fp, _ = drawn["hackshaw_jama"]
    sizes = next(c for c in fp.ax.collections if c.get_gid() == "squares").get_sizes()
    assert len(sizes) == 37 and sizes.min() >= fp.layout.style.min_square > 0


def test_ci_lines_are_drawn_on_their_rows(bcg_plot):
    lines = {(tuple(line.get_xdata()), tuple(line.get_ydata())) for line in bcg_plot.ax.lines}
    for m in bcg_plot.layout.marks:
        if m.kind == "study":
            assert (m.line, (m.y, m.y)) in lines


def test_clipped_cis_end_in_arrows(bcg):
    fp = forest(bcg, xlim=(0.2, 2.0))
    arrows = {(line.get_marker(), line.get_xdata()[0]) for line in fp.ax.lines if line.get_marker() in "<>"}
    assert arrows == {("<", 0.2), (">", 2.0)}
    assert fp.ax.get_xlim() == pytest.approx((0.2, 2.0))


def test_prediction_interval_rows(bcg):
    fp = forest(bcg, prediction=True)
    pis = {line.get_gid(): line.get_xdata() for line in fp.ax.lines if (line.get_gid() or "").startswith("pi:")}
    assert set(pis) == {"pi:random", "pi:systematic", "pi:Overall"}  # alternate has k = 2: no PI
    lo, hi = pis["pi:Overall"]
    assert (lo, hi) == (max(bcg.overall.natural.pi_lower, fp.xlim[0]), min(bcg.overall.natural.pi_upper, fp.xlim[1]))


def test_risk_of_bias_circles_beside_the_table(drawn):
    fp, _ = drawn["stress"]
    circles = [line for line in fp.ax.lines if (line.get_gid() or "").startswith("rob:")]
    assert len(circles) == 13 * 6
    for line in circles:
        assert matplotlib.colors.same_color(line.get_markerfacecolor(), JUDGEMENTS[line.get_gid()[4:]][1])
    assert min(line.get_xdata()[0] for line in circles) > 1  # right of the plot region (axes fraction)
    assert any(n.startswith("Risk of bias (RoB 2)") for n in fp.layout.notes)


# --------------------------------------------------------------------------- axis

def test_ratio_axis_is_log_with_null_line_at_1(bcg_plot):
    fp = bcg_plot
    assert fp.ax.get_xscale() == "log" and fp.null == 1.0
    assert any(list(line.get_xdata()) == [1, 1] for line in fp.ax.lines)
    assert [t.get_text() for t in fp.ax.get_xticklabels()] == list(fp.layout.tick_labels)
    assert fp.ax.get_xlabel() == "Risk ratio (log scale)"


def test_wide_ratio_axis_keeps_ticks_below_1_and_they_never_touch(drawn):
    fp, boxes = drawn["stress"]
    labels = [t.get_text() for t in fp.ax.get_xticklabels()]
    assert labels == list(fp.layout.tick_labels) and "0.01" in labels and "1" in labels and "100" in labels
    r = fp.figure.canvas.get_renderer()
    tick_boxes = sorted((t.get_window_extent(r) for t in fp.ax.get_xticklabels()), key=lambda b: b.x0)
    for a, b in zip(tick_boxes, tick_boxes[1:]):
        assert b.x0 - a.x1 >= 2  # pixels apart


def test_difference_axis_is_linear_with_null_at_0():
    fp = forest(quiet_pool(METAFOR / "normand1999.csv", "MD"))
    assert fp.ax.get_xscale() == "linear" and fp.null == 0.0
    assert any(list(line.get_xdata()) == [0, 0] for line in fp.ax.lines)
    assert all("-" not in t.get_text() for t in fp.ax.get_xticklabels())  # U+2212, whatever the rcParams


# --------------------------------------------------------------------------- text

def test_every_layout_text_is_drawn_where_the_layout_puts_it(bcg_plot):
    fp, lay = bcg_plot, bcg_plot.layout
    fig, box = fp.figure, fp.ax.bbox
    px = fig.dpi / 72
    edge = {"left": box.x0, "right": box.x1, "center": (box.x0 + box.x1) / 2}
    drawn = fp.ax.texts[:len(lay.texts)]
    for t, a in zip(lay.texts, drawn):
        assert (a.get_text(), a.get_ha(), a.get_fontsize()) == (t.text, t.ha, t.size)
        assert a.get_fontweight() == ("bold" if t.bold else "normal")
        assert a.get_style() == ("italic" if t.italic else "normal")
        x, y = a.get_transform().transform(a.get_position())
        assert x == pytest.approx(edge[t.anchor] + t.x * px, abs=1e-6)
        assert y == pytest.approx(fp.ax.transData.transform((1, t.y))[1], abs=1e-6)
    rest = [a.get_text() for a in fp.ax.texts[len(lay.texts):]]
    assert rest == list(lay.favours)


def test_heading_names_method_level_and_convention():
    fp = forest(quiet_pool(METAFOR / "bcg.csv", "RR", method="DL", convention="revman5"))
    shown = [t.get_text() for t in fp.ax.texts]
    assert "M-H, Random, 95% CI" in shown and (fp.method, fp.convention, fp.level) == ("DL", "revman5", 0.95)


def test_subgroup_test_text_carries_q_df_p_and_i2(bcg, bcg_plot):
    st = bcg.subgroup_test
    i2 = max(0.0, 100 * (st.q - st.df) / st.q)
    want = f"Test for subgroup differences: Q = {st.q:.2f}, df = {st.df} (p = {st.p:.3f}); I² = {i2:.1f}%"
    assert want in [t.get_text() for t in texts(bcg_plot.figure)]


def test_bcg_plot_text_matches_metafor_reference(bcg_plot):
    ref = json.loads((METAFOR / "bcg-RR-REML-z-by-allocation-separate.json").read_text())
    shown = [t.get_text() for t in texts(bcg_plot.figure)]
    for fit in [ref["overall"], *ref["subgroups"].values()]:
        n = fit["natural"]
        assert f"{n['estimate']:.2f} [{n['ci_lower']:.2f}, {n['ci_upper']:.2f}]" in shown
    het = ref["subgroups"]["random"]
    i2 = max(0, 100 * (het["q"] - het["q_df"]) / het["q"])
    assert f"Heterogeneity: τ² = {het['tau2']:.3f}; Q = {het['q']:.2f}, df = {het['q_df']} (p < 0.0001); " \
           f"I² = {i2:.0f}%" in shown


def _overlaps(boxes, tol=0.5):
    return [(ta, tb) for (ta, a), (tb, b) in combinations(boxes, 2)
            if min(a.x1, b.x1) - max(a.x0, b.x0) > tol and min(a.y1, b.y1) - max(a.y0, b.y0) > tol]


@pytest.mark.parametrize("name", ["il2", "hackshaw_jama", "normand_smd", "stress", "given_axes"])
def test_text_never_overlaps_and_stays_in_the_figure(drawn, name):
    fp, boxes = drawn[name]
    assert _overlaps(boxes) == []
    fig_box = fp.figure.bbox
    for t, b in boxes:
        assert b.x0 >= fig_box.x0 - 1 and b.x1 <= fig_box.x1 + 1, t
        assert b.y0 >= fig_box.y0 - 1 and b.y1 <= fig_box.y1 + 1, t


@pytest.mark.parametrize("name", ["il2", "normand_smd", "stress", "given_axes"])
def test_the_null_line_and_the_marks_never_strike_through_text(drawn, name):
    fp, boxes = drawn[name]
    r = fp.figure.canvas.get_renderer()
    lines = [line for line in fp.ax.lines if line.get_gid() == "null" or (line.get_gid() or "").startswith("ci:")]
    for line in lines:
        lb = line.get_window_extent(r)
        for t, b in boxes:
            hit = min(lb.x1, b.x1) - max(lb.x0, b.x0) > 0.5 and min(lb.y1, b.y1) - max(lb.y0, b.y0) > 0.5
            assert not hit, (line.get_gid(), t)


def test_favours_labels_stand_apart(drawn):
    for name in ("il2", "normand_smd", "stress", "hackshaw_jama"):
        fp, boxes = drawn[name]
        (_, left), (_, right) = [(t, b) for t, b in boxes if t in fp.layout.favours]
        assert right.x0 - left.x1 >= 4 * fp.figure.dpi / 72 - 1  # 2 × 4 pt apart around the null
        assert all(not t.endswith(" ") and not t.startswith(" ") for t in fp.layout.favours)


def test_long_names_wrap_and_keep_the_figure_narrow(drawn):
    fp, boxes = drawn["stress"]
    label = next(t for t, _ in boxes if t.startswith("Zhang"))
    assert "\n" in label and fp.figure.get_size_inches()[0] < 12


def test_cjk_names_are_drawn_with_a_font_that_has_them(drawn):
    from metail2.plots import fonts

    if fonts._family_for("李") is None:
        pytest.skip("no font with CJK glyphs is installed on this machine")
    fp, _ = drawn["stress"]
    t = next(t for t in fp.ax.texts if t.get_text() == CJK)
    families = t.get_fontfamily()
    assert families[-1] == "sans-serif"
    assert any(not fonts.missing_characters(f, ["李"]) for f in families[:-1])


def test_a_glyph_no_font_has_is_reported_once():
    from metail2.plots import fonts

    fonts._WARNED.discard("\U000f0000")
    es_df = pd.DataFrame({"study_id": ["Study \U000f0000", "B"], "yi": ["0.1", "0.2"], "vi": ["0.01", "0.02"]})
    r = quiet_pool(pd.DataFrame({"study_id": es_df.study_id, "estimate": ["1.1", "1.2"], "se": ["0.1", "0.1"]}), "MD")
    with pytest.warns(MetailWarning, match="U\\+F0000"):
        fonts.font_families("DejaVu Sans", [s.study_id for s in r.effects.studies])
    with warnings.catch_warnings():
        warnings.simplefilter("error", MetailWarning)
        fonts.font_families("DejaVu Sans", ["Study \U000f0000"])  # once per process


def test_excluded_rows_listed_under_the_plot(drawn):
    fp, boxes = drawn["il2"]
    shown = " ".join(t for t, _ in boxes)
    for sid in ("Okuno 1999", "Yang (Eur J Cancer)", "Eur J Surg Oncol 1992", "Heys 1995"):
        assert sid in shown
    axes_bottom = fp.ax.get_window_extent().y0
    notes = [b for t, b in boxes if t == "Not pooled (no complete input):"]
    assert len(notes) == 1 and notes[0].y1 < axes_bottom  # under the plot


def test_figure_and_axes_follow_the_layout(drawn):
    for name in ("il2", "hackshaw_jama", "normand_smd", "stress"):
        fp, _ = drawn[name]
        assert tuple(fp.figure.get_size_inches()) == pytest.approx(fp.layout.figsize)
        assert tuple(fp.ax.get_position().bounds) == pytest.approx(fp.layout.axes_rect)


def test_draws_into_a_given_axes_shrinking_the_table_to_fit(drawn):
    fp, _ = drawn["given_axes"]
    assert tuple(fp.figure.get_size_inches()) == (9, 5)
    assert fp.squares == fp.layout.squares and len(fp.ax.texts) >= len(fp.layout.texts)
    assert 0.5 < fp.layout.scale < 1  # rows of 13 pt do not fit 3.85 in: everything scaled together
    assert fp.layout.row_height * (0.5 - fp.layout.ylim[0]) == pytest.approx(
        fp.ax.get_position().height * 5 * 72)


def test_width_and_height_in_inches(bcg):
    fp = forest(bcg, width=11, height=8)
    assert tuple(fp.figure.get_size_inches()) == pytest.approx((11, 8), abs=1e-3)
    assert _overlaps(_boxes(fp)) == []
    with pytest.raises(InputError):
        forest(bcg, width=1.5, height=1)


def test_bad_arguments_are_refused(bcg):
    for kw in (dict(sort="size"), dict(i2="h2"), dict(engine="plotly"), dict(xlim=(2, 1)), dict(xlim=(0, 2)),
               dict(rob=True)):
        with pytest.raises(InputError):
            forest(bcg, **kw)


# --------------------------------------------------------------------------- command line

@pytest.fixture(scope="module")
def cli_png(tmp_path_factory):
    from metail2.cli import main

    out = tmp_path_factory.mktemp("cli") / "p.png"
    assert main(["plot", str(IL2), "--measure", "PLO", "--by", "route", "-o", str(out)]) == 0
    return out


@pytest.mark.slow  # the whole command: pool, draw, a 300 dpi PNG
def test_cli_plot_writes_a_300_dpi_png(cli_png):
    png = cli_png.read_bytes()
    assert len(png) > 10_000
    i = png.index(b"pHYs") + 4
    assert round(int.from_bytes(png[i:i + 4], "big") * 0.0254) == 300


def test_cli_plot_refuses_other_formats(tmp_path, capsys):
    from metail2.cli import main

    assert main(["plot", str(IL2), "--measure", "PLO", "-o", str(tmp_path / "p.gif")]) == 2
    assert not (tmp_path / "p.gif").exists()


# --------------------------------------------------------------------------- images
# Image comparison of the default style on fixed data. The baselines were
# made by tests/baseline/make_baseline.py with the matplotlib version recorded
# in versions.json and its bundled DejaVu fonts; tolerance 2 (RMS over 0-255)
# absorbs antialiasing differences between FreeType builds but not a moved,
# missing or resized mark or label. Another matplotlib version renders text
# differently by design: the comparison is skipped with that reason (the
# structural tests above still run).
BASELINES = ROOT / "tests" / "baseline"


@pytest.mark.parametrize("name", ["forest_bcg_rr_by_allocation", "forest_normand_md_jama"])
def test_default_style_matches_baseline_image(name, tmp_path):
    from matplotlib.testing.compare import compare_images

    from tests.baseline.make_baseline import draw

    made_with = json.loads((BASELINES / "versions.json").read_text())["matplotlib"]
    if made_with.split(".")[:2] != matplotlib.__version__.split(".")[:2]:
        pytest.skip(f"baseline made with matplotlib {made_with}, running {matplotlib.__version__}")
    out = tmp_path / f"{name}.png"
    draw(name, out)
    result = compare_images(str(BASELINES / f"{name}.png"), str(out), tol=2)
    assert result is None, result
