"""Forest and funnel plots: what is drawn, checked against the numbers."""
from __future__ import annotations

import json
import warnings
from itertools import combinations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from metail2 import pool  # noqa: E402
from metail2.errors import MetailWarning  # noqa: E402

from tests.conftest import ROOT  # noqa: E402

METAFOR = ROOT / "tests" / "validation" / "metafor"
IL2 = ROOT / "extraction" / "il2_crc_response.csv"


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def quiet_pool(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetailWarning)
        return pool(*args, **kw)


@pytest.fixture
def bcg():
    return quiet_pool(METAFOR / "bcg.csv", "RR", by="allocation")


def texts(fig):
    return [t for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip() and t.get_visible()]


def test_diamonds_are_the_pooled_estimates_and_cis(bcg):
    from metail2.plots import forest

    fp = forest(bcg)
    assert [name for name, _ in fp.diamonds] == ["alternate", "random", "systematic", "Overall"]
    fits = {**bcg.subgroups, "Overall": bcg.overall}
    for name, verts in fp.diamonds:
        n = fits[name].natural
        (lo, y0), (top_x, _), (hi, _), (bot_x, _) = verts
        assert (lo, top_x, hi, bot_x) == (n.ci_lower, n.estimate, n.ci_upper, n.estimate)
    patches = [p for p in fp.ax.patches if (p.get_gid() or "").startswith("diamond:")]
    assert len(patches) == 4
    assert np.allclose(patches[-1].get_xy()[:4, 0], [bcg.overall.natural.ci_lower, bcg.overall.natural.estimate,
                                                     bcg.overall.natural.ci_upper, bcg.overall.natural.estimate])


def test_square_areas_are_proportional_to_weights(bcg):
    from metail2.plots import forest

    fp = forest(bcg)
    sc = next(c for c in fp.ax.collections if c.get_gid() == "squares")
    weights = {sid: w for g in bcg.subgroups.values() for sid, w in zip(g.study_ids, g.weights)}
    ratio = sc.get_sizes() / np.array([weights[sid] for sid, *_ in fp.squares])
    assert np.allclose(ratio, ratio[0], rtol=1e-12)
    assert len(ratio) == 13


def test_subgroup_test_text_carries_q_df_p(bcg):
    from metail2.plots import forest

    fp = forest(bcg)
    st = bcg.subgroup_test
    want = f"Test for subgroup differences: Q = {st.q:.2f}, df = {st.df} (p = {st.p:.3f})"
    assert want in [t.get_text() for t in texts(fp.figure)]


def test_ratio_axis_is_log_with_null_line_at_1(bcg):
    from metail2.plots import forest

    fp = forest(bcg)
    assert fp.ax.get_xscale() == "log" and fp.null == 1.0
    assert any(list(line.get_xdata()) == [1, 1] for line in fp.ax.lines)


def test_difference_axis_is_linear_with_null_at_0():
    from metail2.plots import forest

    fp = forest(quiet_pool(METAFOR / "normand1999.csv", "MD"))
    assert fp.ax.get_xscale() == "linear" and fp.null == 0.0
    assert any(list(line.get_xdata()) == [0, 0] for line in fp.ax.lines)


def test_bcg_plot_text_matches_metafor_reference(bcg):
    from metail2.plots import forest

    ref = json.loads((METAFOR / "bcg-RR-REML-z-by-allocation-separate.json").read_text())
    shown = [t.get_text() for t in texts(forest(bcg).figure)]
    for fit in [ref["overall"], *ref["subgroups"].values()]:
        n = fit["natural"]
        assert f"{n['estimate']:.2f} [{n['ci_lower']:.2f}, {n['ci_upper']:.2f}]" in shown
    het = ref["subgroups"]["random"]
    assert any(f"τ² = {het['tau2']:.3f}; Q = {het['q']:.2f}, df = {het['q_df']}" in t for t in shown)


def test_text_never_overlaps():
    from metail2.plots import forest

    for fp in (forest(quiet_pool(IL2, "PLO", by="route"), prediction=True, favours=("a", "b"), title="IL-2"),
               forest(quiet_pool(METAFOR / "hackshaw1998.csv", "OR", by="design"), style="jama"),
               forest(quiet_pool(METAFOR / "normand1999.csv", "SMD"))):
        fig = fp.figure
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        boxes = [(t.get_text(), t.get_window_extent(r)) for t in texts(fig)]
        for (ta, a), (tb, b) in combinations(boxes, 2):
            overlap_w = min(a.x1, b.x1) - max(a.x0, b.x0)
            overlap_h = min(a.y1, b.y1) - max(a.y0, b.y0)
            assert overlap_w <= 0.5 or overlap_h <= 0.5, (ta, tb)
        fig_box = fig.bbox
        for t, b in boxes:
            assert b.x0 >= fig_box.x0 - 1 and b.x1 <= fig_box.x1 + 1, t


