"""τ² estimators and root finding."""
from __future__ import annotations

import math

import numpy as np
import pytest

from metail2.models.tau2 import TAU2_ESTIMATORS, q_at, tau2_qprofile, zeroin


def test_zeroin_finds_a_root_to_its_tolerance():
    r = zeroin(lambda x: x * x - 2, 0.0, 2.0, 1e-12)
    assert r == pytest.approx(math.sqrt(2), abs=1e-12)


def test_zeroin_refuses_a_bracket_without_sign_change():
    with pytest.raises(ArithmeticError):
        zeroin(lambda x: x * x + 1, 0.0, 2.0, 1e-8)


def test_zeroin_reproduces_rs_uniroot_iterates():
    # R 4.2.2: uniroot(function(x) exp(x) - 5, c(0, 10))$root, default tol
    # (.Machine$double.eps^0.25), printed with digits = 15.
    r = zeroin(lambda x: math.exp(x) - 5, 0.0, 10.0, float(np.finfo(float).eps ** 0.25))
    assert r == pytest.approx(1.60944574099938, rel=1e-13)


@pytest.mark.parametrize("method", sorted(TAU2_ESTIMATORS))
def test_every_estimator_is_zero_for_homogeneous_data(method):
    y = np.array([0.2, 0.2, 0.2, 0.2])
    v = np.array([0.1, 0.2, 0.3, 0.4])
    assert TAU2_ESTIMATORS[method](y, v, np.ones((4, 1))).tau2 == pytest.approx(0, abs=1e-12)


def test_qprofile_bounds_solve_the_q_equation():
    y = np.array([-0.9, -1.7, -1.4, -1.5, -0.2, -1.0, 0.0])
    v = np.array([0.36, 0.21, 0.43, 0.02, 0.05, 0.01, 0.004])
    X = np.ones((7, 1))
    ci = tau2_qprofile(y, v, X, 0.3)
    from scipy.stats import chi2

    # zeroin stops within eps^0.25 of the root (metafor's tolerance)
    assert q_at(ci.lower, y, v, X) == pytest.approx(chi2.ppf(0.975, 6), rel=1e-2)
    assert q_at(ci.upper, y, v, X) == pytest.approx(chi2.ppf(0.025, 6), rel=1e-2)
