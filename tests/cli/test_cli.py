"""The command line: output, exit codes, and one clear line per bad input."""
from __future__ import annotations

import json
import subprocess
import sys


from metail2.cli import main

from tests.conftest import ROOT

IL2 = str(ROOT / "extraction" / "il2_crc_response.csv")


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_pool_prints_table_excluded_rows_and_subgroup_test(capsys):
    code, out, err = run(["pool", IL2, "--measure", "PLO", "--by", "route"], capsys)
    assert code == 0
    assert "method REML · test z" in out
    assert "Test for subgroup differences (Q between subgroups): Q = 14.571, df = 1, p = 0.0001" in out
    assert "route = not reported (Lin 2009): an unknown route" in out
    assert "Excluded from pooling:" in out and "Heys 1995 (line 15)" in out


def test_json_matches_design_keys(capsys):
    code, out, err = run(["pool", IL2, "--measure", "PLO", "--by", "route", "--json"], capsys)
    d = json.loads(out)
    assert list(d) == ["measure", "method", "test", "convention", "studies", "excluded", "overall", "by",
                       "subgroup_tau2", "subgroups", "subgroup_test"]
    assert set(d["overall"]) == {"k", "estimate", "se", "ci_lower", "ci_upper", "stat", "p", "tau2", "tau2_ci",
                                 "i2", "i2_q", "h2", "q", "q_df", "q_p", "pi_lower", "pi_upper", "natural"}
    assert d["studies"][0]["source"] == {"file": IL2, "line": 2}
    assert "k = 1" in err  # warnings go to stderr with --json


