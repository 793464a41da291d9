"""Trim-and-fill against metafor 3.8-1's ``trimfill`` (R 4.2.2): the exact
random-effects figures, R0, a given side, DL, and the filled studies a funnel
plot draws."""
from __future__ import annotations

import math

import numpy as np
import pytest

from metail2.bias import trimfill
from metail2.effects import EffectSizes
from metail2.errors import MetailWarning, SheetError
from tests.bias.conftest import quiet

# trimfill(rma(yi, vi, method = "REML", control = ctl), control = ctl), ctl = list(threshold = 1e-10)
EXACT_REML = {
    "bcg": dict(k0=1, side="right", estimate=-0.657082783487984, se=0.17852838013297, ci_lower=-1.00699197876688,
                ci_upper=-0.307173588209087, tau2=0.331287633444592),
    "hackshaw": dict(k0=7, side="left", estimate=0.174471110414278, se=0.0484317417203936,
                     ci_lower=0.0795466409337606, ci_upper=0.269395579894796, tau2=0.0244557604385203),
}


@pytest.mark.parametrize("name", ["bcg", "hackshaw"])
def test_random_effects_figures_are_metafors_iterated_to_convergence(name, request):
    t = quiet(trimfill, request.getfixturevalue(name), "REML")
    want = EXACT_REML[name]
    assert (t.k0, t.side) == (want["k0"], want["side"])
    for key in ("estimate", "se", "ci_lower", "ci_upper", "tau2"):
        assert math.isclose(getattr(t, key), want[key], rel_tol=1e-7), key


def test_r0_estimator(bcg):
    """trimfill(rma(yi, vi, method = "FE"), estimator = "R0")."""
    t = quiet(trimfill, bcg, "FE", estimator="R0")
    assert (t.k0, t.side) == (4, "right")
    assert math.isclose(t.estimate, -0.291025992106353, rel_tol=1e-9)
    assert math.isclose(t.se, 0.038264136604139, rel_tol=1e-9)
    assert math.isclose(t.p_k0, 0.03125) and math.isclose(t.se_k0, 3.16227766016838, rel_tol=1e-12)


def test_given_side_with_nothing_to_fill(bcg):
    """trimfill(rma(yi, vi, method = "FE"), side = "left"): k0 = 0, the model unchanged."""
    t = quiet(trimfill, bcg, "FE", side="left")
    assert t.k0 == 0 and t.filled == () and t.side_given and math.isnan(t.se_k0)
    assert math.isclose(t.estimate, -0.430285163654091, rel_tol=1e-9)
    assert t.fit is t.observed and t.to_dict()["filled"] == []


def test_filled_studies_are_metafors(hackshaw):
    """trimfill(rma(yi, vi, method = "DL")) on hackshaw1998: the imputed yᵢ and vᵢ."""
    t = quiet(trimfill, hackshaw, "DL")
    assert (t.k0, t.side) == (7, "left")
    assert math.isclose(t.estimate, 0.173923528441021, rel_tol=1e-9)
    assert math.isclose(t.se, 0.0487015026641344, rel_tol=1e-9)
    assert math.isclose(t.tau2, 0.0252078931255004, rel_tol=1e-9)
    np.testing.assert_allclose([s.yi for s in t.filled],
                               [-0.370997058200808, -0.395448154064972, -0.424021526509028, -0.438007768483768,
                                -0.487679378281005, -0.518050476157304, -0.603992905958029], rtol=1e-9)
    np.testing.assert_allclose([s.vi for s in t.filled],
                               [0.540195865342449, 0.227320591670482, 0.0889215627069803, 0.123816201921842,
                                0.317147722864399, 0.292565772065689, 0.398195433354185], rtol=1e-12)
    # each filled study mirrors one observed study about the trimmed estimate, with its variance
    by_id = {s.study_id: s for s in hackshaw.studies}
    centre = [(s.yi + by_id[s.mirror_of].yi) / 2 for s in t.filled]
    assert np.ptp(centre) < 1e-12 and all(s.vi == by_id[s.mirror_of].vi for s in t.filled)
    d = t.to_dict()
    assert d["filled"][0] == {"study_id": "Filled 1", "yi": t.filled[0].yi, "vi": t.filled[0].vi,
                              "mirror_of": t.filled[0].mirror_of}
    assert len(d["studies"]) == 37 and d["observed"]["k"] == 37 and d["k"] == 37
    assert len(t.yi) == len(t.vi) == 44


def test_mirror_symmetry_of_sides(bcg):
    """Negating every effect swaps the side and negates the filled effects."""
    flipped = EffectSizes.from_arrays(-bcg.yi, bcg.vi, "RR", [s.study_id for s in bcg.studies])
    a, b = quiet(trimfill, bcg, "FE"), quiet(trimfill, flipped, "FE")
    assert (a.side, b.side) == ("right", "left") and a.k0 == b.k0
    np.testing.assert_allclose([s.yi for s in a.filled], [-s.yi for s in b.filled], rtol=1e-12)
    assert math.isclose(a.estimate, -b.estimate, rel_tol=1e-12)


def test_text_warnings_and_bad_input(bcg):
    small = EffectSizes(bcg.measure, bcg.studies[:8], (), bcg.sheet)
    with pytest.warns(MetailWarning, match="k = 8 < 10"):
        t = trimfill(small, "FE")
    assert "Trim-and-fill (L0)" in str(t) and "Observed:" in str(t)
    with pytest.raises(SheetError, match="unknown side 'up'"):
        trimfill(bcg, side="up")
    with pytest.raises(SheetError, match="unknown estimator 'Q0'"):
        trimfill(bcg, estimator="Q0")


def test_metafor_convention_differs_only_by_metafors_stopping_rule(hackshaw):
    exact = quiet(trimfill, hackshaw, "REML")
    rma_default = quiet(trimfill, hackshaw, "REML", convention="METAFOR")
    assert rma_default.convention == "metafor" and rma_default.k0 == exact.k0
    a, b = exact.to_dict(), rma_default.to_dict()
    assert set(a) == set(b) and b["observed"]["tau2"] == pytest.approx(a["observed"]["tau2"], rel=1e-9)
    for key in ("estimate", "se", "ci_lower", "ci_upper", "tau2", "i2", "q"):  # filled yᵢ mirror a different β̂
        assert b[key] == pytest.approx(a[key], rel=1e-5) and b[key] != a[key], key
    assert len(b["tau2_ci"]) == 2 and b["tau2_ci"][0] < b["tau2"] < b["tau2_ci"][1]
    assert sum(rma_default.fit.weights) == pytest.approx(100)
