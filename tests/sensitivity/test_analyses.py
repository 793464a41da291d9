"""The sensitivity analyses against refits by the scalar kernel, and their
own properties (orders, seeds, sign symmetry, GOSH on a Dask cluster)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from metail2.effects import EffectSizes, escalc
from metail2.models import pool
from metail2.models.iv import fit
from metail2.sensitivity import cumulative, gosh, influence, leave1out, permutest
from metail2.sensitivity.gosh import all_subsets, random_subsets
from tests.validation_support import METAFOR

BCG = escalc(str(METAFOR / "bcg.csv"), "RR")
Y = np.array([0.12, -0.35, 0.41, 0.05, -0.10, 0.62, 0.30, -0.22])
V = np.array([0.04, 0.09, 0.05, 0.02, 0.12, 0.08, 0.03, 0.06])


def _close(a, b, rel=1e-9, abs_=1e-12):
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize("method", ["FE", "DL", "REML", "PM", "SJ"])
@pytest.mark.parametrize("test", ["z", "hk"])
def test_leave_one_out_equals_scalar_refits(method, test):
    r = leave1out((Y, V), method=method, test=test)
    assert r.labels == tuple(str(i) for i in range(1, 9))
    for i in range(len(Y)):
        keep = np.arange(len(Y)) != i
        f = fit(Y[keep], V[keep], None, method, test)
        assert _close(r.fits.estimate[i], f.beta[0]) and _close(r.fits.se[i], f.se[0])
        assert abs(r.fits.tau2[i] - f.tau2) <= 1e-9 * V.mean() and _close(r.fits.q[i], f.q)
    assert _close(r.full.estimate[0], fit(Y, V, None, method, test).beta[0])


def test_cumulative_in_sheet_order_and_by_a_column():
    r = cumulative((Y, V), method="DL")
    assert r.fits.k.tolist() == list(range(1, 9)) and r.order == "sheet"
    assert r.fits.common[0] and r.fits.estimate[0] == Y[0]
    for j in range(1, 8):
        assert _close(r.fits.estimate[j], fit(Y[: j + 1], V[: j + 1], None, "DL").beta[0])
    by_year = cumulative(BCG, order="year")
    years = [int(s.row.text("year")) for s in BCG.studies]
    want = [BCG.studies[i].study_id for i in sorted(range(BCG.k), key=lambda i: years[i])]  # stable
    assert list(by_year.labels) == want and by_year.order == "year"
    down = cumulative(BCG, order="year", decreasing=True)
    assert list(down.labels) == [BCG.studies[i].study_id for i in sorted(range(BCG.k), key=lambda i: -years[i])]
    assert _close(by_year.fits.estimate[-1], by_year.full.estimate[0])
    with pytest.raises(KeyError, match="not in the sheet"):
        cumulative(BCG, order="nope")


def test_cumulative_text_order_puts_missing_last(write_sheet):
    rows = [{"study_id": s, "estimate": e, "se": "0.2", "tag": t}
            for s, e, t in [("a", "1.2", "b"), ("b", "0.8", ""), ("c", "1.5", "a"), ("d", "0.9", "b")]]
    es = escalc(write_sheet(rows), "OR")
    assert cumulative(es, order="tag").labels == ("c", "a", "d", "b")


def test_influence_matches_its_definition_under_hk():
    r = influence((Y, V), method="REML", test="hk")
    k = len(Y)
    full = fit(Y, V, None, "REML", "hk")
    w = 1 / (V + full.tau2)
    assert np.allclose(r.hat, w / w.sum(), rtol=1e-9) and np.allclose(r.weight, full.weights, rtol=1e-9)
    for i in range(k):
        keep = np.arange(k) != i
        f = fit(Y[keep], V[keep], None, "REML", "hk")
        s2 = f.se[0] ** 2 * (1 / (V[keep] + f.tau2)).sum()          # the KH factor of the refit
        resid = Y[i] - f.beta[0]
        assert _close(r.rstudent[i], resid / math.sqrt(V[i] * s2 + f.se[0] ** 2 + f.tau2 * s2), 1e-7)
        assert _close(r.cook_d[i], (full.beta[0] - f.beta[0]) ** 2 / full.se[0] ** 2, 1e-7)
        assert _close(r.cov_r[i], f.se[0] ** 2 / full.se[0] ** 2, 1e-7)
        assert _close(r.tau2_del[i], f.tau2, 1e-7, 1e-12) and _close(r.qe_del[i], f.q)
    d = r.to_dict()
    assert d["analysis"] == "influence" and len(d["dfbetas"]) == k and d["influential"] == r.influential.tolist()


def test_influence_flags_an_outlier():
    y = np.append(Y, 3.0)
    v = np.append(V, 0.02)
    r = influence((y, v), method="DL")
    assert r.influential[-1] and not r.influential[:-1].any()


def test_all_subsets_in_metafors_order():
    bits = all_subsets(4)
    m = np.unpackbits(bits, axis=1, count=4, bitorder="little").astype(bool)
    assert len(m) == 15 and m.sum(1).tolist() == sorted(m.sum(1).tolist())
    assert [list(np.flatnonzero(r)) for r in m[4:7]] == [[0, 1], [0, 2], [1, 2]]
    assert m[-1].all()


def test_gosh_fits_are_the_scalar_kernel_on_each_subset():
    g = gosh((Y[:6], V[:6]), method="REML")
    assert g.exact and len(g) == 63 and g.seed is None
    for j, inc in enumerate(g.included()):
        f = fit(Y[inc], V[inc], None, "REML")
        assert _close(g.fits.estimate[j], f.beta[0], 1e-8) and _close(g.fits.i2[j], f.i2, 1e-6, 1e-7)
        assert g.fits.k[j] == len(inc)
    s = g.summary()
    assert s["q"]["min"] == 0 and math.isclose(s["estimate"]["mean"], float(np.mean(g.fits.estimate)))
    frame = g.to_frame()
    assert frame.shape == (63, 5 + 6) and frame["k"].tolist() == g.fits.k.tolist()


def test_gosh_random_subsets_are_seeded_and_recorded():
    a = gosh(BCG, subsets=500, seed=42, method="DL")
    b = gosh(BCG, subsets=500, seed=42, method="DL")
    assert not a.exact and a.seed == 42 and len(a) == 500
    np.testing.assert_array_equal(a.subsets, b.subsets)
    np.testing.assert_array_equal(a.fits.estimate, b.fits.estimate)
    drawn = gosh(BCG, subsets=50, method="DL")
    assert isinstance(drawn.seed, int) and drawn.to_dict()["seed"] == drawn.seed
    assert gosh(BCG, subsets=8191, method="FE").exact              # 2^13 − 1 ≤ N: all of them
    bits = random_subsets(21, 2000, 1)
    m = np.unpackbits(bits, axis=1, count=21, bitorder="little")
    assert m.any(1).all() and abs(m.mean() - 0.5) < 0.02 and not np.unpackbits(bits, axis=1, bitorder="little")[:, 21:].any()


@pytest.mark.slow
def test_gosh_on_a_dask_localcluster_equals_in_process():
    """Two in-process workers (threads: ``processes=False``; process workers
    cost seconds of start-up on two shared cores and compute the same)."""
    distributed = pytest.importorskip("dask.distributed")
    here = gosh(BCG, method="REML", chunk=1024)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        there = gosh(BCG, method="REML", chunk=1024, scheduler=client)
        assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_array_equal(here.subsets, there.subsets)
    for name, a in here.fits.arrays.items():
        np.testing.assert_array_equal(a, there.fits.arrays[name], err_msg=name)
    assert here.summary() == there.summary()


def test_exact_permutation_is_sign_symmetric_and_matches_scalar_refits():
    r = permutest((Y[:7], V[:7]), method="PM")
    assert r.exact and r.iterations == 128 and r.seed is None
    d = r.distribution
    np.testing.assert_array_equal(d[:64], -d[127:63:-1])              # flipping every sign negates z
    signs = 1 - 2 * ((37 >> np.arange(7)) & 1)
    assert _close(d[37], fit(signs * Y[:7], V[:7], None, "PM").stat[0], 1e-8)
    assert r.p == np.mean(np.abs(d) >= abs(r.stat) - math.sqrt(np.finfo(float).eps))


def test_random_permutations_start_with_the_data_and_are_seeded():
    a = permutest(BCG, 300, seed=7, method="DL")
    b = permutest(BCG, 300, seed=7, method="DL")
    assert not a.exact and a.iterations == 300 and a.seed == 7
    np.testing.assert_array_equal(a.distribution, b.distribution)
    assert a.distribution[0] == a.stat == pool(BCG, method="DL").overall.stat
    assert permutest((Y[:5], V[:5]), 40).exact                      # 2^5 ≤ 40: exact instead
    with pytest.raises(ValueError, match="random permutations"):
        permutest((np.zeros(25) + 0.1, np.ones(25)))


def test_inputs_from_a_pooled_result_and_from_arrays():
    res = pool(BCG, method="DL", test="hk")
    r = leave1out(res)
    assert (r.model.method, r.model.test, r.model.measure.name) == ("DL", "hk", "RR")
    assert leave1out(res, method="FE").model.method == "FE"
    arr = EffectSizes.from_arrays(Y, V)
    assert leave1out(arr).labels == tuple(str(i) for i in range(1, 9))
    with pytest.raises(ValueError, match="at least 2 studies"):
        leave1out(([0.1], [0.01]))
    with pytest.raises(ValueError, match="FE or a τ² estimator"):
        influence((Y, V), method="MH")
    with pytest.raises(ValueError, match="convention"):
        gosh((Y, V), convention="revman5")
    with pytest.raises(TypeError):
        leave1out(42)
