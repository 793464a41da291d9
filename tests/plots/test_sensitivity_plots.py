"""Figures of the sensitivity analyses: the numbers behind the marks, every
file format, and no global state touched."""
from __future__ import annotations

import math
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from metail2.effects import escalc
from metail2.models.iv import fit
from metail2.plots.baujat import baujat, baujat_values
from metail2.plots.gosh import gosh_plot
from metail2.plots.sensitivity import influence_plot, permutation_plot, refit_forest
from metail2.sensitivity import cumulative, gosh, influence, leave1out, permutest
from tests.validation_support import METAFOR

BCG = escalc(str(METAFOR / "bcg.csv"), "RR")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_leave_one_out_forest_marks():
    r = leave1out(BCG)
    p = refit_forest(r)
    assert len(p.marks) == BCG.k + 1 and p.marks[-1][0] == "All studies"
    assert [m[0] for m in p.marks[:-1]] == [f"Omitting {s.study_id}" for s in BCG.studies]
    for (_, e, lo, hi), i in zip(p.marks, range(BCG.k)):
        assert (e, lo, hi) == (r.fits.estimate[i], r.fits.ci_lower[i], r.fits.ci_upper[i])
    texts = [t.get_text() for t in p.ax.texts]
    assert any(t.startswith("All studies") for t in texts)
    ticks = [t.get_text() for t in p.ax.get_xticklabels()]
    assert "1" in ticks                                            # the null line on the ratio scale


def test_cumulative_forest_and_identity_measure():
    es = escalc(str(METAFOR / "normand1999.csv"), "MD")
    p = refit_forest(cumulative(es, method="DL"))
    assert p.kind == "cumulative" and p.marks[0][0].startswith("+ ") and p.ax.get_xlabel() == "Mean difference"


def test_influence_panel_and_baujat():
    infl = influence(BCG)
    p = influence_plot(infl)
    assert len(p.axes) == 8 and [a.get_title(loc="left") for a in p.axes][:2] == ["rstudent", "dffits"]
    b = baujat(infl)
    x, y = baujat_values(infl)
    assert np.array_equal(b.x, x) and len(b.ax.texts) == BCG.k and b.ax.texts[0].get_text() == "1"
    full = fit(BCG.yi, BCG.vi)
    for i in (0, 7):
        keep = np.arange(BCG.k) != i
        f = fit(BCG.yi[keep], BCG.vi[keep])
        assert math.isclose(x[i], (BCG.yi[i] - full.beta[0]) ** 2 / (BCG.vi[i] + full.tau2), rel_tol=1e-9)
        assert math.isclose(y[i], (f.beta[0] - full.beta[0]) ** 2 / f.se[0] ** 2, rel_tol=1e-7)
    assert len(baujat((BCG.yi, BCG.vi), labels="none", method="DL").ax.texts) == 0


def test_gosh_plot():
    g = gosh(BCG, method="DL")
    p = gosh_plot(g)
    assert p.fits == 8191 and p.full == (float(g.full.estimate[0]), float(g.full.i2[0]))
    h = gosh_plot(g, highlight=7, y="tau2")
    assert "TPT Madras 1980" in h.ax.get_legend().get_texts()[0].get_text() and h.ax.get_ylabel() == "τ²"


def test_permutation_plot():
    r = permutest(BCG, method="DL")
    p = permutation_plot(r)
    assert p.marks[0][1] == r.stat and "p = " in p.ax.get_title(loc="left")


@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
def test_formats_and_no_global_state(tmp_path, ext):
    before_rc = dict(matplotlib.rcParams)
    before_filters = list(warnings.filters)
    before_err = np.geterr()
    p = refit_forest(leave1out(BCG))
    out = tmp_path / f"f.{ext}"
    p.savefig(out)
    data = out.read_bytes()
    assert data[:4] in (b"\x89PNG", b"%PDF") or b"<svg" in data[:400]
    if ext == "svg":
        assert b"Omitting Aronson 1948" in data                    # text kept as text
    assert dict(matplotlib.rcParams) == before_rc and list(warnings.filters) == before_filters
    assert np.geterr() == before_err
