"""Mantel–Haenszel, Peto and GLMM pooling, and the RevMan 5 convention,
through the user's path (sheet → ``metail2 pool … --json``), against the
reference suites (tolerances in ``tests/validation_support.py``)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from metail2.cli import main
from tests.validation_support import METAFOR, REL_GLMM, REVMAN5, cases, check, load

METHOD = {"mantel-haenszel": "MH", "peto": "Peto", "glmm": "GLMM"}
KEYS = ("estimate", "se", "ci_lower", "ci_upper", "stat", "p", "q", "q_p", "k", "cmh", "cmh_p", "tau2", "natural")
ALT = cases("mantel-haenszel") + cases("peto") + cases("glmm")


def _pool(argv, capsys) -> dict:
    code = main(argv)
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


@pytest.mark.parametrize("path", ALT, ids=[p.stem for p in ALT])
def test_alternative_method_case(path: Path, capsys):
    case = load(path)
    got = _pool(["pool", str(METAFOR / case["data"]), "--measure", case["measure"],
                 "--method", METHOD[case["analysis"]], "--json"], capsys)
    assert got["method"] == METHOD[case["analysis"]]
    want = {"case": case["case"], **{k: case[k] for k in KEYS if k in case}}
    if case["analysis"] == "glmm":
        # lme4's optimiser stops near 1e-4 relative (README); a p-value's
        # relative error is about z² times that of z.
        z = abs(case["stat"])
        p_want = want.pop("p")
        check(want, got["overall"], rel=REL_GLMM)
        assert math.isclose(got["overall"]["p"], p_want, rel_tol=REL_GLMM * max(1.0, z * z))
    else:
        check(want, got["overall"])


REVMAN = cases("convention", REVMAN5)


@pytest.mark.parametrize("path", REVMAN, ids=[p.stem for p in REVMAN])
def test_revman5_convention_case(path: Path, capsys):
    case = load(path)
    got = _pool(["pool", str(REVMAN5 / case["data"]), "--measure", case["measure"], "--method", case["method"],
                 "--convention", "revman5", "--json"], capsys)
    assert got["convention"] == "revman5"
    assert got["overall"]["pi_lower"] is None  # RevMan 5 reports no prediction interval
    want = {"case": case["case"], "studies": case["studies"], "overall": case["overall"]}
    check(want, got)
