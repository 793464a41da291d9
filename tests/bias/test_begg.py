"""Begg and Mazumdar's rank correlation and Kendall's τ as R's ``cor.test``."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metail2.bias import begg, kendall_test
from metail2.bias._begg import kendall_lower_tail
from metail2.effects import escalc
from metail2.errors import MetailWarning
from tests.bias.conftest import quiet
from tests.validation_support import METAFOR


@pytest.mark.parametrize("n", [2, 3, 5, 7])
def test_exact_distribution_is_the_count_of_inversions(n):
    """P(T ≤ q) from all n! orderings (T = concordant pairs with the identity)."""
    counts = np.zeros(n * (n - 1) // 2 + 1)
    for perm in itertools.permutations(range(n)):
        counts[sum(perm[i] < perm[j] for i in range(n) for j in range(i + 1, n))] += 1
    cdf = np.cumsum(counts) / counts.sum()
    for q in range(len(counts)):
        assert math.isclose(kendall_lower_tail(q, n), cdf[q], rel_tol=1e-12)


def test_lower_tail_keeps_relative_accuracy_and_large_n_is_fast():
    assert math.isclose(kendall_lower_tail(0, 30), 1 / math.factorial(30), rel_tol=1e-9)
    assert kendall_lower_tail(-1, 5) == 0.0 and kendall_lower_tail(10, 5) == 1.0
    n = 300  # R's pkendall divides by n! and breaks down beyond n = 170
    q = n * (n - 1) // 4 - 1500
    z = (2 * q - n * (n - 1) / 2) / math.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    assert abs(kendall_lower_tail(q, n) - 0.5 * math.erfc(-z / math.sqrt(2))) < 2e-3


def test_ties_use_the_normal_approximation_as_r():
    """ranktest(escalc("PFT", xi = events, ni = total, data = pritz1997)): equal totals tie vᵢ;
    R 4.2.2 / metafor 3.8-1 give tau 0.0111117970456805, p 0.956210402440778."""
    es = quiet(escalc, METAFOR / "pritz1997.csv", "PFT")
    with pytest.warns(MetailWarning) as caught:
        b = begg(es)
    messages = " ".join(str(w.message) for w in caught)
    assert "tied values" in messages and "single-arm proportion" in messages
    assert not b.exact
    assert math.isclose(b.tau, 0.0111117970456805, rel_tol=1e-9)
    assert math.isclose(b.p, 0.956210402440778, rel_tol=1e-9)
    assert b.to_dict()["statistic"] == "z"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=3, max_size=25, unique_by=(lambda t: t[0],
                                                                                                    lambda t: t[1])))
def test_tau_is_antisymmetric_and_p_symmetric(pairs):
    x, y = (np.array(c) for c in zip(*pairs))
    t1, p1, e1, _ = kendall_test(x, y)
    t2, p2, e2, _ = kendall_test(x, -y)
    assert e1 and e2
    assert math.isclose(t1, -t2, abs_tol=1e-12) and math.isclose(p1, p2, rel_tol=1e-9)
    assert -1 <= t1 <= 1 and 0 < p1 <= 1


def test_begg_result(bcg):
    b = quiet(begg, bcg)
    d = b.to_dict()
    assert d["analysis"] == "begg" and d["exact"] and d["k"] == 13 and d["method"] == "FE"
    assert "Kendall's tau = 0.0256" in str(b)
