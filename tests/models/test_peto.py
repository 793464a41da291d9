"""Peto's one-step OR (metail2.models.peto): every ``peto`` case of the
metafor suite through :func:`peto` directly, then properties and edges."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metail2.models.peto import peto
from tests.models.test_mh import counts, tables
from tests.validation_support import METAFOR, cases, check, load

CASES = cases("peto")
FIELDS = ("estimate", "se", "ci_lower", "ci_upper", "stat", "p", "q", "q_p", "k")


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_metafor_case(path):
    case = load(path)
    fit = peto(*counts(METAFOR / case["data"]))
    check(case, {"measure": "OR", **{key: getattr(fit, key) for key in FIELDS}})
    assert fit.q_df == fit.k - 1 and fit.used == tuple(range(fit.k))


def _arrays(t):
    return tuple(np.array(x, dtype=float) for x in zip(*t))


@settings(max_examples=60, deadline=None)
@given(tables, st.randoms(use_true_random=False))
def test_invariant_to_study_order(t, rnd):
    perm = list(range(len(t)))
    rnd.shuffle(perm)
    f, g = peto(*_arrays(t)), peto(*_arrays([t[i] for i in perm]))
    assert g.estimate == pytest.approx(f.estimate, rel=1e-12, abs=1e-14)
    assert g.q == pytest.approx(f.q, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(g.o_minus_e, f.o_minus_e[perm], rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(tables)
def test_swapping_arms_negates(t):
    a, n1, c, n2 = _arrays(t)
    f, g = peto(a, n1, c, n2), peto(c, n2, a, n1)
    assert f.estimate == pytest.approx(-g.estimate, rel=1e-12, abs=1e-14)
    assert f.se == pytest.approx(g.se, rel=1e-14) and f.q == pytest.approx(g.q, rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(tables)
def test_q_is_the_inverse_variance_q_of_the_peto_log_ors(t):
    """Without zero cells Peto's Q = Σ(O−E)²/V − (Σ(O−E))²/ΣV equals
    Σ(yᵢ − θ̂)²/vᵢ with yᵢ = (O−E)/V, vᵢ = 1/V, and θ̂ is their IV mean."""
    f = peto(*_arrays(t))
    w = 1 / f.vi
    assert f.estimate == pytest.approx((w * f.yi).sum() / w.sum(), rel=1e-10, abs=1e-13)
    assert f.q == pytest.approx((w * (f.yi - f.estimate) ** 2).sum(), rel=1e-7, abs=1e-9)
    assert f.se == pytest.approx(1 / math.sqrt(w.sum()), rel=1e-12)


def test_double_zero_and_i2():
    a, n1, c, n2 = [4, 6, 0, 3], [123, 306, 50, 231], [11, 29, 0, 11], [139, 303, 60, 220]
    f = peto(a, n1, c, n2)
    g = peto([4, 6, 3], [123, 306, 231], [11, 29, 11], [139, 303, 220])
    assert f.estimate == pytest.approx(g.estimate, rel=1e-14) and f.q == pytest.approx(g.q, rel=1e-12)
    assert f.k == 4 and f.k_yi == 3 and f.q_df == 2 and f.used == (0, 1, 3)
    assert f.excluded[0][0] == 2 and f.v[2] == 0 and math.isnan(f.yi[2])
    assert peto(a, n1, c, n2, drop00=True).k == 3
    assert f.i2 == pytest.approx(max(0.0, 100 * (f.q - 2) / f.q)) and f.h2 == pytest.approx(f.q / 2)


def test_errors():
    with pytest.raises(ValueError):
        peto([0, 0], [10, 10], [0, 0], [10, 10])