def test_height_follows_row_count():
    from metail2.plots import forest

    a = forest(quiet_pool(METAFOR / "normand1999.csv", "MD"))
    b = forest(quiet_pool(METAFOR / "hackshaw1998.csv", "OR"))
    rows_a, rows_b = -a.rows[-1].y + 1, -b.rows[-1].y + 1
    assert rows_b - rows_a == 37 - 9
    # one row height (13 pt) per row, everything else equal
    assert (b.figure.get_figheight() - a.figure.get_figheight()) * 72 == pytest.approx((rows_b - rows_a) * 13.0)


def test_clipped_cis_end_in_arrows(bcg):
    from metail2.plots import forest

    fp = forest(bcg, xlim=(0.2, 2.0))
    markers = [line.get_marker() for line in fp.ax.lines]
    assert "<" in markers and ">" in markers


def test_prediction_interval_rows(bcg):
    from metail2.plots import forest

    fp = forest(bcg, prediction=True)
    pis = {line.get_gid(): line.get_xdata() for line in fp.ax.lines if (line.get_gid() or "").startswith("pi:")}
    assert set(pis) == {"pi:alternate", "pi:random", "pi:systematic", "pi:Overall"}
    lo, hi = pis["pi:Overall"]
    assert (lo, hi) == (max(bcg.overall.natural.pi_lower, fp.xlim[0]), min(bcg.overall.natural.pi_upper, fp.xlim[1]))


def test_excluded_rows_listed_under_the_plot():
    from metail2.plots import forest

    shown = " ".join(t.get_text() for t in texts(forest(quiet_pool(IL2, "PLO", by="route")).figure))
    for sid in ("Okuno 1999", "Yang (Eur J Cancer)", "Eur J Surg Oncol 1992", "Heys 1995"):
        assert sid in shown


def test_importing_and_plotting_leaves_global_state_alone(bcg, tmp_path):
    filters = list(warnings.filters)
    err = np.geterr()
    rc = dict(matplotlib.rcParams)
    import metail2.plots as plots

    fp = plots.forest(bcg)
    fp.savefig(tmp_path / "f.svg")
    fp.savefig(tmp_path / "f.pdf")
    plots.funnel(bcg, contours=True).savefig(tmp_path / "g.png")
    assert warnings.filters == filters
    assert np.geterr() == err
    assert dict(matplotlib.rcParams) == rc


def test_vector_outputs_keep_text_editable_and_png_is_300_dpi(bcg, tmp_path):
    from metail2.plots import forest

    fp = forest(bcg)
    for ext in ("svg", "pdf", "png"):
        fp.savefig(tmp_path / f"f.{ext}")
    svg = (tmp_path / "f.svg").read_text()
    assert "<text" in svg and "Test for subgroup differences" in svg
    pdf = (tmp_path / "f.pdf").read_bytes()
    assert b"/FontFile2" in pdf  # embedded TrueType (pdf.fonttype 42), not Type 3 outlines
    png = (tmp_path / "f.png").read_bytes()
    i = png.index(b"pHYs") + 4
    ppm = int.from_bytes(png[i:i + 4], "big")
    assert round(ppm * 0.0254) == 300


def test_funnel_points_and_limits(bcg):
    from metail2.plots import funnel

    fp = funnel(bcg)
    assert len(fp.points) == 13 and fp.estimate == bcg.overall.estimate
    pts = next(c for c in fp.ax.collections if c.get_gid() == "studies").get_offsets()
    assert np.allclose(pts[:, 1], [se for _, _, se in fp.points])
    assert fp.ax.get_ylim()[0] > fp.ax.get_ylim()[1]  # inverted: precise studies on top


def test_cli_plot_writes_files(tmp_path, capsys):
    from metail2.cli import main

    out = tmp_path / "p.png"
    assert main(["plot", str(IL2), "--measure", "PLO", "--by", "route", "-o", str(out)]) == 0
    assert out.stat().st_size > 10_000
    assert main(["plot", str(IL2), "--measure", "PLO", "-o", str(tmp_path / "p.gif")]) == 2


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
