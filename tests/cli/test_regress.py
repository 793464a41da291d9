"""``metail2 regress``: JSON, text, permutation tests with their seed, the
bubble plot, and one clear line per bad input (exit 2, no traceback)."""
from __future__ import annotations

import json

import pytest

from metail2.cli import main
from tests.validation_support import METAFOR

BCG = str(METAFOR / "bcg.csv")


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_fields(capsys):
    code, out, err = run(["regress", BCG, "--measure", "RR", "--mods", "ablat", "allocation", "--test", "hk",
                          "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["analysis"] == "meta-regression" and d["measure"] == "RR" and d["method"] == "REML"
    assert d["test"] == "hk" and d["convention"] == "metail2" and d["mods"] == ["ablat", "allocation"]
    assert [c["name"] for c in d["coefficients"]] == ["intrcpt", "ablat", "allocationrandom", "allocationsystematic"]
    assert set(d["coefficients"][0]) == {"name", "estimate", "se", "stat", "p", "ci_lower", "ci_upper"}
    assert {"tau2", "tau2_ci", "i2", "h2", "r2", "qm", "qm_df", "qm_df2", "qm_p", "qe", "qe_df", "qe_p", "k",
            "model_matrix", "studies", "excluded"} <= set(d)
    assert (d["qm_df"], d["qm_df2"], d["qe_df"], d["k"]) == (3, 9, 9, 13)
    assert d["studies"][0]["mods"] == {"ablat": 44.0, "allocation": "random"}
    assert "permutation" not in d


def test_text_output(capsys):
    code, out, err = run(["regress", BCG, "--measure", "RR", "--mods", "ablat"], capsys)
    assert code == 0 and "Mixed-effects meta-regression of RR" in out and "QM(df = 1)" in out


def test_permutation_test_records_its_seed_and_is_reproducible(capsys):
    argv = ["regress", BCG, "--measure", "RR", "--mods", "ablat", "--method", "DL", "--permutations", "100",
            "--seed", "42", "--json"]
    first = json.loads(run(argv, capsys)[1])["permutation"]
    second = json.loads(run(argv, capsys)[1])["permutation"]
    assert first == second
    assert first["seed"] == 42 and first["exact"] is False and first["iterations"] == 100
    assert [c["name"] for c in first["coefficients"]] == ["intrcpt", "ablat"]
    drawn = json.loads(run(argv[:-3] + ["--json"], capsys)[1])["permutation"]
    assert isinstance(drawn["seed"], int)
    code, out, err = run(["regress", BCG, "--measure", "RR", "--mods", "ablat", "--permutations", "100"], capsys)
    assert code == 0 and "Permutation test (100 random permutations" in out


def test_small_permutation_sets_are_exact(write_sheet, capsys):
    rows = [{"study_id": f"S{i}", "events": 3 + 2 * i, "total": 40, "arm": "a" if i < 3 else "b"} for i in range(6)]
    code, out, err = run(["regress", str(write_sheet(rows)), "--measure", "PLO", "--mods", "arm",
                          "--permutations", "exact", "--json"], capsys)
    assert code == 0, err
    perm = json.loads(out)["permutation"]
    assert perm["exact"] is True and perm["iterations"] == 20 and perm["seed"] is None  # 6!/(3!3!)
    assert "k = 6 < 10" not in err  # the k < 10 caveat is the small-study tests' own


def test_bubble_plot_file(tmp_path, capsys):
    png, svg = tmp_path / "b.png", tmp_path / "fig" / "b.svg"
    code, out, err = run(["regress", BCG, "--measure", "RR", "--mods", "ablat", "allocation", "-o", str(png),
                          "-o", str(svg), "--plot-mod", "allocation", "--json"], capsys)
    assert code == 0, err
    assert png.stat().st_size > 0 and "<svg" in svg.read_text()
    assert json.loads(out)["analysis"] == "meta-regression" and f"wrote {png}" in err


@pytest.mark.parametrize("args, message", [
    (["--mods", "latitude"], "latitude: moderator column 'latitude' is not in the sheet"),
    (["--mods", "ablat", "ablat"], "ablat: moderator 'ablat' is given twice"),
    (["--mods", "ablat", "--seed", "3"], "--seed applies to a random permutation test"),
    (["--mods", "ablat", "--permutations", "exact"], "an exact test needs"),
    (["--mods", "ablat", "-o", "x.gif"], "x.gif: use a .png, .svg or .pdf file name"),
    (["--mods", "ablat", "--level", "95"], "level must lie in (0, 1)"),
    (["--mods", "ablat", "--plot-mod", "year", "-o", "{tmp}/x.png"], "'year' is not a moderator of the model"),
])
def test_bad_input_is_one_clear_error(args, message, capsys, tmp_path):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, out, err = run(["regress", BCG, "--measure", "RR", *args], capsys)
    assert code == 2 and out == ""
    assert err.startswith("metail2: error: ") and message in err and "Traceback" not in err


def test_constant_and_collinear_moderators_and_too_few_studies(write_sheet, capsys):
    rows = [{"study_id": f"S{i}", "events": 2 + i, "total": 30, "dose": str(i), "dose2": str(2 * i + 1),
             "same": "5", "group": f"g{i}", "missing": "" if i < 2 else str(i)} for i in range(5)]
    path = str(write_sheet(rows))
    for mods, message in [(["same"], "same: moderator 'same' is constant (5)"),
                          (["dose", "dose2"], "dose2: coefficient 'dose2' of moderator 'dose2' is a linear combination"),
                          (["group"], "too few for 5 coefficients"),
                          (["missing", "dose"], "3 studies with every moderator reported are too few")]:
        code, out, err = run(["regress", path, "--measure", "PLO", "--mods", *mods], capsys)
        assert code == 2 and message in err and "Traceback" not in err, err
