"""Egger's regression test: the mixed-effects and sample-size variants against
metafor 3.8-1's ``regtest`` (R 4.2.2; ``res <- rma(yi, vi, data = dat,
control = list(threshold = 1e-10))`` on the BCG log risk ratios, ``ni`` =
the two arms' totals), the Egger line, and bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest

from metail2.bias import egger
from metail2.effects import EffectSizes
from metail2.errors import MetailWarning, SheetError
from tests.bias.conftest import quiet


@pytest.mark.parametrize("model, predictor, method, test, stat, p, df, intercept", [
    ("rma", "sei", "REML", "z", -0.803329193089764, 0.42178448885592, None, -0.510431874103161),
    ("rma", "vi", "REML", "z", -0.426781126445519, 0.669538754521204, None, -0.655359443949442),
    ("rma", "ninv", "REML", "z", -1.25656282546948, 0.208911982988589, None, -0.597193257619791),
    ("lm", "ni", None, None, 4.41122166112393, 0.001043589683902, 11, None),
    ("rma", "sei", "DL", "hk", -0.793638127847168, 0.44418927838182, 11, -0.506349038745465),
])
def test_regtest_variants_match_metafor(bcg, model, predictor, method, test, stat, p, df, intercept):
    kw = {} if model == "lm" else {"method": method, "test": test}
    e = quiet(egger, bcg, model, predictor, **kw)
    assert math.isclose(e.stat, stat, rel_tol=1e-6)
    assert math.isclose(e.p, p, rel_tol=1e-6)
    assert e.df == df
    if intercept is not None:
        assert e.limit_estimate and math.isclose(e.intercept, intercept, rel_tol=1e-6)
    else:
        assert not e.limit_estimate


def test_limit_estimate_ci_of_the_mixed_effects_test(bcg):
    e = quiet(egger, bcg, "rma", "sei", "REML")
    assert math.isclose(e.intercept_ci_lower, -1.1182239890095, rel_tol=1e-6)
    assert math.isclose(e.intercept_ci_upper, 0.0973602408031798, rel_tol=1e-6)
    assert e.tau2 is not None and e.to_dict()["method"] == "REML"


def test_classical_test_is_the_standard_normal_deviate_regression(hackshaw):
    """Egger et al. (1997): regress yᵢ/seᵢ on 1/seᵢ by OLS; the intercept's t equals
    the slope's t of the weighted regression on seᵢ, its estimate the slope."""
    e = quiet(egger, hackshaw)
    se = np.sqrt(hackshaw.vi)
    snd, prec = hackshaw.yi / se, 1 / se
    A = np.column_stack([np.ones_like(prec), prec])
    coef, *_ = np.linalg.lstsq(A, snd, rcond=None)
    resid = snd - A @ coef
    cov = np.linalg.inv(A.T @ A) * (resid @ resid) / (len(snd) - 2)
    assert math.isclose(coef[0] / math.sqrt(cov[0, 0]), e.stat, rel_tol=1e-9)
    assert math.isclose(coef[0], e.slope, rel_tol=1e-9) and math.isclose(coef[1], e.intercept, rel_tol=1e-9)


def test_the_egger_line_for_a_funnel_plot(bcg):
    e = quiet(egger, bcg)
    se = np.array([0.0, 0.5])
    np.testing.assert_allclose(e.line(se), e.intercept + e.slope * se)
    d = e.to_dict()
    assert {"intercept", "intercept_se", "slope", "slope_se", "predictor", "model"} <= set(d)
    assert d["analysis"] == "egger" and d["test"] == "t" and d["df"] == 11
    assert math.isclose(quiet(egger, bcg, "rma", "vi").line([0.5])[0], quiet(egger, bcg, "rma", "vi").intercept
                        + quiet(egger, bcg, "rma", "vi").slope * 0.25)
    with pytest.raises(ValueError, match="sei or vi"):
        quiet(egger, bcg, "lm", "ni").line([0.1])


def test_caveats_and_text(bcg):
    small = EffectSizes(bcg.measure, bcg.studies[:6], (), bcg.sheet)
    with pytest.warns(MetailWarning, match="k = 6 < 10"):
        e = egger(small)
    assert "k = 6 < 10" in str(e) and "Limit estimate" in str(e)


def test_bad_input(bcg, hackshaw):
    with pytest.raises(SheetError, match="predictor 'ni' needs the study's sample size") as exc:
        quiet(egger, hackshaw, "lm", "ni")
    assert len(exc.value.problems) == 37 and exc.value.problems[0].study_id == "Garfinkel 1981"
    with pytest.raises(SheetError, match="needs at least 3 studies"):
        egger(EffectSizes(bcg.measure, bcg.studies[:2], (), bcg.sheet))
    same = EffectSizes.from_arrays([0.1, 0.2, 0.4, 0.3], [0.04] * 4)
    with pytest.raises(SheetError, match="same for every study"):
        quiet(egger, same)
    with pytest.raises(SheetError, match="unknown predictor"):
        egger(bcg, predictor="n")
