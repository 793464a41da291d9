"""GLMMs (metail2.models.glmm): every ``glmm`` case of the metafor suite
through :func:`glmm_plo` / :func:`glmm_or` directly, the quadrature engine
against numerical integration and its gradient against finite differences,
and invariances of the fits."""
from __future__ import annotations

import csv
import math
import time

import numpy as np
import pytest
from scipy import integrate
from scipy.special import gammaln

from metail2.models._glmm_aghq import Data, hessian, negloglik, rule
from metail2.models.glmm import glmm_or, glmm_plo
from tests.models.test_mh import counts
from tests.validation_support import METAFOR, REL_GLMM, cases, check, load

CASES = cases("glmm")
FIELDS = ("k", "estimate", "se", "ci_lower", "ci_upper", "stat", "tau2")


def proportions(sheet):
    with open(sheet, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return tuple(np.array([float(r[c]) for r in rows]) for c in ("events", "total"))


def fit_case(case):
    if case["measure"] == "PLO":
        return glmm_plo(*proportions(METAFOR / case["data"]))
    assert case["model"] == "UM.FS"
    return glmm_or(*counts(METAFOR / case["data"]))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_metafor_case(path):
    """Every field at relative 1e-4 (lme4's optimiser); the p-value at the
    tolerance it inherits from z: |Δp/p| ≈ z²·|Δz/z| for a normal tail."""
    case = load(path)
    fit = fit_case(case)
    assert fit.converged and fit.method == case["method"] == "ML"
    want = {key: case[key] for key in ("measure", *FIELDS, "natural")}
    check({"case": case["case"], **want},
          {"measure": fit.measure, **{key: getattr(fit, key) for key in FIELDS}, "natural": fit.natural},
          rel=REL_GLMM)
    rel_p = REL_GLMM * max(1.0, fit.stat ** 2)
    assert fit.p == pytest.approx(case["p"], rel=rel_p)


def test_cases_exist():
    assert {load(p)["measure"] for p in CASES} == {"PLO", "OR"}


# --------------------------------------------------------------------------- the engine

def _bcg_data():
    a, n1, c, n2 = counts(METAFOR / "bcg.csv")
    k = len(a)
    xs = np.zeros((k, 2, 1))
    xs[:, 0, 0] = 1
    data = Data(np.stack([a, c], 1), np.stack([n1, n2], 1), xs, np.tile([0.5, -0.5], (k, 1)), True)
    theta = np.concatenate([np.log((c + .5) / (n2 - c + .5)), [-0.7, 0.6]])
    return data, theta


def _pritz_data():
    x, n = proportions(METAFOR / "pritz1997.csv")
    return Data(x[:, None], n[:, None], np.ones((len(x), 1, 1)), np.ones((len(x), 1)), False), np.array([1.2, 0.8])


@pytest.mark.parametrize("make", [_bcg_data, _pritz_data])
@pytest.mark.parametrize("nodes", [1, 3, 7])
def test_gradient_is_exact(make, nodes):
    """The analytic gradient (adaptive nodes moving with the parameters)
    against central differences of the function."""
    data, theta = make()
    z, w = rule(nodes)
    g = negloglik(theta, data, z, w)[1]
    eps = 1e-6
    fd = np.array([(negloglik(theta + eps * e, data, z, w, False) - negloglik(theta - eps * e, data, z, w, False))
                   / (2 * eps) for e in np.eye(len(theta))])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)


def test_arrow_hessian_equals_the_dense_one():
    data, theta = _bcg_data()
    z, w = rule(7)
    H = hessian(theta, data, z, w).dense()
    eps = 1e-5
    dense = np.array([(negloglik(theta + eps * e, data, z, w)[1] - negloglik(theta - eps * e, data, z, w)[1])
                      / (2 * eps) for e in np.eye(len(theta))])
    np.testing.assert_allclose(H, (dense + dense.T) / 2, rtol=1e-6, atol=1e-6)


def test_quadrature_against_numerical_integration():
    """log L by AGHQ with 25 nodes equals the integral by adaptive quadrature
    (scipy.integrate.quad); 7 nodes are within 1e-7 of it."""
    data, theta = _bcg_data()
    alpha, beta, tau = theta[:-2], theta[-2], theta[-1]
    exact = 0.0
    for i in range(data.k):
        y, n = data.y[i], data.n[i]
        const = (gammaln(n + 1) - gammaln(y + 1) - gammaln(n - y + 1)).sum()

        def integrand(u, ai=alpha[i], y=y, n=n, const=const):
            eta = np.array([ai + beta + tau * u / 2, ai - tau * u / 2])
            return math.exp((y * eta - n * np.logaddexp(0, eta)).sum() + const - u * u / 2) / math.sqrt(2 * math.pi)

        exact += math.log(integrate.quad(integrand, -12, 12, epsabs=0, epsrel=1e-13, limit=200)[0])
    assert -negloglik(theta, data, *rule(25), grad=False) == pytest.approx(exact, rel=1e-12)
    assert -negloglik(theta, data, *rule(7), grad=False) == pytest.approx(exact, abs=1e-7)


