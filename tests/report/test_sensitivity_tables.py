"""Sensitivity results show themselves as the command prints them
(``to_text``/``to_html`` registered per result type)."""
from __future__ import annotations

import warnings

import pytest

import metail2
from metail2.cli import main
from tests.validation_support import METAFOR


@pytest.fixture(scope="module")
def bcg():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return metail2.pool(METAFOR / "bcg.csv", "RR")


@pytest.mark.parametrize("verb, flag", [("leave1out", "--leave-one-out"), ("influence", "--influence")])
def test_str_is_the_command_s_table(bcg, capsys, verb, flag):
    result = getattr(metail2, verb)(bcg)
    assert main(["sensitivity", str(METAFOR / "bcg.csv"), "--measure", "RR", flag]) == 0
    printed = capsys.readouterr().out.strip()
    assert str(result) == printed


def test_notebook_display_is_escaped_html(bcg):
    html = metail2.influence(bcg)._repr_html_()
    assert html.startswith("<pre class='metail2-result'>") and "Ferguson &amp; Simes 1949" in html
