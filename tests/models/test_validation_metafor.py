"""Every pooling case of the metafor reference suite, through the path a user
takes: sheet CSV → escalc → pool → result JSON, compared field by field.

The reference figures in ``validation/metafor/`` were computed with R 4.2.2,
metafor 3.8-1 and metadat 1.2-0 (see that folder's README). Tolerances, with
their reasons, are gathered in ``tests/validation_support.py``.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from metail2.cli import main
from tests.validation_support import METAFOR, METAFOR_DEFAULTS, VALIDATION, cases, check, load

HERE = METAFOR
CASES = cases(None)
DEFAULT_CASES = cases(None, METAFOR_DEFAULTS)
IL2 = VALIDATION / "il2"
IL2_SHEET = Path(__file__).parents[2] / "extraction" / "il2_crc_response.csv"
IL2_CASES = sorted(IL2.glob("*.json"))


def run_case(case: dict, capsys, sheet: Path | None = None, convention: str | None = None, extra=()) -> dict:
    argv = ["pool", str(sheet or HERE / case["data"]), "--measure", case["measure"], "--method", case["method"],
            "--test", {"knha": "hk"}.get(case["test"], case["test"]), "--json"]
    if convention:
        argv += ["--convention", convention]
    if "by" in case:
        argv += ["--by", case["by"], "--subgroup-tau2", case["subgroup_tau2"]]
    code = main(argv + list(extra))
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_metafor_case(path: Path, capsys):
    """The default (exact) convention against metafor solved to 1e-12."""
    case = load(path)
    got = run_case(case, capsys)
    assert got["convention"] == "metail2"
    check(case, got)


@pytest.mark.parametrize("path", DEFAULT_CASES, ids=[p.stem for p in DEFAULT_CASES])
def test_metafor_convention_reproduces_metafor_defaults(path: Path, capsys):
    """``--convention metafor`` against metafor with its own default tolerances."""
    case = load(path)
    got = run_case(case, capsys, sheet=METAFOR_DEFAULTS / case["data"], convention="metafor")
    assert got["convention"] == "metafor"
    check(case, got)


@pytest.mark.parametrize("path", IL2_CASES, ids=[p.stem for p in IL2_CASES])
def test_il2_sheet_against_metafor(path: Path, capsys):
    """The real IL-2 sheet by route (k = 1 subgroups fitted as common effects),
    against figures made by validation/il2/make_reference.R with metafor."""
    case = load(path)
    got = run_case(case, capsys, sheet=IL2_SHEET, convention="metafor",  # made with metafor's default tolerances
                   extra=["--include-unclassified"])  # metafor has no unknown level: "not reported" is a route
    check(case, got)
    assert [e["study_id"] for e in got["excluded"]] == [
        "Okuno 1999", "Yang (Eur J Cancer)", "Eur J Surg Oncol 1992", "Heys 1995"]
