"""Mantel–Haenszel (metail2.models.mh): every ``mantel-haenszel`` case of the
metafor suite through :func:`mantel_haenszel` directly, then properties that
must hold whatever the counts (hypothesis) and behaviours at the edges."""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metail2.models.mh import escalc_2x2, mantel_haenszel
from tests.validation_support import METAFOR, cases, check, load

CASES = cases("mantel-haenszel")
FIELDS = ("estimate", "se", "ci_lower", "ci_upper", "stat", "p", "q", "q_p", "k", "cmh", "cmh_p")


def counts(sheet: Path):
    """ai, n1i, ci, n2i of a two-arm counts sheet."""
    with open(sheet, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    columns = ("exp_events", "exp_total", "ctrl_events", "ctrl_total")
    return tuple(np.array([float(r[c]) for r in rows]) for c in columns)


def as_case(fit) -> dict:
    got = {key: getattr(fit, key) for key in FIELDS if getattr(fit, key) is not None}
    return {"measure": fit.measure, "analysis": "mantel-haenszel", **got}


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_metafor_case(path):
    case = load(path)
    fit = mantel_haenszel(*counts(METAFOR / case["data"]), measure=case["measure"])
    check(case, as_case(fit))
    assert fit.k_yi == fit.k and fit.q_df == fit.k - 1
    assert (fit.cmh is not None) == (case["measure"] == "OR")


def test_cases_exist():
    assert {load(p)["measure"] for p in CASES} == {"OR", "RR", "RD"}


# --------------------------------------------------------------------------- properties

tables = st.integers(1, 8).flatmap(lambda k: st.lists(
    st.tuples(st.integers(5, 200), st.integers(5, 200)).flatmap(
        lambda n: st.tuples(st.integers(1, n[0] - 1), st.just(n[0]), st.integers(1, n[1] - 1), st.just(n[1]))),
    min_size=k, max_size=k))
measures = st.sampled_from(["OR", "RR", "RD"])


def _arrays(t):
    return tuple(np.array(x, dtype=float) for x in zip(*t))


def _close(a, b, rel=1e-10, abs_=1e-12):
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_) or (math.isnan(a) and math.isnan(b))


