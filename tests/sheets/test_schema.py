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
