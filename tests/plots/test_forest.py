"""The forest plot as drawn: artists, texts and their boxes, checked against
the layout and the numbers. Each figure is drawn once per module and
inspected by several tests."""
from __future__ import annotations

import json
from itertools import combinations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from metail2.plots import forest

from .conftest import IL2, METAFOR, ROOT, quiet_pool, texts


@pytest.fixture(scope="module")
def bcg_plot(bcg):
    fp = forest(bcg, favours=("vaccine", "control"))
    yield fp
    plt.close(fp.figure)


@pytest.fixture(scope="module")
def drawn():
    """Three figures drawn once, with their texts' boxes: subgroups with
    prediction intervals, favours, a title and rows not pooled (IL-2); a long
    generic-input JAMA plot; a plain SMD plot."""
    figures = {
        "il2": forest(quiet_pool(IL2, "PLO", by="route"), prediction=True, favours=("a", "b"), title="IL-2"),
        "hackshaw_jama": forest(quiet_pool(METAFOR / "hackshaw1998.csv", "OR", by="design"), style="jama"),
        "normand_smd": forest(quiet_pool(METAFOR / "normand1999.csv", "SMD")),
    }
    out = {}
    for name, fp in figures.items():
        fp.figure.draw_without_rendering()  # lays out every text (ticks included) without rasterizing
        r = fp.figure.canvas.get_renderer()
        out[name] = fp, [(t.get_text(), t.get_window_extent(r)) for t in texts(fp.figure)]
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


def test_squares_are_drawn_with_the_layouts_areas(bcg, bcg_plot):
    fp = bcg_plot
    sc = next(c for c in fp.ax.collections if c.get_gid() == "squares")
    assert list(sc.get_sizes()) == [area for *_, area in fp.squares]
    assert np.array_equal(sc.get_offsets(), [(x, y) for _, x, y, _ in fp.squares])
    weights = {sid: w for g in bcg.subgroups.values() for sid, w in zip(g.study_ids, g.weights)}
    ratio = sc.get_sizes() / np.array([weights[sid] for sid, *_ in fp.squares])
    assert np.allclose(ratio, ratio[0], rtol=1e-12) and len(ratio) == 13


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
    assert set(pis) == {"pi:alternate", "pi:random", "pi:systematic", "pi:Overall"}
    lo, hi = pis["pi:Overall"]
    assert (lo, hi) == (max(bcg.overall.natural.pi_lower, fp.xlim[0]), min(bcg.overall.natural.pi_upper, fp.xlim[1]))


# --------------------------------------------------------------------------- axis

def test_ratio_axis_is_log_with_null_line_at_1(bcg_plot):
    fp = bcg_plot
    assert fp.ax.get_xscale() == "log" and fp.null == 1.0
    assert any(list(line.get_xdata()) == [1, 1] for line in fp.ax.lines)
    assert [t.get_text() for t in fp.ax.get_xticklabels()] == [f"{t:g}" for t in fp.layout.ticks]
    assert fp.ax.get_xlabel() == "Risk ratio (log scale)"


def test_difference_axis_is_linear_with_null_at_0():
    fp = forest(quiet_pool(METAFOR / "normand1999.csv", "MD"))
    assert fp.ax.get_xscale() == "linear" and fp.null == 0.0
    assert any(list(line.get_xdata()) == [0, 0] for line in fp.ax.lines)


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


def test_subgroup_test_text_carries_q_df_p(bcg, bcg_plot):
    st = bcg.subgroup_test
    want = f"Test for subgroup differences: Q = {st.q:.2f}, df = {st.df} (p = {st.p:.3f})"
    assert want in [t.get_text() for t in texts(bcg_plot.figure)]


def test_bcg_plot_text_matches_metafor_reference(bcg_plot):
    ref = json.loads((METAFOR / "bcg-RR-REML-z-by-allocation-separate.json").read_text())
    shown = [t.get_text() for t in texts(bcg_plot.figure)]
    for fit in [ref["overall"], *ref["subgroups"].values()]:
        n = fit["natural"]
        assert f"{n['estimate']:.2f} [{n['ci_lower']:.2f}, {n['ci_upper']:.2f}]" in shown
    het = ref["subgroups"]["random"]
    assert any(f"τ² = {het['tau2']:.3f}; Q = {het['q']:.2f}, df = {het['q_df']}" in t for t in shown)


@pytest.mark.parametrize("name", ["il2", "hackshaw_jama", "normand_smd"])
def test_text_never_overlaps_and_stays_in_the_figure(drawn, name):
    fp, boxes = drawn[name]
    for (ta, a), (tb, b) in combinations(boxes, 2):
        overlap_w = min(a.x1, b.x1) - max(a.x0, b.x0)
        overlap_h = min(a.y1, b.y1) - max(a.y0, b.y0)
        assert overlap_w <= 0.5 or overlap_h <= 0.5, (ta, tb)
    fig_box = fp.figure.bbox
    for t, b in boxes:
        assert b.x0 >= fig_box.x0 - 1 and b.x1 <= fig_box.x1 + 1, t


def test_excluded_rows_listed_under_the_plot(drawn):
    fp, boxes = drawn["il2"]
    shown = " ".join(t for t, _ in boxes)
    for sid in ("Okuno 1999", "Yang (Eur J Cancer)", "Eur J Surg Oncol 1992", "Heys 1995"):
        assert sid in shown
    axes_bottom = fp.ax.get_window_extent().y0
    notes = [b for t, b in boxes if t == fp.layout.notes[0]]
    assert len(notes) == 1 and notes[0].y1 < axes_bottom  # under the plot


def test_figure_and_axes_follow_the_layout(drawn):
    for fp, _ in drawn.values():
        assert tuple(fp.figure.get_size_inches()) == pytest.approx(fp.layout.figsize)
        assert tuple(fp.ax.get_position().bounds) == pytest.approx(fp.layout.axes_rect)


def test_draws_into_a_given_axes(bcg):
    fig, ax = plt.subplots(figsize=(9, 5))
    fig.subplots_adjust(left=0.5, right=0.7)
    fp = forest(bcg, ax=ax)
    assert fp.ax is ax and fp.figure is fig
    assert tuple(fig.get_size_inches()) == (9, 5)
    assert fp.squares == fp.layout.squares and len(ax.texts) >= len(fp.layout.texts)


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
