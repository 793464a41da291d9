"""``metail2 sensitivity``: the contract (one JSON object per analysis), the
text output, the files written, and bad input (exit 2, one clear line, no
traceback)."""
from __future__ import annotations

import json

import pytest

from metail2.cli import main
from tests.validation_support import METAFOR

BCG = str(METAFOR / "bcg.csv")


def run(capsys, *argv):
    code = main(["sensitivity", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(("flags", "analysis", "fields"), [
    (["--leave-one-out"], "leave-one-out", ["omitted", "estimate", "se", "ci_lower", "ci_upper", "tau2", "i2", "q"]),
    (["--cumulative", "--order", "year"], "cumulative", ["added", "order", "estimate", "tau2", "i2", "q"]),
    (["--influence"], "influence", ["study_id", "rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat",
                                    "weight", "influential"]),
    (["--gosh"], "gosh", ["subsets", "included", "estimate", "tau2", "i2", "q", "summary"]),
    (["--permutation", "200", "--seed", "9"], "permutation", ["exact", "iterations", "stat", "p", "seed"]),
])
def test_json_contract(capsys, flags, analysis, fields):
    code, out, err = run(capsys, BCG, "--measure", "RR", *flags, "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["analysis"] == analysis and d["measure"] == "RR" and d["method"] == "REML" and d["test"] == "z"
    assert all(f in d for f in fields), [f for f in fields if f not in d]
    if analysis == "gosh":
        assert d["subsets"] == 8191 == len(d["included"]) and d["included"][0] == [0] and d["exact"]
    if analysis == "permutation":
        assert (d["exact"], d["iterations"], d["seed"]) == (False, 200, 9)


def test_gosh_summary_has_no_arrays(capsys):
    code, out, _ = run(capsys, BCG, "--measure", "RR", "--method", "FE", "--gosh", "--summary", "--json")
    d = json.loads(out)
    assert code == 0 and "included" not in d and set(d["summary"]) == {"estimate", "tau2", "i2", "q"}


@pytest.mark.parametrize("flags", [["--leave-one-out"], ["--cumulative"], ["--influence"], ["--gosh", "--summary"],
                                   ["--permutation"]])
def test_text_output(capsys, flags):
    code, out, err = run(capsys, BCG, "--measure", "RR", "--method", "DL", "--test", "hk", *flags)
    assert code == 0 and err == ""
    assert "RR, DL, hk test" in out.splitlines()[0]
    if flags[0] in ("--leave-one-out", "--cumulative"):
        assert "All studies" in out and "Comstock et al 1976" in out


def test_files(capsys, tmp_path):
    outs = [tmp_path / n for n in ("loo.json", "loo.csv", "loo.svg")]
    flags = [x for p in outs for x in ("-o", str(p))]
    code, _, err = run(capsys, BCG, "--measure", "RR", "--leave-one-out", *flags)
    assert code == 0, err
    assert json.loads(outs[0].read_text())["analysis"] == "leave-one-out"
    assert outs[1].read_text().splitlines()[0].startswith("omitted,k,estimate")
    assert "<svg" in outs[2].read_text()[:400] and "Omitting Aronson 1948" in outs[2].read_text()
    code, _, err = run(capsys, BCG, "--measure", "RR", "--influence", "--figure", "baujat", "-o", str(tmp_path / "b.png"))
    assert code == 0 and (tmp_path / "b.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(("argv", "message"), [
    (["--leave-one-out", "--order", "year"], "--order applies to --cumulative"),
    (["--influence", "--seed", "3"], "--seed applies to --gosh and --permutation"),
    (["--leave-one-out", "--summary"], "--subsets and --summary apply to --gosh"),
    (["--cumulative", "--order", "nope"], "'nope' is not in the sheet"),
    (["--leave-one-out", "-o", "x.txt"], "use a .png, .svg, .pdf, .json or .csv file name"),
    (["--leave-one-out", "--level", "2"], "--level must lie in (0, 1)"),
    (["--permutation", "1"], "at least 2 permutations"),
    (["--permutation", "many"], "expected 'exact' or a number"),
    (["--leave-one-out", "--influence"], "not allowed with argument"),
    ([], "one of the arguments"),
    (["--gosh", "--method", "MH"], "invalid choice"),
])
def test_bad_usage(capsys, argv, message):
    code, _, err = run(capsys, BCG, "--measure", "RR", *argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_bad_data(capsys, write_sheet):
    one = write_sheet([{"study_id": "a", "estimate": "1.2", "se": "0.2"}])
    code, _, err = run(capsys, str(one), "--measure", "OR", "--influence")
    assert code == 2 and "needs at least 2 studies" in err and err.startswith("metail2: error:")
    bad = write_sheet([{"study_id": "a", "estimate": "x", "se": "0.2"}], name="bad.csv")
    code, _, err = run(capsys, str(bad), "--measure", "OR", "--leave-one-out")
    assert code == 2 and "estimate" in err and "Traceback" not in err
    big = write_sheet([{"study_id": f"s{i}", "estimate": "1.2", "se": "0.2"} for i in range(26)], name="big.csv")
    code, _, err = run(capsys, str(big), "--measure", "OR", "--permutation", "exact")
    assert code == 2 and "give a number of random permutations" in err


def test_excluded_rows_are_named(capsys, write_sheet):
    sheet = write_sheet([{"study_id": "a", "estimate": "1.2", "se": "0.2"}, {"study_id": "b", "estimate": "0.8", "se": "0.3"},
                         {"study_id": "c", "estimate": "1.1", "se": "0.25"}, {"study_id": "d", "estimate": "", "se": ""}])
    code, out, _ = run(capsys, str(sheet), "--measure", "OR", "--leave-one-out", "--json")
    d = json.loads(out)
    assert code == 0 and d["omitted"] == ["a", "b", "c"] and d["excluded"][0]["study_id"] == "d"
