"""Every pooling case of the metafor reference suite, through the path a user
takes: sheet CSV → escalc → pool → result JSON, compared field by field.

The reference figures in ``validation/metafor/`` were computed with R 4.2.2,
metafor 3.8-1 and metadat 1.2-0 (see that folder's README). Tolerances are
those of that README:

* relative 1e-6 (absolute 1e-9 near zero) for estimates, SEs, CIs, statistics,
  τ², Q, I², H² and PIs: metafor iterates to 1e-10 and both sides use double
  precision, so agreement is far tighter than any printed digit;
* relative 1e-4 for the Q-profile CI of τ²: metafor finds those bounds with
  ``uniroot(tol = .Machine$double.eps^0.25)``, which stops within ~1e-4;
* p-values relative 1e-6 or absolute 1e-12 (tiny p-values are tail areas
  where the last digits differ between R's and SciPy's algorithms).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from metail2.cli import main

VALIDATION = Path(__file__).parents[1] / "validation"
HERE = VALIDATION / "metafor"
CASES = sorted(HERE.glob("*.json"))
IL2 = VALIDATION / "il2"
IL2_SHEET = Path(__file__).parents[2] / "extraction" / "il2_crc_response.csv"
IL2_CASES = sorted(IL2.glob("*.json"))
LATER = {
    "mantel-haenszel": "Mantel–Haenszel pooling is a later issue",
    "peto": "Peto's method is a later issue",
    "egger": "Egger's regression test is a later issue",
    "trim-and-fill": "trim-and-fill is a later issue",
    "leave-one-out": "leave-one-out analysis is a later issue",
    "cumulative": "cumulative meta-analysis is a later issue",
}

REL, ABS = 1e-6, 1e-9
REL_TAU2_CI = 1e-4
P_REL, P_ABS = 1e-6, 1e-12


def _close(got, want, rel, abs_):
    return got is not None and math.isclose(got, want, rel_tol=rel, abs_tol=abs_)


def compare(got: dict, want: dict, where: str, errors: list[str]) -> None:
    for key, w in want.items():
        g = got.get(key) if isinstance(got, dict) else None
        here = f"{where}.{key}"
        if isinstance(w, dict):
            if not isinstance(g, dict):
                errors.append(f"{here}: missing")
            else:
                compare(g, w, here, errors)
        elif isinstance(w, list):
            if g is None or len(g) != len(w):
                errors.append(f"{here}: got {g}, want {w}")
                continue
            for i, (gi, wi) in enumerate(zip(g, w)):
                if isinstance(wi, dict):
                    compare(gi, wi, f"{here}[{i}]", errors)
                elif not _close(gi, wi, REL_TAU2_CI if key == "tau2_ci" else REL, ABS):
                    errors.append(f"{here}[{i}]: got {gi!r}, want {wi!r}")
        elif isinstance(w, str):
            if g != w:
                errors.append(f"{here}: got {g!r}, want {w!r}")
        elif key in ("p", "q_p"):
            if not _close(g, w, P_REL, P_ABS):
                errors.append(f"{here}: got {g!r}, want {w!r}")
        elif not _close(g, w, REL, ABS):
            errors.append(f"{here}: got {g!r}, want {w!r}")


def run_case(case: dict, capsys, sheet: Path | None = None) -> dict:
    argv = ["pool", str(sheet or HERE / case["data"]), "--measure", case["measure"], "--method", case["method"],
            "--test", {"knha": "hk"}.get(case["test"], case["test"]), "--json"]
    if "by" in case:
        argv += ["--by", case["by"], "--subgroup-tau2", case["subgroup_tau2"]]
    code = main(argv)
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_metafor_case(path: Path, capsys):
    case = json.loads(path.read_text())
    if "analysis" in case:
        pytest.skip(LATER[case["analysis"]])
    check(case, run_case(case, capsys))


def check(case: dict, got: dict) -> None:
    want = {k: v for k, v in case.items() if k not in ("case", "data", "generated_with")}
    want["test"] = {"knha": "hk"}.get(case["test"], case["test"])
    errors: list[str] = []
    compare(got, want, case["case"], errors)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("path", IL2_CASES, ids=[p.stem for p in IL2_CASES])
def test_il2_sheet_against_metafor(path: Path, capsys):
    """The real IL-2 sheet by route (k = 1 subgroups fitted as common effects),
    against figures made by validation/il2/make_reference.R with metafor."""
    case = json.loads(path.read_text())
    got = run_case(case, capsys, sheet=IL2_SHEET)
    check(case, got)
    assert [e["study_id"] for e in got["excluded"]] == [
        "Okuno 1999", "Yang (Eur J Cancer)", "Eur J Surg Oncol 1992", "Heys 1995"]
