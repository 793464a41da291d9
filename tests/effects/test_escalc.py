"""escalc: effect sizes per input group. Expected values were printed by
metafor 3.8-1's escalc (R 4.2.2) for the same inputs; tolerance 1e-12
relative, since both sides evaluate the same closed-form expressions in
double precision."""
from __future__ import annotations

import math

import pytest

from metail2 import escalc
from metail2.errors import SheetError

REL = 1e-12


def approx(x):
    return pytest.approx(x, rel=REL, abs=1e-15)


def two_arm(a, n1, c, n2, sid="s"):
    return {"study_id": sid, "exp_events": a, "exp_total": n1, "ctrl_events": c, "ctrl_total": n2}


TABLES = [two_arm(0, 10, 3, 12, "zero"), two_arm(0, 10, 0, 10, "double-zero"),
          two_arm(5, 10, 0, 8, "zero ctrl"), two_arm(10, 10, 10, 10, "all events")]


@pytest.mark.parametrize("measure, yi, vi", [
    ("OR", [-2.0459936076123, 0, 2.83321334405622, 0], [2.48621553884712, 4.19047619047619, 2.48128342245989, 4.19047619047619]),
    ("RR", [-1.77885606439215, 0, 2.19722457733622, 0], [2.11788211788212, 3.81818181818182, 1.97979797979798, 0.00865800865800864]),
    ("RD", [-0.223776223776224, 0, 0.444444444444444, 0], [0.0190786767147469, 0.00788880540946657, 0.0285571767053249, 0.00788880540946656]),
])
def test_zero_cells_get_half_added_and_double_zero_tables_are_kept(write_sheet, measure, yi, vi):
    e = escalc(write_sheet(TABLES), measure)
    assert [s.yi for s in e.studies] == [approx(x) for x in yi]
    assert [s.vi for s in e.studies] == [approx(x) for x in vi]
    assert all(s.note == "zero cell: 1/2 added to each cell" for s in e.studies)


def test_drop00_excludes_double_zero_tables_with_reason(write_sheet):
    e = escalc(write_sheet(TABLES), "OR", drop00=True)
    assert [s.study_id for s in e.studies] == ["zero", "zero ctrl"]
    assert [x.study_id for x in e.excluded] == ["double-zero", "all events"]
    assert "double-zero" in e.excluded[0].reason


@pytest.mark.parametrize("measure, yi, vi", [
    ("PR", [0.0238095238095238, 0.35, 0.976190476190476], [0.00110679192311845, 0.011375, 0.00110679192311845]),
    ("PLO", [-3.71357206670431, -0.619039208406224, 3.71357206670431], [2.04878048780488, 0.21978021978022, 2.04878048780488]),
    ("PFT", [0.10999398869773, 0.640337881841603, 1.46080233809717], [0.0121951219512195] * 3),
])
def test_single_arm_measures(write_sheet, measure, yi, vi):
    rows = [{"study_id": str(x), "events": x, "total": 20} for x in (0, 7, 20)]
    e = escalc(write_sheet(rows), measure)
    assert [s.yi for s in e.studies] == [approx(x) for x in yi]
    assert [s.vi for s in e.studies] == [approx(x) for x in vi]


def test_smd_is_hedges_g_with_exact_correction(write_sheet):
    row = {"study_id": "a", "exp_mean": 10, "exp_sd": 3, "exp_total": 12, "ctrl_mean": 8, "ctrl_sd": 4, "ctrl_total": 15}
    s = escalc(write_sheet([row]), "SMD").studies[0]
    assert (s.yi, s.vi) == (approx(0.539525232775822), approx(0.155390508829663))


def test_generic_ratio_from_ci_uses_log_scale(write_sheet):
    s = escalc(write_sheet([{"study_id": "a", "estimate": 2.0, "ci_lower": 1.0, "ci_upper": 4.0}]), "OR").studies[0]
    assert s.yi == approx(math.log(2))
    assert s.vi == approx((math.log(4) / (2 * 1.959963984540054)) ** 2)
    assert s.input == "estimate and 95% CI"


def test_generic_from_p_value(write_sheet):
    s = escalc(write_sheet([{"study_id": "a", "estimate": 1.5, "p_value": 0.05}]), "MD").studies[0]
    assert s.vi == approx((1.5 / 1.959963984540054) ** 2)


def test_hr_from_o_minus_e_and_v(write_sheet):
    s = escalc(write_sheet([{"study_id": "a", "o_minus_e": -3.0, "variance": 12.0}]), "HR").studies[0]
    assert (s.yi, s.vi) == (approx(-0.25), approx(1 / 12))


def test_rows_mix_input_groups_and_record_which_was_used(write_sheet):
    rows = [two_arm(4, 20, 8, 20, "counts"),
            {"study_id": "ci only", "estimate": 0.5, "ci_lower": 0.25, "ci_upper": 1.0},
            {"study_id": "both", **{k: v for k, v in two_arm(2, 10, 4, 10).items() if k != "study_id"},
             "estimate": 0.5, "se": 0.3, "input": "estimate and SE"}]
    e = escalc(write_sheet(rows), "OR")
    assert [s.input for s in e.studies] == ["two-arm counts", "estimate and 95% CI", "estimate and SE"]
    assert e.studies[2].yi == approx(math.log(0.5))


def test_competing_input_groups_without_input_column_are_an_error(write_sheet):
    row = {**two_arm(2, 10, 4, 10, "both"), "estimate": 0.5, "se": 0.3}
    with pytest.raises(SheetError, match="both: input: several complete input groups for one measure "
                       r"\(two-arm counts, estimate and SE\)"):
        escalc(write_sheet([row]), "OR")


def test_input_the_measure_cannot_use_is_an_error(write_sheet):
    row = {"study_id": "a", "events": 2, "total": 10, "input": "estimate and SE"}
    with pytest.raises(SheetError, match="input 'estimate and SE' cannot give PLO"):
        escalc(write_sheet([row]), "PLO")


def test_incomplete_row_is_excluded_with_reason_and_count_basis(write_sheet):
    rows = [{"study_id": "a", "events": 3, "total": 10, "count_basis": "stated"},
            {"study_id": "b", "events": "", "total": 23, "count_basis": "percentage only: 46% of 23"}]
    e = escalc(write_sheet(rows), "PLO")
    assert [s.study_id for s in e.studies] == ["a"]
    (x,) = e.excluded
    assert x.study_id == "b" and x.source.line == 3
    assert "events empty" in x.reason and "percentage only" in x.reason


def test_p_equal_to_one_excludes_the_row(write_sheet):
    rows = [{"study_id": "a", "estimate": 1.2, "p_value": 1}, {"study_id": "b", "estimate": 1.2, "se": 0.1}]
    e = escalc(write_sheet(rows), "OR")
    assert e.excluded[0].reason == "p = 1 gives no standard error"


def test_no_usable_study_is_an_error(write_sheet):
    with pytest.raises(SheetError, match="no usable study"):
        escalc(write_sheet([{"study_id": "a", "events": "", "total": 10}]), "PLO")


def test_dataframe_input(write_sheet):
    import pandas as pd
    df = pd.DataFrame({"study_id": ["a", "b"], "events": [3, 4], "total": [10, 12]})
    e = escalc(df, "PLO")
    assert e.k == 2 and e.studies[1].source.line == 3
