"""The batch engine against its oracle, the scalar kernel ``models.iv.fit``.

* Every pooling case of the metafor suite (the overall fit and, with
  separate τ², each subgroup as a masked column of one batch) equals the
  scalar kernel to 1e-10 in every field, the Q-profile τ² CI included.
* Random ragged batches over every estimator and test: closed forms equal
  the scalar to 1e-10; iterative estimators solve their estimating equation
  to full precision, and agree with the scalar kernel to its own stopping
  rule (|Δτ²| below 1e-10·ṽ).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from metail2.models.batch import BatchResult, pool_many
from metail2.models.iv import METHODS, fit
from tests.validation_support import cases, load

POOLING = cases(None)
REL = 1e-10
SCALAR_FIELDS = {
    "estimate": lambda f: f.beta[0], "se": lambda f: f.se[0], "stat": lambda f: f.stat[0], "p": lambda f: f.pval[0],
    "ci_lower": lambda f: f.ci_lower[0], "ci_upper": lambda f: f.ci_upper[0], "tau2": lambda f: f.tau2,
    "q": lambda f: f.q, "q_df": lambda f: f.q_df, "q_p": lambda f: f.q_p, "i2": lambda f: f.i2,
    "i2_q": lambda f: f.i2_q, "h2": lambda f: f.h2, "pi_lower": lambda f: f.pi_lower, "pi_upper": lambda f: f.pi_upper,
    "common": lambda f: f.common, "df": lambda f: f.df,
    "tau2_ci_lower": lambda f: None if f.tau2_ci is None else f.tau2_ci.lower,
    "tau2_ci_upper": lambda f: None if f.tau2_ci is None else f.tau2_ci.upper,
}


def _same(a, b, rel=REL, abs_=1e-14) -> bool:
    a = math.nan if a is None else float(a)
    b = float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def _case_columns(case: dict):
    """(label, mask) per fit of a pooling case: the overall fit and each
    separately fitted subgroup."""
    studies = case["studies"]
    k = len(studies)
    cols = [("overall", np.ones(k, dtype=bool))]
    if case.get("subgroup_tau2") == "separate":
        import csv

        from tests.validation_support import METAFOR

        with open(METAFOR / case["data"], encoding="utf-8") as fh:
            groups = {r["study_id"]: r[case["by"]] for r in csv.DictReader(fh)}
        labels = [groups[s["study_id"]] for s in studies]
        for g in sorted(set(labels)):
            cols.append((g, np.array([lab == g for lab in labels])))
    return cols


@pytest.mark.parametrize("path", POOLING, ids=[p.stem for p in POOLING])
def test_batch_equals_scalar_on_every_pooling_case(path):
    case = load(path)
    y = np.array([s["yi"] for s in case["studies"]])
    v = np.array([s["vi"] for s in case["studies"]])
    test = {"knha": "hk"}.get(case["test"], case["test"])
    cols = _case_columns(case)
    mask = np.stack([m for _, m in cols], axis=1)
    b = pool_many(np.repeat(y[:, None], len(cols), axis=1), v, mask, method=case["method"], test=test, tau2_ci=True)
    errors = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j, (label, m) in enumerate(cols):
            f = fit(y[m], v[m], None, case["method"], test, tau2_ci=True)
            assert b.k[j] == m.sum()
            for name, get in SCALAR_FIELDS.items():
                want, got = get(f), b.arrays[name][j]
                if name.startswith("tau2_ci") and want is None:
                    assert math.isnan(got), (label, name)
                elif not _same(want, got, REL, 1e-14):
                    errors.append(f"{label}.{name}: scalar {want!r}, batch {got!r}")
    assert not errors, "\n".join(errors)


def _random_batch(seed=7, k=12, n=80):
    rng = np.random.default_rng(seed)
    scale = rng.choice([1e-4, 1.0, 1e4], n)               # units must not matter
    v = rng.uniform(0.01, 1, (k, n)) * scale
    het = rng.choice([0.0, 0.1, 1.0, 10.0], n)            # from homogeneous to very heterogeneous
    y = rng.normal(0, 1, (k, n)) * np.sqrt(v + het * v.mean(0)) + rng.normal(0, 1, n) * np.sqrt(scale)
    mask = rng.random((k, n)) < rng.uniform(0.15, 1, n)
    mask[:2, :] = True                                     # k ≥ 2
    return y, v, mask


def _typical_v(v):
    w = 1 / v
    return (len(v) - 1) / (w.sum() - (w * w).sum() / w.sum())


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", ["z", "hk"])
def test_random_ragged_batches_agree_with_the_scalar_kernel(method, test):
    y, v, mask = _random_batch()
    b = pool_many(y, v, mask, method=method, test=test, tau2_ci=True)
    closed = method in ("FE", "DL", "HE", "HS", "SJ")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in range(y.shape[1]):
            m = mask[:, j]
            f = fit(y[m, j], v[m, j], None, method, test, tau2_ci=True)
            vt = _typical_v(v[m, j])
            # τ² (and the CI bounds) on the scale of the typical within-study variance
            assert abs(f.tau2 - b.tau2[j]) <= (REL if closed else 1e-9) * max(vt, f.tau2), (j, f.tau2, b.tau2[j])
            if f.tau2_ci is not None:
                for want, got in ((f.tau2_ci.lower, b.tau2_ci_lower[j]), (f.tau2_ci.upper, b.tau2_ci_upper[j])):
                    assert abs(want - got) <= 1e-9 * max(vt, want), (j, want, got)
            rel = REL if closed else 1e-6   # the scalar's τ² stops within 1e-10·ṽ
            for name in ("estimate", "se", "ci_lower", "ci_upper", "q", "q_p", "i2_q", "pi_lower", "pi_upper"):
                want = SCALAR_FIELDS[name](f)
                assert _same(want, b.arrays[name][j], rel, 1e-12 * math.sqrt(vt)), (j, name, want, b.arrays[name][j])
            assert _same(f.i2, b.i2[j], rel, 1e-8) and _same(f.h2, b.h2[j], rel, 1e-10)
            assert _same(f.pval[0], b.p[j], rel if closed else 1e-5, 1e-12)


@pytest.mark.parametrize("method", ["REML", "ML", "PM", "EB"])
def test_iterative_estimators_solve_their_equation_to_full_precision(method):
    y, v, mask = _random_batch(seed=11, n=400)
    b = pool_many(y, v, mask, method=method)
    assert b.converged.all()
    for j in range(y.shape[1]):
        m = mask[:, j]
        yy, vv, t = y[m, j], v[m, j], b.tau2[j]
        vt = _typical_v(vv)
        w = 1 / (vv + t)
        e = yy - (w * yy).sum() / w.sum()
        if method in ("PM", "EB"):
            g, dg = (w * e * e).sum() - (len(yy) - 1), (w * w * e * e).sum()
        elif method == "REML":
            g = ((w * e) ** 2).sum() - (w.sum() - (w * w).sum() / w.sum())
            dg = (w * w).sum()
        else:
            g, dg = ((w * e) ** 2).sum() - w.sum(), (w * w).sum()
        if t == 0:
            assert g <= 1e-9 * dg * vt, (j, g)              # boundary: the score points below 0
        else:
            assert abs(g) <= 1e-12 * dg * vt, (j, g / dg / vt)  # a root: |Δτ²| ~ 1e-12·ṽ


def test_k_of_one_and_zero():
    y = np.array([[0.5, 0.5, 0.5], [1.0, 1.0, 1.0]])
    mask = np.array([[True, True, False], [True, False, False]])
    b = pool_many(y, [0.04, 0.09], mask, method="REML", test="hk", tau2_ci=True)
    assert b.k.tolist() == [2, 1, 0]
    f = fit(np.array([0.5]), np.array([0.04]), None, "REML", "hk")
    assert b.common.tolist() == [False, True, False] and math.isnan(b.df[1])
    assert b.estimate[1] == f.beta[0] and b.se[1] == f.se[0] and b.p[1] == f.pval[0]
    assert (b.q[1], b.q_df[1], b.q_p[1], b.i2[1], b.h2[1]) == (0, 0, 1, 0, 1)
    assert math.isnan(b.pi_lower[1]) and math.isnan(b.tau2_ci_lower[1])
    assert all(math.isnan(b.arrays[n][2]) for n in ("estimate", "se", "tau2", "q", "p"))


def test_chunks_and_shared_variances_give_identical_numbers():
    y, v, mask = _random_batch(seed=3, n=300)
    whole = pool_many(y, v, mask, method="REML", test="hk", tau2_ci=True)
    chunked = pool_many(y, v, mask, method="REML", test="hk", tau2_ci=True, chunk=37)
    for name, a in whole.arrays.items():
        np.testing.assert_array_equal(a, chunked.arrays[name], err_msg=name)
    shared = pool_many(y, v[:, 0], None, method="PM")
    for j in (0, 5, 17):
        f = fit(y[:, j], v[:, 0], None, "PM")
        assert _same(f.beta[0], shared.estimate[j]) and _same(f.tau2, shared.tau2[j])


def test_result_value():
    b = pool_many(np.array([[0.1, 0.2], [0.3, 0.1], [0.5, 0.9]]), [0.01, 0.02, 0.04], method="DL")
    assert isinstance(b, BatchResult) and len(b) == 2
    with pytest.raises(ValueError):
        b.estimate[0] = 1.0                                # read-only
    sub = b.take([1])
    assert len(sub) == 1 and sub.estimate[0] == b.estimate[1]
    frame = b.to_frame()
    assert list(frame.index) == [0, 1] and frame.loc[1, "tau2"] == b.tau2[1]
    assert b.tau2_ci_lower is None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"method": "MH"}, "unknown method"), ({"test": "t"}, "unknown test"), ({"level": 1.5}, "level"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pool_many([0.1, 0.2], [0.01, 0.02], **kwargs)


def test_bad_data():
    with pytest.raises(ValueError, match="v finite and > 0"):
        pool_many([0.1, 0.2], [0.01, 0.0])
    with pytest.raises(ValueError, match="shape"):
        pool_many(np.zeros((3, 2)), np.ones((2, 2)))
    # a study left out by the mask may hold anything
    b = pool_many(np.array([[0.1], [np.nan]]), np.array([[0.01], [-1.0]]), np.array([[True], [False]]))
    assert b.estimate[0] == 0.1


def test_dask_array_and_scheduler_give_the_in_process_numbers():
    da = pytest.importorskip("dask.array")
    y, v, mask = _random_batch(seed=5, n=500)
    here = pool_many(y, v, mask, method="REML", tau2_ci=True)
    lazy = pool_many(da.from_array(y, chunks=(y.shape[0], 128)), v, mask, method="REML", tau2_ci=True)
    threads = pool_many(y, v[:, 0], None, method="PM", scheduler="threads", chunk=100)
    shared = pool_many(y, v[:, 0], None, method="PM")
    for name, a in here.arrays.items():
        np.testing.assert_array_equal(a, lazy.arrays[name], err_msg=name)
    for name, a in shared.arrays.items():
        np.testing.assert_array_equal(a, threads.arrays[name], err_msg=name)


def test_dask_is_not_imported_by_the_models():
    import subprocess
    import sys

    code = ("import sys, numpy as np; import metail2.models.batch as b; "
            "b.pool_many(np.ones((3, 2)), np.ones(3)); print('dask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("path", [p for p in POOLING if load(p)["method"] in ("REML", "ML", "EB")],
                         ids=lambda p: p.stem)
def test_metafor_numerics_follow_metafors_iteration(path):
    """Under metafor's convention REML, ML and EB stop where metafor's Fisher
    scoring stops (|Δτ²| < 1e-10 absolute): the suite's figures to 1e-12."""
    from metail2.models.numerics import METAFOR

    case = load(path)
    y = np.array([s["yi"] for s in case["studies"]])
    v = np.array([s["vi"] for s in case["studies"]])
    b = pool_many(y, v, method=case["method"], test={"knha": "hk"}.get(case["test"], case["test"]), numerics=METAFOR)
    for name in ("tau2", "estimate", "se", "i2", "pi_lower"):
        assert _same(case["overall"][name], b.arrays[name][0], 1e-12, 1e-15), name


def test_pool_subsets_takes_booleans_or_packed_bits():
    from metail2.models.batch import packed_subsets, pool_subsets

    y, v = np.array([0.1, 0.3, 0.5, 0.2, -0.1]), np.array([0.01, 0.02, 0.04, 0.03, 0.05])
    sub = np.array([[1, 1, 0, 1, 1], [1, 1, 1, 1, 1], [0, 0, 1, 1, 0]], dtype=bool)
    a = pool_subsets(y, v, sub, method="REML", test="hk")
    b = pool_subsets(y, v, packed_subsets(sub, 5), method="REML", test="hk", chunk=2)
    c = pool_many(np.repeat(y[:, None], 3, axis=1), v, sub.T, method="REML", test="hk")
    for name, arr in a.arrays.items():
        np.testing.assert_array_equal(arr, b.arrays[name], err_msg=name)
        np.testing.assert_array_equal(arr, c.arrays[name], err_msg=name)
    with pytest.raises(ValueError, match="boolean subsets"):
        pool_subsets(y, v, sub[:, :4])
    with pytest.raises(ValueError, match="packed subsets"):
        pool_subsets(y, v, np.zeros((2, 3), dtype=np.uint8))
