"""The schema, and the codebook generated from it."""
from __future__ import annotations

import pytest

from metail2.sheets.schema import BY_NAME, check_cell, codebook_markdown, parse_number

from tests.conftest import ROOT


def test_codebook_in_extraction_readme_is_the_generated_one():
    text = (ROOT / "extraction" / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- codebook:start -->\n")[1].split("<!-- codebook:end -->")[0]
    assert block == codebook_markdown(), "run: metail2 sheet codebook, and paste it between the markers"


@pytest.mark.parametrize("column, text, message", [
    ("year", "1850.5", "must be a whole number"),
    ("year", "2999", "out of range"),
    ("pmid", "PMID:123", "malformed PMID"),
    ("pmid", "0123", "malformed PMID"),
    ("doi", "https://doi.org/10.1000/xyz", "without https://doi.org/"),
    ("doi", "doi 10.1000", "malformed DOI"),
    ("route", "intra-arterial", "is not one of: locoregional, systemic, not reported"),
    ("total", "0", "must be > 0"),
    ("events", "-1", "must be >= 0"),
    ("exp_sd", "-0.5", "must be >= 0"),
    ("reported_percent", "120", "must be <= 100"),
    ("p_value", "0", "p must be in (0, 1]"),
    ("count_basis", "guessed", "must start with one of"),
    ("source_url", "www.example.org", "not an http(s) URL"),
    ("total", "1,200", "thousands separator"),
])
def test_cell_errors(column, text, message):
    found = check_cell(BY_NAME[column], text)
    assert any(s == "error" and message in m for s, m in found), found


def test_whitespace_is_a_warning_not_a_change():
    assert check_cell(BY_NAME["events"], " 12 ") == [("warning", "stray whitespace around the value")]


def test_valid_cells_pass():
    for col, text in [("year", "1998"), ("pmid", "9742523"), ("doi", "10.1016/s0753-3322(98)80027-9"),
                      ("route", "systemic"), ("count_basis", "derived from percentage (50% of 12)"),
                      ("events", "NA"), ("total", "")]:
        assert check_cell(BY_NAME[col], text) == []


def test_conflict_marker_is_named():
    with pytest.raises(ValueError, match="unresolved reconciliation conflict"):
        parse_number("CONFLICT: A=19 | B=18")


# ------------------------------------------------------------------ the number grammar

@pytest.mark.parametrize("text, value", [
    ("12", 12.0), ("-1.5", -1.5), ("+3", 3.0), (".5", 0.5), ("5.", 5.0), ("1e-5", 1e-5), ("2.5E+3", 2500.0),
    (" 12 ", 12.0), ("", None), ("NA", None), ("n/a", None),
])
def test_plain_decimal_numbers_are_read(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text, hint", [
    ("1_2", "digit separator"),          # Python's float reads this as 12
    ("１２", "non-ASCII digits"),         # ... and this as 12 (full-width digits)
    ("٣", "non-ASCII digits"),           # ... and this as 3 (Arabic-Indic)
    ("inf", "not finite"), ("-Infinity", "not finite"), ("nan", "write NA"), ("NaN", "write NA"),
    ("0x10", "hexadecimal"), ("1,5", "decimal comma"), ("1,200", "thousands separator"),
    ("1 200", "digit separator"), ("\u22121.5", "typographic minus"), ("<0.001", "inequality"),
    ("12%", "percentage"), ("1.2.3", ""), ("12abc", ""), ("1e400", "too large"),
])
def test_anything_else_python_would_take_or_guess_is_refused(text, hint):
    with pytest.raises(ValueError, match="not a number|too large") as info:
        parse_number(text)
    assert hint in str(info.value)


@pytest.mark.parametrize("column, text, message", [
    ("total", "1e2", "without an exponent"), ("year", "1.998e3", "without an exponent"),
    ("events", "1_2", "is not a number"), ("estimate", "nan", "is not a number"),
    ("author", "CONFLICT: A=Okuno | B=Okuno K", "unresolved reconciliation conflict"),
    ("source_note", "a\x07b", "control character U+0007"),
    ("source_note", "x" * 32_768, "more than a spreadsheet cell holds"),
])
def test_cell_rules_beyond_the_grammar(column, text, message):
    found = check_cell(BY_NAME[column], text)
    assert any(s == "error" and message in m for s, m in found), found


def test_exponents_are_fine_where_the_column_is_not_a_count():
    assert check_cell(BY_NAME["p_value"], "1e-5") == [] and check_cell(BY_NAME["se"], "2.5E-2") == []


def test_a_formula_in_a_text_cell_is_a_warning_a_number_is_not():
    found = check_cell(BY_NAME["route_detail"], "=HYPERLINK(\"http://evil\",\"x\")")
    assert found and found[0][0] == "warning" and "read it as a formula" in found[0][1]
    assert check_cell(BY_NAME["co_cytokine"], "-") == [] and check_cell(BY_NAME["estimate"], "-1.5") == []


NUMBERS = ("study_id,events,total,estimate,se\n"
           "a,1_2,20,,\n"
           "b,3,１２,,\n"
           "c,,,inf,0.1\n"
           "d,,,0.5,nan\n"
           "e,,,0x10,0.2\n"
           "f,4,1e2,,\n"
           "g,4,20,,\n")


def test_every_numeric_cell_follows_the_grammar_in_check_and_pool(tmp_path, capsys):
    from metail2.cli import main

    p = tmp_path / "n.csv"
    p.write_text(NUMBERS, encoding="utf-8")
    assert main(["sheet", "check", str(p)]) == 2
    out = capsys.readouterr().out
    for where in ("n.csv:2: a: events: '1_2' is not a number", "n.csv:3: b: total: '１２' is not a number",
                  "n.csv:4: c: estimate: 'inf' is not a number", "n.csv:5: d: se: 'nan' is not a number",
                  "n.csv:6: e: estimate: '0x10' is not a number", "n.csv:7: f: total: must be a whole number"):
        assert where in out, where
    assert main(["pool", str(p), "--measure", "PLO"]) == 2  # pooling runs the same check
    err = capsys.readouterr().err
    assert "n.csv:2: a: events: '1_2' is not a number" in err
