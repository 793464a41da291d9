"""Meta-regression: every ``meta-regression`` case of the metafor suite through
the command line, further figures computed with metafor, the model matrix,
bad input, invariants, and permutation tests."""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metail2.cli import main
from metail2.effects import EffectSizes, escalc
from metail2.errors import MetailWarning, SheetError
from metail2.models import pool
from metail2.models.metareg import metareg
from metail2.models.permutation import count_permutations, distinct_permutations, permutest
from tests.validation_support import METAFOR, cases, check, load

CASES = cases("meta-regression")
BCG = METAFOR / "bcg.csv"


def quiet(f, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetailWarning)
        return f(*args, **kw)


@pytest.fixture(scope="module")
def bcg():
    return quiet(escalc, BCG, "RR")


# --------------------------------------------------------------------------- the reference suite

@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_metafor_case_through_the_command_line(path: Path, capsys):
    case = load(path)
    mods = [case["mods"]] if isinstance(case["mods"], str) else case["mods"]
    code = main(["regress", str(METAFOR / case["data"]), "--measure", case["measure"], "--mods", *mods,
                 "--method", case["method"], "--test", {"knha": "hk"}.get(case["test"], case["test"]), "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    got = json.loads(out.out)
    assert got["analysis"] == "meta-regression"
    check(case, got)


# Further figures from R 4.2.2, metafor 3.8-1 (dat = escalc("RR", …) of bcg.csv,
# control = list(threshold = 1e-10, tol = 1e-12)).

def test_pm_knapp_hartung_with_a_factor_and_a_covariate(bcg):
    """rma(yi, vi, mods = ~ ablat + allocation, method = "PM", test = "knha")."""
    r = quiet(metareg, bcg, ["ablat", "allocation"], "PM", "hk")
    assert r.names == ("intrcpt", "ablat", "allocationrandom", "allocationsystematic")
    np.testing.assert_allclose(r.fit.beta, [0.284453789520371, -0.0270454098533192, -0.273604799968081,
                                            0.06755957173438], rtol=1e-6)
    np.testing.assert_allclose(r.fit.se, [0.425268392773572, 0.0096656401732492, 0.369092872172103,
                                          0.399237132633181], rtol=1e-6)
    assert math.isclose(r.tau2, 0.163877803557712, rel_tol=1e-6)
    assert math.isclose(r.r2, 48.4771902332275, rel_tol=1e-6)
    assert math.isclose(r.qm.stat, 3.35270472222222, rel_tol=1e-6) and r.qm.statistic == "F"
    assert (r.qm.df, r.qm.df2) == (3, 9)
    assert math.isclose(r.qm.p, 0.0691453411033485, rel_tol=1e-6)
    assert math.isclose(r.fit.i2, 72.6660052228074, rel_tol=1e-6)


def test_common_effect_meta_regression_and_its_r2(bcg):
    """rma(yi, vi, mods = ~ ablat, method = "FE"): R² is the weighted lm's adjusted R²."""
    r = quiet(metareg, bcg, "ablat", "FE")
    np.testing.assert_allclose(r.fit.beta, [0.34356457744659, -0.0292369342595418], rtol=1e-9)
    np.testing.assert_allclose(r.fit.se, [0.0810487794877086, 0.00265242943424623], rtol=1e-9)
    assert math.isclose(r.r2, 77.9765192143401, rel_tol=1e-9)
    assert math.isclose(r.qm.stat, 121.499918071624, rel_tol=1e-9)
    assert math.isclose(r.fit.q, 30.7330900107493, rel_tol=1e-9)
    assert r.to_dict()["tau2_ci"] is None and r.predict({"ablat": 30}).pi_lower is None


def test_predict_new_moderator_values_z_and_knapp_hartung(bcg):
    """predict(rma(… ~ ablat + year, REML), newmods = rbind(c(10, 1950), c(50, 1970))) and
    predict(rma(… ~ ablat, DL, test = "knha"), newmods = c(20, 40))."""
    r = quiet(metareg, bcg, ["ablat", "year"], "REML")
    p = r.predict({"ablat": [10, 50], "year": [1950, 1970]})
    want = {"pred": [-0.105879441797593, -1.18818301056896], "se": [0.454747537025579, 0.236830982456707],
            "ci_lower": [-0.997168236426021, -1.65236320660735], "ci_upper": [0.785409352830836, -0.72400281453058],
            "pi_lower": [-1.21040221967408, -1.98883156381316], "pi_upper": [0.998643336078894, -0.387534457324768]}
    for key, w in want.items():
        np.testing.assert_allclose(getattr(p, key), w, rtol=1e-6, err_msg=key)
    np.testing.assert_allclose(r.predict([[10, 1950], [50, 1970]]).pred, p.pred, rtol=1e-14)  # metafor's form

    p = quiet(metareg, bcg, "ablat", "DL", "hk").predict([20, 40])
    want = {"pred": [-0.325031062669745, -0.909605837773514], "se": [0.147420045253169, 0.137347989207397],
            "ci_lower": [-0.649500394572008, -1.21190672378742], "ci_upper": [-0.000561730767482616, -0.607304951759606],
            "pi_lower": [-0.966848193549904, -1.54050575680262], "pi_upper": [0.316786068210414, -0.278705918744408]}
    for key, w in want.items():
        np.testing.assert_allclose(getattr(p, key), w, rtol=1e-6, err_msg=key)
    d = p.to_dict()[0]
    assert math.isclose(d["natural"]["pred"], math.exp(d["pred"])) and "se" not in d["natural"]


# --------------------------------------------------------------------------- the model matrix

def test_factor_levels_sorted_first_is_reference_names_as_r(bcg):
    r = quiet(metareg, bcg, ["allocation", "ablat"])
    assert r.names == ("intrcpt", "allocationrandom", "allocationsystematic", "ablat")
    mod = r.design.moderators[0]
    assert (mod.kind, mod.levels) == ("factor", ("alternate", "random", "systematic"))
    for s, row in zip(r.studies, r.X):
        level = s.row.text("allocation")
        assert list(row[:3]) == [1.0, level == "random", level == "systematic"]
        assert row[3] == float(s.row.text("ablat"))
    d = r.to_dict()
    assert d["model_matrix"]["columns"] == list(r.names) and len(d["model_matrix"]["rows"]) == 13
    assert d["moderators"][0] == {"column": "allocation", "type": "factor",
                                  "levels": ["alternate", "random", "systematic"], "reference": "alternate"}
    assert d["mods"] == ["allocation", "ablat"] and d["qm_df2"] is None


def test_numbers_as_factor_when_asked(bcg):
    r = quiet(metareg, bcg, "year", factors=["year"])
    assert r.names[1] == "year1949" and r.design.moderators[0].kind == "factor"


def test_missing_moderator_rows_are_excluded_with_the_reason(write_sheet):
    rows = [{"study_id": f"S{i}", "events": 3 + i, "total": 20 + 3 * i, "dose": "" if i == 2 else str(i)}
            for i in range(8)]
    rows[5]["dose"] = "NA"
    path = write_sheet(rows)
    with pytest.warns(MetailWarning, match="missing moderator"):
        r = metareg(path, "dose", measure="PLO")
    assert r.k == 6
    assert [(e.study_id, e.reason) for e in r.excluded] == [("S2", "moderator 'dose' not reported"),
                                                          ("S5", "moderator 'dose' not reported")]
    assert [e["study_id"] for e in r.to_dict()["excluded"]] == ["S2", "S5"]
    assert "Not in the model:" in str(r) and "S5: moderator 'dose' not reported" in str(r)


@pytest.mark.parametrize("mods, message", [
    (["latitude"], "moderator column 'latitude' is not in the sheet"),
    (["ablat", "ablat"], "moderator 'ablat' is given twice"),
    ([], "needs at least one moderator column"),
])
def test_bad_columns_are_named(bcg, mods, message):
    with pytest.raises(SheetError, match=message) as exc:
        metareg(bcg, mods)
    assert all(p.column in (None, *mods) for p in exc.value.problems)


def test_constant_collinear_and_too_many_coefficients(write_sheet):
    base = [{"study_id": f"S{i}", "events": 2 + i, "total": 30, "a": str(i % 3), "b": str(2 * (i % 3) + 1),
             "same": "7", "one": "x", "g": f"g{i}"} for i in range(6)]
    path = write_sheet(base)
    for mods, column, message in [(["same"], "same", "constant (7)"), (["one"], "one", "single value ('x')"),
                                  (["a", "b"], "b", "linear combination of intrcpt, a"),
                                  (["g"], None, "too few for 6 coefficients")]:
        with pytest.raises(SheetError, match=message.replace("(", r"\(").replace(")", r"\)")) as exc:
            quiet(metareg, path, mods, measure="PLO")
        assert exc.value.problems[0].column == column


def test_bad_arguments_and_newmods(bcg):
    with pytest.raises(SheetError, match="unknown or unavailable method 'XX'"):
        metareg(bcg, "ablat", "XX")
    with pytest.raises(SheetError, match="level must lie"):
        metareg(bcg, "ablat", level=1.5)
    r = quiet(metareg, bcg, ["ablat", "allocation"])
    with pytest.raises(SheetError, match="no value for this moderator"):
        r.predict({"ablat": 20})
    with pytest.raises(SheetError, match="'quasi' is not a level of 'allocation'"):
        r.predict({"ablat": 20, "allocation": "quasi"})
    with pytest.raises(SheetError, match="newmods has 2 columns; the model has 3"):
        r.predict([1.0, 2.0])


def test_readable_text(bcg):
    text = str(quiet(metareg, bcg, "ablat", "REML", "hk"))
    assert "Mixed-effects meta-regression of RR" in text and "Knapp-Hartung t tests" in text
    assert "F(df1 = 1, df2 = 11)" in text and "tval" in text and "ablat" in text


# --------------------------------------------------------------------------- invariants

def test_single_factor_is_the_common_tau2_subgroup_model(bcg):
    """One code path: the factor model and pool(by=…, subgroup_tau2="common") agree."""
    for method, test in [("REML", "z"), ("DL", "hk"), ("PM", "z"), ("FE", "z")]:
        r = quiet(metareg, bcg, "allocation", method, test)
        s = quiet(pool, bcg, method=method, test=test, by="allocation", subgroup_tau2="common")
        if method != "FE":
            assert math.isclose(r.tau2, s.tau2_residual, rel_tol=1e-9, abs_tol=1e-12)
        assert math.isclose(r.qm.stat, s.subgroup_test.q, rel_tol=1e-9)
        assert math.isclose(r.qm.p, s.subgroup_test.p, rel_tol=1e-9)
        b = r.fit.beta
        for i, g in enumerate(("alternate", "random", "systematic")):
            assert math.isclose(s.subgroups[g].estimate, b[0] + (b[i] if i else 0.0), rel_tol=1e-9)
        pred = r.predict({"allocation": ["alternate", "random", "systematic"]})
        np.testing.assert_allclose(pred.se, [s.subgroups[g].se for g in ("alternate", "random", "systematic")],
                                   rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(-2, 2), st.floats(0.01, 1), st.floats(-5, 5)), min_size=5, max_size=12),
       st.floats(-10, 10), st.floats(0.1, 10), st.sampled_from(["REML", "DL", "FE"]))