@settings(max_examples=60, deadline=None)
@given(tables, measures, st.randoms(use_true_random=False))
def test_invariant_to_study_order(t, measure, rnd):
    perm = list(range(len(t)))
    rnd.shuffle(perm)
    f = mantel_haenszel(*_arrays(t), measure=measure)
    g = mantel_haenszel(*_arrays([t[i] for i in perm]), measure=measure)
    for key in ("estimate", "se", "q", "cmh"):
        assert _close(getattr(f, key), getattr(g, key)), key
    np.testing.assert_allclose(g.weights, f.weights[perm], rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(tables, measures)
def test_swapping_arms_negates(t, measure):
    a, n1, c, n2 = _arrays(t)
    f = mantel_haenszel(a, n1, c, n2, measure)
    g = mantel_haenszel(c, n2, a, n1, measure)
    assert _close(f.estimate, -g.estimate, abs_=1e-13)
    assert _close(f.se, g.se) and _close(f.q, g.q, abs_=1e-9)
    if measure == "OR":
        assert _close(f.cmh, g.cmh)


@settings(max_examples=60, deadline=None)
@given(tables, st.sampled_from(["OR", "RR"]), st.integers(2, 5))
def test_ratio_estimates_invariant_to_replicating_counts(t, measure, m):
    """Multiplying every count by m leaves the MH ratio unchanged and divides
    its variance by about m (exactly m for the OR's RBG variance)."""
    a, n1, c, n2 = _arrays(t)
    f = mantel_haenszel(a, n1, c, n2, measure)
    g = mantel_haenszel(m * a, m * n1, m * c, m * n2, measure)
    assert _close(f.estimate, g.estimate, abs_=1e-13)
    if measure == "OR":
        assert _close(f.se ** 2 / g.se ** 2, m)


@settings(max_examples=60, deadline=None)
@given(tables.map(lambda t: t[:1]), measures)
def test_single_table_is_the_study_estimate(t, measure):
    """With one table (no zero cell) the MH estimate is the table's own, and
    the MH variances reduce to the usual large-sample ones (RBG → Woolf;
    Greenland–Robins → Katz; Sato → the binomial RD variance)."""
    a, n1, c, n2 = _arrays(t)
    f = mantel_haenszel(a, n1, c, n2, measure)
    yi, vi = escalc_2x2(a, n1, c, n2, measure)
    assert _close(f.estimate, yi[0], abs_=1e-14)
    assert _close(f.se ** 2, vi[0], rel=1e-9)
    assert f.q == 0 and f.q_p == 1 and f.k == 1


# --------------------------------------------------------------------------- edges

def test_double_zero_tables_contribute_nothing_and_are_named():
    a, n1, c, n2 = [4, 6, 0, 3], [123, 306, 50, 231], [11, 29, 0, 11], [139, 303, 60, 220]
    for measure in ("OR", "RR"):
        f = mantel_haenszel(a, n1, c, n2, measure)
        g = mantel_haenszel(*(np.delete(np.array(x, float), 2) for x in (a, n1, c, n2)), measure=measure)
        assert f.estimate == pytest.approx(g.estimate, rel=1e-14) and f.se == pytest.approx(g.se, rel=1e-14)
        assert f.q == pytest.approx(g.q, rel=1e-12) and f.q_df == 2 and f.k == 4 and f.k_yi == 3
        assert [i for i, _ in f.excluded] == [2] and "double-zero" in f.excluded[0][1]
        assert f.used == (0, 1, 3) and math.isnan(f.yi[2])
    # RD: kept (metafor's default) it adds weight; drop00 leaves it out
    kept = mantel_haenszel(a, n1, c, n2, "RD")
    dropped = mantel_haenszel(a, n1, c, n2, "RD", drop00=True)
    assert kept.used == (0, 1, 2, 3) and dropped.used == (0, 1, 3) and dropped.k == 3
    assert abs(kept.estimate) < abs(dropped.estimate)
    assert any("double-zero" in n for n in kept.notes)


def test_zero_cells_get_no_correction_in_the_estimate():
    a, n1, c, n2 = np.array([0., 6]), np.array([123., 306]), np.array([11., 29]), np.array([139., 303])
    f = mantel_haenszel(a, n1, c, n2, "OR")
    r = (a * (n2 - c) / (n1 + n2)).sum()
    s = ((n1 - a) * c / (n1 + n2)).sum()
    assert f.estimate == pytest.approx(math.log(r / s), rel=1e-14)
    assert f.yi[0] == pytest.approx(math.log(0.5 * 128.5 / (123.5 * 11.5)), rel=1e-14)  # Q's yi: 1/2 added


def test_undefined_estimate():
    f = mantel_haenszel([0, 0], [10, 20], [3, 4], [10, 20], "OR")
    assert math.isnan(f.estimate) and math.isnan(f.q) and f.notes
    assert f.cmh is not None and f.cmh > 0


def test_level_and_errors():
    a, n1, c, n2 = [4, 6], [123, 306], [11, 29], [139, 303]
    f90, f95 = mantel_haenszel(a, n1, c, n2, level=0.90), mantel_haenszel(a, n1, c, n2)
    assert f95.ci_lower < f90.ci_lower < f90.estimate < f90.ci_upper < f95.ci_upper
    uncorrected = mantel_haenszel(a, n1, c, n2, correct=False)
    assert uncorrected.cmh > f95.cmh
    with pytest.raises(ValueError):
        mantel_haenszel(a, n1, c, n2, "SMD")
    with pytest.raises(ValueError):
        mantel_haenszel([5], [4], [1], [4])
    with pytest.raises(ValueError):
        mantel_haenszel([0], [10], [0], [10], drop00=True)


def test_tables_with_an_empty_arm_are_left_out():
    f = mantel_haenszel([4, 0, 6], [123, 0, 306], [11, 3, 29], [139, 40, 303], "RD")
    g = mantel_haenszel([4, 6], [123, 306], [11, 29], [139, 303], "RD")
    assert f.k == 2 and f.used == (0, 2) and f.excluded[0][0] == 1 and math.isnan(f.yi[1])
    assert f.estimate == pytest.approx(g.estimate, rel=1e-14) and f.q == pytest.approx(g.q, rel=1e-14)
