"""The reference suites and their comparison, shared by every validation test.

Tolerances (one place, each with its reason):

* relative 1e-6 (absolute 1e-9 near zero) for estimates, SEs, CIs, statistics,
  τ², Q, I², H² and PIs: metafor iterates to 1e-10 and both sides use double
  precision, so agreement is far tighter than any printed digit;
* the same relative 1e-6 for the Q-profile CI of τ²: the suite's pooling
  cases were solved to 1e-12 (exact), and ``metafor-defaults/`` is reproduced
  by ``--convention metafor`` with metafor's own algorithm and tolerance, so
  both agree far below 1e-6; :data:`REL_TAU2_CI` (1e-4) is kept for checks
  against figures whose roots were found only to metafor's ``uniroot``
  tolerance by a different algorithm;
* relative 1e-4 for GLMM fits: lme4's optimiser stops there;
* I² near 0 absolute 1e-7 (percent points): see :data:`ABS_I2`;
* p-values relative 1e-6 or absolute 1e-12 (tiny p-values are tail areas
  where the last digits differ between R's and SciPy's algorithms).

A case file says which analysis it is (``analysis``; absent for pooling).
A test module takes the cases of a kind with :func:`cases` (``cases("egger")``);
``tests/test_validation_grid.py`` checks that every kind in the suite is
taken by some test module.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

VALIDATION = Path(__file__).parent / "validation"
METAFOR = VALIDATION / "metafor"
METAFOR_DEFAULTS = VALIDATION / "metafor-defaults"
REVMAN5 = VALIDATION / "revman5"

REL, ABS = 1e-6, 1e-9
#: I² (%) near 0: a τ² at the boundary is known only to metafor's iteration
#: threshold (1e-10 absolute), which I² = 100·τ²/(τ² + ṽ) magnifies by 100/ṽ.
ABS_I2 = 1e-7
REL_TAU2_CI = 1e-4
REL_GLMM = 1e-4
P_REL, P_ABS = 1e-6, 1e-12
META_KEYS = ("case", "data", "generated_with", "analysis", "convention", "common_method")


def load(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def cases(kind: str | None, folder: Path = METAFOR) -> list[Path]:
    """Case files of one analysis kind (``None``: pooling cases)."""
    return [p for p in sorted(folder.glob("*.json")) if load(p).get("analysis") == kind]


def kinds(folder: Path = METAFOR) -> set[str]:
    return {load(p).get("analysis") for p in folder.glob("*.json")} - {None}


def close(got, want, rel=REL, abs_=ABS) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return got == want
    return got is not None and math.isclose(got, want, rel_tol=rel, abs_tol=abs_)


def compare(got, want, where: str, errors: list[str], rel: float = REL, tau2_ci_rel: float = REL) -> None:
    """Append to ``errors`` every field of ``want`` that ``got`` does not match."""
    for key, w in want.items():
        g = got.get(key) if isinstance(got, dict) else None
        here = f"{where}.{key}"
        if isinstance(w, dict):
            if not isinstance(g, dict):
                errors.append(f"{here}: missing")
            else:
                compare(g, w, here, errors, rel, tau2_ci_rel)
        elif isinstance(w, list):
            if g is None or len(g) != len(w):
                errors.append(f"{here}: got {g}, want {w}")
                continue
            for i, (gi, wi) in enumerate(zip(g, w)):
                if isinstance(wi, dict):
                    compare(gi, wi, f"{here}[{i}]", errors, rel, tau2_ci_rel)
                elif isinstance(wi, list):
                    if gi != wi:
                        errors.append(f"{here}[{i}]: got {gi!r}, want {wi!r}")
                elif isinstance(wi, str):
                    if gi != wi:
                        errors.append(f"{here}[{i}]: got {gi!r}, want {wi!r}")
                elif key == "p" or key.endswith("_p"):
                    if not close(gi, wi, max(rel, P_REL), P_ABS):
                        errors.append(f"{here}[{i}]: got {gi!r}, want {wi!r}")
                elif not close(gi, wi, tau2_ci_rel if key == "tau2_ci" else rel, ABS):
                    errors.append(f"{here}[{i}]: got {gi!r}, want {wi!r}")
        elif isinstance(w, str) or w is None:
            if g != w:
                errors.append(f"{here}: got {g!r}, want {w!r}")
        elif key == "p" or key.endswith("_p"):
            if not close(g, w, max(rel, P_REL), P_ABS):
                errors.append(f"{here}: got {g!r}, want {w!r}")
        elif not close(g, w, rel, ABS_I2 if key == "i2" else ABS):
            errors.append(f"{here}: got {g!r}, want {w!r}")


def check(case: dict, got: dict, rel: float = REL, tau2_ci_rel: float = REL) -> None:
    """Assert that ``got`` (a command's JSON) matches every reference field of ``case``."""
    want = {k: v for k, v in case.items() if k not in META_KEYS}
    if "test" in want:
        want["test"] = {"knha": "hk"}.get(case["test"], case["test"])
    errors: list[str] = []
    compare(got, want, case["case"], errors, rel, tau2_ci_rel)
    assert not errors, "\n".join(errors)
