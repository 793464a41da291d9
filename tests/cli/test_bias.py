"""``metail2 bias``: JSON of each test, the caveats on stderr, options that do
not apply, and one clear line per bad input (exit 2, no traceback)."""
from __future__ import annotations

import json

import pytest

from metail2.cli import main
from tests.validation_support import METAFOR

BCG = str(METAFOR / "bcg.csv")
PRITZ = str(METAFOR / "pritz1997.csv")


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_trimfill_json_carries_what_a_funnel_plot_needs(capsys):
    code, out, err = run(["bias", BCG, "--measure", "RR", "--trimfill", "--method", "FE", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["analysis"] == "trim-and-fill" and (d["method"], d["test"], d["estimator"]) == ("FE", "z", "L0")
    assert (d["k"], d["k0"], d["side"], d["side_given"]) == (13, 4, "right", False)
    assert [f["study_id"] for f in d["filled"]] == ["Filled 1", "Filled 2", "Filled 3", "Filled 4"]
    assert set(d["filled"][0]) == {"study_id", "yi", "vi", "mirror_of"}
    assert len(d["studies"]) == 13 and d["observed"]["estimate"] < d["estimate"]
    assert d["natural"]["estimate"] == pytest.approx(2.718281828459045 ** d["estimate"])


def test_egger_json_carries_the_line(capsys):
    code, out, err = run(["bias", BCG, "--measure", "RR", "--egger", "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["analysis"] == "egger" and (d["model"], d["predictor"], d["test"]) == ("lm", "sei", "t")
    assert {"intercept", "intercept_se", "slope", "slope_se", "stat", "df", "p"} <= set(d)
    code, out, err = run(["bias", BCG, "--measure", "RR", "--egger", "--model", "rma", "--method", "DL",
                          "--test", "hk", "--json"], capsys)
    d = json.loads(out)
    assert (d["model"], d["method"], d["test"], d["df"]) == ("rma", "DL", "hk", 11)


def test_text_and_caveats_on_stderr(capsys):
    code, out, err = run(["bias", PRITZ, "--measure", "PLO", "--begg", "--json"], capsys)
    assert code == 0 and json.loads(out)["analysis"] == "begg"
    assert "metail2: warning: PLO is a single-arm proportion" in err
    code, out, err = run(["bias", BCG, "--measure", "RR", "--trimfill", "--estimator", "R0", "--method", "FE"], capsys)
    assert code == 0 and "Trim-and-fill (R0)" in out and "Filled 1" in out
    code, out, err = run(["bias", BCG, "--measure", "RR", "--trimfill", "--estimator", "R0"], capsys)
    assert code == 0 and "k0 = 0" in out and "No study imputed" in out  # metafor: k0 = 0, p = 0.5 (REML)


def test_few_studies_warn(write_sheet, capsys):
    rows = [{"study_id": f"S{i}", "exp_events": 2 + i, "exp_total": 40 + 10 * i, "ctrl_events": 5 + i,
             "ctrl_total": 40 + 12 * i} for i in range(6)]
    code, out, err = run(["bias", str(write_sheet(rows)), "--measure", "OR", "--egger", "--json"], capsys)
    assert code == 0 and "metail2: warning: k = 6 < 10" in err


@pytest.mark.parametrize("args, message", [
    (["--begg", "--side", "left"], "--side and --estimator apply to --trimfill"),
    (["--trimfill", "--predictor", "vi"], "--model and --predictor apply to --egger"),
    (["--egger", "--method", "REML"], "--method and --test apply to --egger --model rma"),
    (["--begg", "--method", "REML"], "do not apply to --begg"),
    (["--egger", "--predictor", "ninv", "--model", "rma", "--outcome", "x"], "outcome"),
])
def test_options_that_do_not_apply(args, message, capsys):
    code, out, err = run(["bias", BCG, "--measure", "RR", *args], capsys)
    assert code == 2 and message in err and "Traceback" not in err, err


def test_bad_input_is_one_clear_error(capsys):
    code, out, err = run(["bias", str(METAFOR / "hackshaw1998.csv"), "--measure", "OR", "--egger",
                          "--predictor", "ni"], capsys)
    assert code == 2 and err.startswith("metail2: error: ") and "needs the study's sample size" in err
    assert err.count("\n") == 37 and "Traceback" not in err
    code, out, err = run(["bias", BCG, "--measure", "RR"], capsys)
    assert code == 2 and "one of the arguments --egger --begg --trimfill is required" in err
