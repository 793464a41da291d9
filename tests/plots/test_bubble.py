"""The bubble plot as drawn: points at (moderator, yᵢ) with areas proportional
to the weights, the regression line and its CI band, a factor's levels, the
natural-scale axis of ratios, and no global state touched."""
from __future__ import annotations

import math
import warnings

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest

from metail2.errors import MetailWarning, SheetError
from metail2.models.metareg import metareg
from metail2.plots.bubble import bubble

from tests.plots.conftest import METAFOR


def fitted(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetailWarning)
        return metareg(METAFOR / "bcg.csv", *args, measure="RR", **kw)


@pytest.fixture(scope="module")
def ablat():
    return fitted(["ablat", "allocation"])


@pytest.fixture(scope="module")
def drawn(ablat):
    bp = bubble(ablat)
    yield bp
    plt.close(bp.figure)


def _collection(ax, gid):
    return next(c for c in ax.collections if c.get_gid() == gid)


def test_points_are_the_studies_at_their_moderator_values(ablat, drawn):
    assert drawn.moderator == "ablat" and drawn.kind == "numeric"  # the first numeric moderator
    pts = _collection(drawn.ax, "studies").get_offsets()
    want = [(float(s.row.text("ablat")), s.yi) for s in ablat.studies]
    assert np.allclose(pts, want, rtol=0, atol=0)
    assert [p[0] for p in drawn.points] == [s.study_id for s in ablat.studies]


def test_point_areas_are_proportional_to_the_weights(ablat, drawn):
    sizes = _collection(drawn.ax, "studies").get_sizes()
    w = 1 / (np.array([s.vi for s in ablat.studies]) + ablat.tau2)
    np.testing.assert_allclose(sizes / sizes.max(), w / w.max(), rtol=1e-12)
    assert sizes.max() == pytest.approx(400.0)


def test_regression_line_and_ci_band_are_the_predictions(ablat, drawn):
    line = next(ln for ln in drawn.ax.lines if ln.get_gid() == "regression line")
    x, y = line.get_xdata(), line.get_ydata()
    assert x[0] == pytest.approx(13) and x[-1] == pytest.approx(55)  # the range of ablat
    # the other moderator's indicators held at their means, as metafor's regplot
    means = ablat.X.mean(axis=0)
    X = np.tile(means, (len(x), 1))
    X[:, 1] = x
    np.testing.assert_allclose(y, X @ ablat.fit.beta, rtol=1e-12)
    band = _collection(drawn.ax, "ci band").get_paths()[0].vertices
    pred = ablat._predict_x(X, 0.95)
    assert band[:, 1].min() == pytest.approx(min(pred.ci_lower.min(), pred.ci_upper.min()))
    assert band[:, 1].max() == pytest.approx(max(pred.ci_lower.max(), pred.ci_upper.max()))
    np.testing.assert_allclose(drawn.band_lower, pred.ci_lower)


def test_ratio_axis_is_labelled_on_the_natural_scale(drawn):
    assert drawn.natural_axis
    ticks = drawn.ax.get_yticks()
    labels = [t.get_text() for t in drawn.ax.get_yticklabels()]
    assert labels and all(math.isclose(math.exp(t), float(lab), rel_tol=1e-9) for t, lab in zip(ticks, labels))
    assert "1" in labels and drawn.ax.get_ylabel() == "Risk ratio (log scale)"
    lo, hi = drawn.ax.get_ylim()
    assert all(lo <= t <= hi for t in ticks)


def test_a_factor_moderator_shows_each_level_with_its_ci():
    r = fitted("allocation")
    bp = bubble(r, "allocation")
    assert bp.kind == "factor"
    assert [t.get_text() for t in bp.ax.get_xticklabels()] == ["alternate", "random", "systematic"]
    b = r.fit.beta
    np.testing.assert_allclose(bp.line_y, [b[0], b[0] + b[1], b[0] + b[2]], rtol=1e-12)
    xs = _collection(bp.ax, "studies").get_offsets()[:, 0]
    level = {"alternate": 0, "random": 1, "systematic": 2}
    assert all(abs(x - level[s.row.text("allocation")]) <= 0.12 + 1e-12 for x, s in zip(xs, r.studies))


def test_prediction_band_labels_and_an_axes_of_ones_own():
    r = fitted("ablat")
    fig, ax = plt.subplots()
    bp = bubble(r, ax=ax, pi=True, labels=True, natural=False)
    assert bp.ax is ax and bp.figure is fig and not bp.natural_axis
    assert {c.get_gid() for c in ax.collections} >= {"studies", "ci band", "pi band"}
    assert sum(t.get_text() == "Aronson 1948" for t in ax.texts) == 1
    assert ax.get_ylabel() == "Log risk ratio"


def test_unknown_moderator_is_named(ablat):
    with pytest.raises(SheetError, match="'year' is not a moderator of the model"):
        bubble(ablat, "year")


def test_no_global_state_is_touched(ablat, tmp_path):
    before = (dict(mpl.rcParams), np.geterr(), list(warnings.filters))
    bp = bubble(ablat)
    for ext in ("png", "svg"):
        bp.savefig(tmp_path / f"b.{ext}")
        assert (tmp_path / f"b.{ext}").stat().st_size > 0
    after = (dict(mpl.rcParams), np.geterr(), list(warnings.filters))
    assert before == after
