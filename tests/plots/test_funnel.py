"""The funnel plot as drawn: points, pseudo confidence limits, contours,
natural-scale ticks, subgroups, labels, and a legend that covers nothing."""
from __future__ import annotations

import math
from itertools import combinations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from metail2.errors import InputError
from metail2.plots import funnel

from .conftest import METAFOR, quiet_pool

Z95 = 1.959963984540054


@pytest.fixture(scope="module")
def plain(normand_md):
    fp = funnel(normand_md)
    yield fp
    plt.close(fp.figure)


@pytest.fixture(scope="module")
def contoured(bcg):
    fp = funnel(bcg, contours=True, labels=True)
    fp.figure.draw_without_rendering()
    yield fp
    plt.close(fp.figure)


def test_points_are_the_studies_effects_and_standard_errors(bcg, contoured):
    want = [(s.study_id, s.yi, math.sqrt(s.vi)) for s in bcg.effects.studies]
    assert list(contoured.points) == want and contoured.estimate == bcg.overall.estimate
    pts = next(c for c in contoured.ax.collections if c.get_gid() == "studies").get_offsets()
    assert np.allclose(pts, [(yi, se) for _, yi, se in want], rtol=0, atol=0)


def test_standard_error_axis_is_inverted(plain):
    se_max = max(se for *_, se in plain.points) * 1.08
    assert plain.se_max == pytest.approx(se_max)
    assert plain.ax.get_ylim() == (plain.se_max, 0)  # precise studies on top
    assert plain.ax.get_ylabel() == "Standard error"


@pytest.mark.parametrize("which", ["plain", "contoured"])
def test_pseudo_confidence_limits_are_drawn_whole(which, request):
    fp = request.getfixturevalue(which)
    dashed = [line for line in fp.ax.lines if line.get_gid() == "pseudo-ci"]
    assert len(dashed) == 2
    lo, hi = fp.ax.get_xlim()
    for line, sign in zip(dashed, (-1, 1)):
        se = line.get_ydata()
        assert se[0] == 0 and se[-1] == pytest.approx(fp.se_max)
        assert np.allclose(line.get_xdata(), fp.estimate + sign * Z95 * se)
        assert lo <= line.get_xdata().min() and line.get_xdata().max() <= hi  # never clipped by the axis
    assert any(list(line.get_xdata()) == [fp.estimate] * 2 for line in fp.ax.lines)


def test_contours_shade_p_value_regions_around_the_null(bcg, contoured):
    labels = ["p < 0.01", "0.01 ≤ p < 0.05", "0.05 ≤ p < 0.1", "p ≥ 0.1"]
    fills = [c for c in contoured.ax.collections if c.get_label() in labels]
    assert [c.get_label() for c in fills] == labels
    assert [t.get_text() for t in contoured.ax.get_legend().get_texts()][:4] == labels
    null = bcg.measure.null
    lo, hi = contoured.ax.get_xlim()
    assert null - lo == pytest.approx(hi - null)
    assert all(lo < yi < hi for _, yi, _ in contoured.points)


def test_ratio_measures_have_natural_scale_tick_labels(contoured):
    labels = [t.get_text() for t in contoured.ax.get_xticklabels()]
    ticks = contoured.ax.get_xticks()
    assert "1" in labels and any(float(t) < 1 for t in labels) and any(float(t) > 1 for t in labels)
    assert np.allclose(ticks, [math.log(float(t)) for t in labels])
    assert contoured.ax.get_xlabel() == "Risk ratio (log scale)"


def test_subgroups_are_coloured_and_in_the_legend(bcg, contoured):
    assert contoured.groups == tuple(s.row.text("allocation") for s in bcg.effects.studies)
    colours = next(c for c in contoured.ax.collections if c.get_gid() == "studies").get_facecolors()
    by_group = {}
    for g, c in zip(contoured.groups, colours):
        by_group.setdefault(g, set()).add(tuple(np.round(c, 6)))
    assert all(len(cs) == 1 for cs in by_group.values()) and len({next(iter(cs)) for cs in by_group.values()}) == 3
    legend = [t.get_text() for t in contoured.ax.get_legend().get_texts()]
    assert {f"allocation = {g}" for g in by_group} <= set(legend)


def test_the_legend_and_the_labels_cover_no_point_and_no_other_label(contoured):
    fig, ax = contoured.figure, contoured.ax
    r = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(r)
    pts = ax.transData.transform([(yi, se) for _, yi, se in contoured.points])
    assert not any(legend.x0 <= x <= legend.x1 and legend.y0 <= y <= legend.y1 for x, y in pts)
    labels = [t for t in ax.texts if (t.get_gid() or "").startswith("label:")]
    assert len(labels) == len(contoured.points)
    boxes = [t.get_window_extent(r) for t in labels]
    for a, b in combinations(boxes + [legend], 2):
        assert min(a.x1, b.x1) - max(a.x0, b.x0) <= 0.5 or min(a.y1, b.y1) - max(a.y0, b.y0) <= 0.5
    half = 3 * fig.dpi / 72  # a point's marker, 18 pt² (about 4.2 pt a side)
    for b in boxes:
        assert not any(b.x0 + half < x < b.x1 - half and b.y0 + half < y < b.y1 - half for x, y in pts)


def test_contours_are_refused_for_single_proportions(il2):
    with pytest.raises(InputError, match="null"):
        funnel(il2, contours=True)
    fp = funnel(il2)  # without contours: fine
    assert matplotlib.colors.same_color(fp.ax.lines[0].get_color(), "0.3")


def test_without_by_one_colour(bcg):
    fp = funnel(bcg, by=False)
    assert fp.groups == () and fp.ax.get_legend() is None
    plt.close(fp.figure)
    fp = funnel(quiet_pool(METAFOR / "normand1999.csv", "MD"))
    assert fp.ax.get_xlabel() == "Mean difference"


def test_trim_and_fill_and_egger_are_drawn_with_the_caveats():
    """Issue 11: filled studies as open markers at their (yi, SE), the adjusted
    estimate as a dotted line, Egger's line through b0 + b1·SE; the caveats
    (k < 10, single proportions) travel with the plot."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from metail2 import pool
    from metail2.bias import egger, trimfill
    from metail2.plots import funnel
    from tests.validation_support import METAFOR

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = pool(METAFOR / "bcg.csv", "RR")
        tf, eg = trimfill(r.effects), egger(r.effects)
        drawn = funnel(r, trimfill=tf, egger=eg)
    try:
        ax = drawn.ax
        filled = next(c for c in ax.collections if c.get_gid() == "filled")
        assert np.allclose(filled.get_offsets(), [[f.yi, f.sei] for f in tf.filled])
        assert (filled.get_facecolors()[:, :3] == 1).all()  # open markers
        dotted = next(ln for ln in ax.lines if ln.get_gid() == "filled-estimate")
        assert np.allclose(dotted.get_xdata(), tf.estimate)
        line = next(ln for ln in ax.lines if ln.get_gid() == "egger-line")
        se = np.asarray(line.get_ydata())
        assert np.allclose(line.get_xdata(), eg.intercept + eg.slope * se)
        lo, hi = ax.get_xlim()
        assert all(lo < f.yi < hi for f in tf.filled)
    finally:
        plt.close(drawn.figure)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = pool(METAFOR / "pritz1997.csv", "PLO")
        fp = funnel(small)
    plt.close(fp.figure)
    assert any("k = 14" in n or "single-arm proportion" in n for n in fp.notes)