def test_affine_moderator_changes_only_its_coefficients(rows, shift, scale, method):
    """x → a + b·x leaves fitted values, τ², QM, QE and the slope's z unchanged."""
    y, v, x = (np.array(c) for c in zip(*rows))
    if np.ptp(x) < 1e-3:
        return
    def fit(xs):
        es = EffectSizes.from_arrays(y, v, groups={"x": [repr(float(t)) for t in xs]})
        return quiet(metareg, es, "x", method)
    a, b = fit(x), fit(shift + scale * x)
    np.testing.assert_allclose(a.predict().pred, b.predict().pred, rtol=1e-6, atol=1e-8)
    assert math.isclose(a.tau2, b.tau2, rel_tol=1e-6, abs_tol=1e-8)
    assert math.isclose(a.qm.stat, b.qm.stat, rel_tol=1e-6, abs_tol=1e-8)
    assert math.isclose(a.fit.stat[1], b.fit.stat[1], rel_tol=1e-6, abs_tol=1e-8)
    assert math.isclose(a.fit.beta[1], scale * b.fit.beta[1], rel_tol=1e-6, abs_tol=1e-8)


def test_row_order_does_not_matter(bcg):
    a = quiet(metareg, bcg, ["ablat", "allocation"])
    rev = EffectSizes(bcg.measure, bcg.studies[::-1], (), bcg.sheet)
    b = quiet(metareg, rev, ["ablat", "allocation"])
    np.testing.assert_allclose(a.fit.beta, b.fit.beta, rtol=1e-9)
    assert math.isclose(a.tau2, b.tau2, rel_tol=1e-9)