def test_python_dash_m_prints_exactly_what_main_prints(capsys):
    argv = ["pool", IL2, "--measure", "PLO", "--by", "route", "--json"]
    _, out, _ = run(argv, capsys)
    proc = subprocess.run([sys.executable, "-m", "metail2", *argv], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0
    assert proc.stdout == out


BROKEN = [
    {"study_id": "ok", "exp_events": 4, "exp_total": 20, "ctrl_events": 8, "ctrl_total": 20},
    {"study_id": "zero total", "exp_events": 0, "exp_total": 0, "ctrl_events": 1, "ctrl_total": 10},
    {"study_id": "negative total", "exp_events": 1, "exp_total": -5, "ctrl_events": 1, "ctrl_total": 10},
    {"study_id": "events > total", "exp_events": 12, "exp_total": 10, "ctrl_events": 1, "ctrl_total": 10},
    {"study_id": "text", "exp_events": "four", "exp_total": 10, "ctrl_events": 1, "ctrl_total": 10},
    {"study_id": "thousands", "exp_events": 4, "exp_total": "1,200", "ctrl_events": 1, "ctrl_total": 10},
    {"study_id": "negative se", "estimate": 1.2, "se": -0.1},
    {"study_id": "ci reversed", "estimate": 1.2, "ci_lower": 2.0, "ci_upper": 1.0},
    {"study_id": "ci excludes estimate", "estimate": 3.0, "ci_lower": 1.0, "ci_upper": 2.0},
    {"study_id": "p above 1", "estimate": 1.2, "p_value": 1.5},
    {"study_id": "p zero", "estimate": 1.2, "p_value": 0},
    {"study_id": "ok", "exp_events": 4, "exp_total": 20, "ctrl_events": 8, "ctrl_total": 20},
    {"study_id": "fraction", "exp_events": 2.5, "exp_total": 20, "ctrl_events": 8, "ctrl_total": 20},
]
EXPECTED = [
    ("3", "zero total", "exp_total", "must be > 0 (is 0)"),
    ("4", "negative total", "exp_total", "must be > 0 (is -5)"),
    ("5", "events > total", "exp_events", "events (12) exceed exp_total (10)"),
    ("6", "text", "exp_events", "'four' is not a number"),
    ("7", "thousands", "exp_total", "thousands separator"),
    ("8", "negative se", "se", "must be > 0 (is -0.1)"),
    ("9", "ci reversed", "ci_lower", "must be below ci_upper"),
    ("10", "ci excludes estimate", "estimate", "lies outside its CI"),
    ("11", "p above 1", "p_value", "p must be in (0, 1]"),
    ("12", "p zero", "p_value", "p must be in (0, 1]"),
    ("13", "ok", "study_id", "duplicate study_id (first on line 2)"),
    ("14", "fraction", "exp_events", "must be a whole number"),
]


def test_broken_sheet_reports_every_problem_in_one_run(write_sheet, capsys):
    path = write_sheet(BROKEN)
    code, out, err = run(["pool", str(path), "--measure", "OR"], capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == len(EXPECTED)
    for line, (lineno, sid, col, msg) in zip(lines, EXPECTED):
        assert line.startswith(f"{path}:{lineno}: {sid}: {col}: "), line
        assert msg in line, line
    assert "Traceback" not in err


def test_missing_columns_for_measure(write_sheet, capsys):
    path = write_sheet([{"study_id": "a", "events": 1, "total": 5}])
    code, _, err = run(["pool", str(path), "--measure", "OR"], capsys)
    assert code == 2
    assert f"{path}:1: no input columns for measure OR: needs exp_events+exp_total+ctrl_events+ctrl_total" in err


def test_negative_sd(write_sheet, capsys):
    path = write_sheet([{"study_id": "a", "exp_mean": 1, "exp_sd": -2, "exp_total": 10,
                         "ctrl_mean": 0, "ctrl_sd": 1, "ctrl_total": 10}])
    code, _, err = run(["pool", str(path), "--measure", "MD"], capsys)
    assert code == 2 and f"{path}:2: a: exp_sd: must be >= 0 (is -2)" in err


def test_negative_variance(write_sheet, capsys):
    path = write_sheet([{"study_id": "a", "o_minus_e": 1, "variance": -2}])
    code, _, err = run(["pool", str(path), "--measure", "HR"], capsys)
    assert code == 2 and f"{path}:2: a: variance: must be > 0 (is -2)" in err


def test_no_usable_study(write_sheet, capsys):
    path = write_sheet([{"study_id": "a", "events": "", "total": 5}])
    code, _, err = run(["pool", str(path), "--measure", "PLO"], capsys)
    assert code == 2 and "no usable study for measure PLO (1 row(s) excluded" in err


def test_unknown_by_column(capsys):
    code, _, err = run(["pool", IL2, "--measure", "PLO", "--by", "nope"], capsys)
    assert code == 2 and "nope: --by column 'nope' is not in the sheet" in err


def test_missing_file_and_bad_usage(capsys):
    assert run(["pool", "no/such.csv", "--measure", "PLO"], capsys)[0] == 2
    code, _, err = run(["pool", IL2, "--measure", "XYZ"], capsys)
    assert code == 2 and "invalid choice" in err
    assert run(["pool", IL2, "--measure", "OR", "--method", "MH"], capsys)[0] == 2


def test_k1_pools_with_a_warning(write_sheet, capsys):
    path = write_sheet([{"study_id": "only", "events": 3, "total": 10}])
    code, out, err = run(["pool", str(path), "--measure", "PLO", "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["overall"]["k"] == 1 and d["overall"]["tau2"] == 0
    assert "k = 1" in err


def test_non_utf8_sheet(tmp_path, capsys):
    path = tmp_path / "latin1.csv"
    path.write_bytes("study_id,events,total\nM\xfcller,1,5\n".encode("latin-1"))
    code, _, err = run(["pool", str(path), "--measure", "PLO"], capsys)
    assert code == 2 and f"{path}:2: not valid UTF-8" in err


def test_a_sheet_with_several_outcomes_is_refused_until_one_is_chosen(write_sheet, capsys):
    """Issue 9.2: three outcomes of one study must not be pooled as three studies."""
    rows = [{"study_id": s, "outcome": o, "events": e, "total": 20}
            for s, e in (("A", 3), ("B", 5), ("C", 8)) for o in ("response", "toxicity")]
    path = str(write_sheet(rows))
    code, out, err = run(["pool", path, "--measure", "PLO", "--json"], capsys)
    assert code == 2 and "'response', 'toxicity'" in err and "--outcome" in err
    code, out, err = run(["pool", path, "--measure", "PLO", "--json", "--outcome", "response"], capsys)
    d = json.loads(out)
    assert code == 0 and d["overall"]["k"] == 3 and d["outcome"] == "response"
    code, out, err = run(["pool", path, "--measure", "PLO", "--outcome", "survival"], capsys)
    assert code == 2 and "no row has outcome = 'survival'" in err


def test_the_command_line_starts_without_heavy_imports():
    """Heavy imports load late: building the parser loads no SciPy, matplotlib,
    pandas, Jinja2, openpyxl or Bio (each command loads what it uses)."""
    import subprocess
    import sys

    code = ("import sys; import metail2.cli as c; c.build_parser(); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'scipy', 'matplotlib', 'pandas', 'jinja2', 'openpyxl', 'Bio', 'dask'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
