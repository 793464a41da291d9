"""The funnel plot as drawn: points, pseudo confidence limits, contours."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from metail2.plots import funnel

Z95 = 1.959963984540054


@pytest.fixture(scope="module")
def plain(bcg):
    fp = funnel(bcg)
    yield fp
    plt.close(fp.figure)


@pytest.fixture(scope="module")
def contoured(bcg):
    fp = funnel(bcg, contours=True)
    yield fp
    plt.close(fp.figure)


def test_points_are_the_studies_effects_and_standard_errors(bcg, plain):
    want = [(s.study_id, s.yi, math.sqrt(s.vi)) for s in bcg.effects.studies]
    assert list(plain.points) == want and plain.estimate == bcg.overall.estimate
    pts = next(c for c in plain.ax.collections if c.get_gid() == "studies").get_offsets()
    assert np.allclose(pts, [(yi, se) for _, yi, se in want], rtol=0, atol=0)


def test_standard_error_axis_is_inverted(plain):
    se_max = max(se for *_, se in plain.points) * 1.08
    assert plain.se_max == pytest.approx(se_max)
    assert plain.ax.get_ylim() == (plain.se_max, 0)  # precise studies on top
    assert plain.ax.get_ylabel() == "Standard error"


def test_pseudo_confidence_limits_and_the_pooled_estimate(bcg, plain):
    est = bcg.overall.estimate
    dashed = [line for line in plain.ax.lines if line.get_linestyle() == "--"]
    assert len(dashed) == 2
    for line, sign in zip(dashed, (-1, 1)):
        se = line.get_ydata()
        assert se[0] == 0 and se[-1] == pytest.approx(plain.se_max)
        assert np.allclose(line.get_xdata(), est + sign * Z95 * se)
    assert any(list(line.get_xdata()) == [est, est] for line in plain.ax.lines)


def test_contours_shade_p_value_regions_around_the_null(bcg, contoured):
    labels = ["p < 0.01", "0.01 ≤ p < 0.05", "0.05 ≤ p < 0.1", "p ≥ 0.1"]
    fills = [c for c in contoured.ax.collections if c.get_label() in labels]
    assert [c.get_label() for c in fills] == labels
    assert [t.get_text() for t in contoured.ax.get_legend().get_texts()] == labels
    null = bcg.measure.null
    lo, hi = contoured.ax.get_xlim()
    assert null - lo == pytest.approx(hi - null)
    assert all(lo < yi < hi for _, yi, _ in contoured.points)