# --------------------------------------------------------------------------- permutation tests

@pytest.mark.parametrize("method, p_intercept", [
    ("DL", 0.336904761904762),
    pytest.param("REML", 0.392460317460317, marks=pytest.mark.slow),
])
def test_exact_permutation_test_matches_metafor(bcg, method, p_intercept):
    """permutest(rma(yi, vi, mods = ~ ablat, data = dat[c(1:4, 9:11), ], method = …,
    control = list(threshold = 1e-10)), exact = TRUE): 7!/2! = 2520 permutations."""
    sub = EffectSizes(bcg.measure, tuple(bcg.studies[i] for i in (0, 1, 2, 3, 8, 9, 10)), (), bcg.sheet)
    p = permutest(quiet(metareg, sub, "ablat", method), "exact")
    assert p.exact and p.iterations == 2520
    np.testing.assert_allclose(p.p, [p_intercept, 0.00158730158730159], rtol=1e-12)
    assert math.isclose(p.qm_p, 0.00158730158730159, rel_tol=1e-12)


@pytest.mark.slow
def test_exact_permutation_test_knapp_hartung_matches_metafor(bcg):
    """permutest(rma(yi, vi, mods = ~ ablat, data = dat[c(1:4, 9:12), ], method = "DL",
    test = "knha"), exact = TRUE): 8!/2! = 20160 permutations (ablat 42 twice)."""
    sub = EffectSizes(bcg.measure, tuple(bcg.studies[i] for i in (0, 1, 2, 3, 8, 9, 10, 11)), (), bcg.sheet)
    r = quiet(metareg, sub, "ablat", "DL", "hk")
    assert count_permutations(r.X) == 20160
    p = permutest(r, "exact")
    assert p.exact and p.iterations == 20160 and p.seed is None and p.failed == 0
    np.testing.assert_allclose(p.p, [0.246527777777778, 0.00158730158730159], rtol=1e-12)
    assert math.isclose(p.qm_p, 0.00158730158730159, rel_tol=1e-12)