# --------------------------------------------------------------------------- properties of the fits

def test_more_nodes_change_little():
    a, n1, c, n2 = counts(METAFOR / "bcg.csv")
    f7, f15 = glmm_or(a, n1, c, n2), glmm_or(a, n1, c, n2, nodes=15)
    assert f15.estimate == pytest.approx(f7.estimate, rel=1e-6)
    assert f15.tau2 == pytest.approx(f7.tau2, rel=1e-5)
    laplace = glmm_or(a, n1, c, n2, nodes=1)
    assert laplace.converged and laplace.estimate == pytest.approx(f7.estimate, rel=1e-2)


def test_invariant_to_study_order_and_arm_swap():
    a, n1, c, n2 = counts(METAFOR / "bcg.csv")
    f = glmm_or(a, n1, c, n2)
    perm = np.random.default_rng(1).permutation(len(a))
    g = glmm_or(a[perm], n1[perm], c[perm], n2[perm])
    for key in ("estimate", "se", "tau2", "loglik"):
        assert getattr(g, key) == pytest.approx(getattr(f, key), rel=1e-8), key
    s = glmm_or(c, n2, a, n1)  # arms swapped: log OR negated, τ² unchanged
    assert s.estimate == pytest.approx(-f.estimate, rel=1e-8)
    assert s.se == pytest.approx(f.se, rel=1e-7) and s.tau2 == pytest.approx(f.tau2, rel=1e-7)


def test_plo_events_and_non_events_swap():
    x, n = proportions(METAFOR / "pritz1997.csv")
    f, g = glmm_plo(x, n), glmm_plo(n - x, n)
    assert g.estimate == pytest.approx(-f.estimate, rel=1e-8)
    assert g.tau2 == pytest.approx(f.tau2, rel=1e-7)
    assert g.natural["estimate"] == pytest.approx(1 - f.natural["estimate"], rel=1e-8)


def test_homogeneous_trials_give_tau2_zero_and_the_common_odds_ratio():
    """Identical tables: τ̂² = 0 and β̂ = the table's log odds ratio."""
    k = 5
    f = glmm_or([12] * k, [100] * k, [20] * k, [100] * k)
    assert f.tau2 < 1e-8 and any("boundary" in n for n in f.notes)
    assert f.estimate == pytest.approx(math.log(12 * 80 / (88 * 20)), rel=1e-7)
    assert f.pi_lower == pytest.approx(f.ci_lower, abs=1e-6)


def test_double_zero_tables_are_left_out():
    a, n1, c, n2 = [4, 0, 6, 3], [123, 40, 306, 231], [11, 0, 29, 11], [139, 50, 303, 220]
    f = glmm_or(a, n1, c, n2)
    g = glmm_or([4, 6, 3], [123, 306, 231], [11, 29, 11], [139, 303, 220])
    assert f.k == 3 and f.used == (0, 2, 3) and f.excluded[0][0] == 1
    assert f.estimate == pytest.approx(g.estimate, rel=1e-9)
    assert math.isnan(f.yi[1])


def test_sparse_proportions_with_zero_and_all_events():
    f = glmm_plo([0, 1, 3, 10, 0], [10, 12, 15, 10, 8])
    assert f.converged and 0 < f.natural["estimate"] < 1
    assert f.natural["pi_lower"] <= f.natural["ci_lower"] < f.natural["ci_upper"] <= f.natural["pi_upper"]
    assert any(n.startswith("no finite ML estimate") for n in glmm_plo([0, 0, 0], [10, 10, 10]).notes)
    with pytest.raises(ValueError):
        glmm_plo([11], [10])


def test_many_trials_are_fast():
    rng = np.random.default_rng(3)
    k = 500
    n1, n2 = rng.integers(20, 500, k), rng.integers(20, 500, k)
    alpha, theta = rng.normal(-2, 1, k), rng.normal(-0.5, 0.4, k)
    a = rng.binomial(n1, 1 / (1 + np.exp(-(alpha + theta / 2))))
    c = rng.binomial(n2, 1 / (1 + np.exp(-(alpha - theta / 2))))
    t = time.perf_counter()
    f = glmm_or(a, n1, c, n2)
    assert f.converged and time.perf_counter() - t < 10
    assert abs(f.estimate + 0.5) < 0.1 and abs(f.tau2 - 0.16) < 0.08
