"""Pooling: invariants that must hold whatever the data (hypothesis), and
behaviours at the edges. Numbers against metafor are in
test_validation_metafor.py."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metail2 import pool
from metail2.effects import EffectSizes
from metail2.errors import MetailWarning
from metail2.models import METHODS

# Effect sizes on a log-ratio-like scale and variances of real studies.
yis = st.floats(-3, 3, allow_nan=False, allow_infinity=False)
vis = st.floats(0.005, 2.0, allow_nan=False, allow_infinity=False)
data = st.integers(2, 12).flatmap(lambda k: st.tuples(st.lists(yis, min_size=k, max_size=k),
                                                       st.lists(vis, min_size=k, max_size=k)))
methods = st.sampled_from(METHODS)
tests = st.sampled_from(["z", "hk"])

# Tolerances: the iterative estimators stop at |Δτ²| < 1e-10 and PM stops
# within metafor's uniroot tolerance (~1e-4 on τ²), so results computed from
# permuted or shifted data can differ by that much in τ² and, through the
# weights, by less in the estimate.
TAU2_ABS = 2e-4
EST_ABS = 1e-4


def fit(yi, vi, method="REML", test="z", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetailWarning)
        return pool(EffectSizes.from_arrays(yi, vi), method=method, test=test, **kw)


@settings(max_examples=60, deadline=None)
@given(data, methods, tests, st.randoms(use_true_random=False))
def test_invariant_to_row_order(d, method, test, rnd):
    yi, vi = d
    order = list(range(len(yi)))
    rnd.shuffle(order)
    a = fit(yi, vi, method, test).overall
    b = fit([yi[i] for i in order], [vi[i] for i in order], method, test).overall
    assert b.estimate == pytest.approx(a.estimate, abs=EST_ABS)
    assert b.tau2 == pytest.approx(a.tau2, abs=TAU2_ABS)
    assert b.q == pytest.approx(a.q, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(data, methods, tests)
def test_tau2_nonnegative_and_intervals_contain_estimate(d, method, test):
    o = fit(*d, method, test).overall
    assert o.tau2 >= 0
    assert o.ci_lower <= o.estimate <= o.ci_upper
    if o.pi_lower is not None:
        assert o.pi_lower <= o.ci_lower and o.ci_upper <= o.pi_upper
    if o.tau2_ci is not None:
        assert o.tau2_ci.lower <= o.tau2_ci.upper
    assert 0 <= o.i2 <= 100 and 0 <= o.i2_q <= 100


@settings(max_examples=60, deadline=None)
@given(data, methods)
def test_random_effects_equals_common_effect_when_tau2_is_zero(d, method):
    re = fit(*d, method).overall
    fe = fit(*d, "FE").overall
    if re.tau2 == 0:
        assert re.estimate == pytest.approx(fe.estimate, rel=1e-12, abs=1e-12)
        assert re.se == pytest.approx(fe.se, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(data, methods, tests, st.floats(-5, 5))
def test_constant_shift_moves_estimate_by_the_same_amount(d, method, test, c):
    yi, vi = d
    a = fit(yi, vi, method, test).overall
    b = fit([y + c for y in yi], vi, method, test).overall
    assert b.estimate == pytest.approx(a.estimate + c, abs=EST_ABS)
    assert b.tau2 == pytest.approx(a.tau2, abs=TAU2_ABS)
    assert b.se == pytest.approx(a.se, rel=1e-3, abs=1e-6)


def test_identical_studies_give_tau2_zero_and_empty_tau2_ci():
    o = fit([0.5] * 5, [0.1] * 5).overall
    assert o.tau2 == 0 and o.q == pytest.approx(0, abs=1e-20)
    assert o.tau2_ci.empty and (o.tau2_ci.lower, o.tau2_ci.upper) == (0, 0)


def test_k1_subgroup_is_common_effect_with_warning():
    e = EffectSizes.from_arrays([0.1, 0.5, 0.9, -0.2], [0.1, 0.2, 0.1, 0.3], groups={"route": ["a", "b", "b", "b"]})
    with pytest.warns(MetailWarning, match="route = a: k = 1"):
        r = pool(e, by="route")
    a = r.subgroups["a"]
    assert a.k == 1 and a.model == "common" and a.tau2 == 0 and a.pi_lower is None
    assert a.estimate == 0.1 and a.se == pytest.approx(math.sqrt(0.1))


def test_subgroup_test_separate_is_q_between_estimates():
    e = EffectSizes.from_arrays([0.1, 0.3, 0.9, 1.2, 1.0], [0.1, 0.2, 0.1, 0.3, 0.2], groups={"g": list("aabbb")})
    r = pool(e, method="DL", by="g")
    est = np.array([s.estimate for s in r.subgroups.values()])
    w = 1 / np.array([s.se for s in r.subgroups.values()]) ** 2
    mu = (w * est).sum() / w.sum()
    assert r.subgroup_test.q == pytest.approx(float((w * (est - mu) ** 2).sum()), rel=1e-12)
    assert r.subgroup_test.df == 1


def test_reml_non_convergence_warns_and_uses_direct_maximisation(monkeypatch):
    import metail2.models.tau2 as est

    yi, vi = [0.1, 0.8, -0.4, 1.3, 0.2], [0.05, 0.1, 0.08, 0.2, 0.04]
    good = fit(yi, vi).overall.tau2
    monkeypatch.setattr(est, "MAXITER", 1)
    with pytest.warns(MetailWarning, match="did not converge"):
        r = pool(EffectSizes.from_arrays(yi, vi))
    # bounded Brent on the restricted likelihood, xatol 1e-12: agrees with
    # Fisher scoring well inside the 1e-6 used against metafor
    assert r.overall.tau2 == pytest.approx(good, rel=1e-6)
    assert any("did not converge" in w for w in r.warnings)


def test_results_are_frozen():
    r = fit([0.1, 0.5], [0.1, 0.2])
    with pytest.raises(AttributeError):
        r.overall.estimate = 0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        r.method = "DL"  # type: ignore[misc]


def test_repr_html_is_a_table():
    r = fit([0.1, 0.5, 0.3], [0.1, 0.2, 0.1])
    h = r._repr_html_()
    assert h.startswith("<div") and "<table>" in h and "τ²" in h


def test_common_tau2_needs_two_subgroups():
    from metail2.errors import SheetError

    e = EffectSizes.from_arrays([0.1, 0.5], [0.1, 0.2], groups={"g": ["a", "a"]})
    with pytest.raises(SheetError, match="at least 2 subgroups"):
        pool(e, by="g", subgroup_tau2="common")


def test_hk_with_identical_estimates_warns_and_adhoc_keeps_the_ci_open():
    """metafor/meta: HK with s² = 0 gives SE 0; the ad hoc correction s² ≥ 1
    gives a CI never narrower than the z-based one."""
    import warnings

    es = EffectSizes.from_arrays([0.2, 0.2, 0.2], [0.1, 0.2, 0.3])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = pool(es, method="REML", test="hk")
    assert r.overall.se == 0 and any("s² = 0" in str(x.message) for x in w)
    a = pool(es, method="REML", test="hk", hk_adhoc=True)
    z = pool(es, method="REML", test="z")
    assert a.test == "hk-adhoc"
    assert a.overall.ci_upper - a.overall.ci_lower >= z.overall.ci_upper - z.overall.ci_lower


def test_extreme_variance_ratio_is_reported():
    es = EffectSizes.from_arrays([0.2, 0.3, 0.1], [1e-9, 0.2, 0.3])
    r = pool(es, method="DL")
    assert any("largest to the smallest sampling variance" in w for w in r.warnings)


def test_unknown_group_is_its_own_subgroup_but_not_in_the_test():
    """Studies whose group is unknown (empty, NA, "not reported") are pooled and
    drawn as their own subgroup, left out of the test for subgroup differences
    with a note; include_unclassified keeps them (metafor's three levels)."""
    import warnings

    from metail2 import EffectSizes
    from metail2.models.subgroups import is_unclassified

    y, v = [0.1, 0.3, 0.8, 1.0, -0.5, 0.2], [0.04, 0.05, 0.04, 0.06, 0.3, 0.2]
    groups = {"route": ["a", "a", "b", "b", "not reported", "NA"]}
    es = EffectSizes.from_arrays(y, v, "MD", groups=groups)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = pool(es, method="FE", by="route")
        kept = pool(es, method="FE", by="route", include_unclassified=True)
        common = pool(es, method="DL", by="route", subgroup_tau2="common")
    assert list(r.subgroups) == ["NA", "a", "b", "not reported"]
    assert r.subgroup_test.df == 1 and r.subgroup_test.unclassified == ("NA", "not reported")
    ab = {g: r.subgroups[g] for g in ("a", "b")}
    w = {g: 1 / x.se ** 2 for g, x in ab.items()}
    mu = sum(w[g] * ab[g].estimate for g in ab) / sum(w.values())
    assert r.subgroup_test.q == pytest.approx(sum(w[g] * (ab[g].estimate - mu) ** 2 for g in ab), rel=1e-12)
    assert any("left out of the test for subgroup differences" in n for n in r.warnings)
    assert kept.subgroup_test.df == 3 and kept.subgroup_test.unclassified == ()
    assert r.to_dict()["subgroup_test"]["unclassified"] == ["NA", "not reported"]
    assert "unclassified" not in kept.to_dict()["subgroup_test"]
    assert common.subgroup_test.df == 1 and common.subgroup_test.unclassified == ("NA", "not reported")
    assert all(is_unclassified(x) for x in ("", "(missing)", "N/A", " Not reported ", "unknown"))
    assert not any(is_unclassified(x) for x in ("systemic", "none", "0"))