def test_exact_permutation_test_with_a_factor(bcg):
    """permutest(rma(yi, vi, mods = ~ allocation, data = dat[1:9, ]), exact = TRUE): 36 permutations."""
    r = quiet(metareg, EffectSizes(bcg.measure, bcg.studies[:9], (), bcg.sheet), "allocation")
    p = permutest(r, 1000)  # 36 ≤ 1000: exact, as metafor
    assert p.exact and p.iterations == 36
    np.testing.assert_allclose(p.p, [0.777777777777778, 0.444444444444444], rtol=1e-12)
    assert math.isclose(p.qm_p, 0.444444444444444, rel_tol=1e-12)


def test_random_permutations_are_reproducible_with_a_seed(bcg):
    r = quiet(metareg, bcg, "ablat", "DL")
    a, b = permutest(r, 200, seed=7), permutest(r, 200, seed=7)
    assert not a.exact and a.iterations == 200 and a.seed == 7
    assert np.array_equal(a.p, b.p) and a.qm_p == b.qm_p
    assert 0 < a.p[1] < 0.05  # ablat: metafor's 500-permutation p was 0.004
    drawn = permutest(r, 50)
    assert isinstance(drawn.seed, int) and permutest(r, 50, seed=drawn.seed).qm_p == drawn.qm_p
    assert drawn.to_dict()["seed"] == drawn.seed


def test_distinct_permutations_of_a_multiset():
    perms = [tuple(p) for p in distinct_permutations(np.array([1, 0, 1, 2]))]
    assert len(perms) == len(set(perms)) == 12 and perms[0] == (0, 1, 1, 2)


def test_exact_test_refused_when_too_large(bcg):
    r = quiet(metareg, bcg, "ablat")
    with pytest.raises(SheetError, match="exact test needs"):
        permutest(r, "exact")
