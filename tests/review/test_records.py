"""The Record value and the keys that find duplicates."""
from __future__ import annotations

from metail2.review.records import Record, normalize_doi, title_key, year_in


def test_normalize_doi_drops_resolver_prefixes_and_case():
    assert normalize_doi("https://doi.org/10.1000/ABC") == "10.1000/abc"
    assert normalize_doi("http://dx.doi.org/10.1/x") == "10.1/x"
    assert normalize_doi(" doi: 10.1/X ") == "10.1/x"
    assert normalize_doi("PMC5442267") is None and normalize_doi("") is None and normalize_doi(None) is None


def test_title_key_ignores_accents_case_punctuation_and_spacing():
    assert title_key("Ünïcode: Title!", 2000, "Müller A") == "unicode title|2000|muller"
    assert title_key("IL-2  and 5-FU.", 1999, "Okuno K") == title_key("il 2 and 5 fu", 1999, "Okuno KJ")
    assert title_key("", 1999, "Okuno K") == ""  # no title: no key


def test_year_in_free_text():
    assert year_in("1998 Dec-1999 Jan") == 1998 and year_in("2001 Spring") == 2001
    assert year_in("no year") is None and year_in("") is None


def test_to_json_leaves_out_raw_text_and_uses_lists():
    r = Record(pmid="1", title="T", authors=("A B",), abstract_sections=(("L", "x"),), raw="<x/>")
    d = r.to_json()
    assert d["authors"] == ["A B"] and d["mesh_terms"] == []
    assert not {"raw", "raw_format", "abstract_sections"} & set(d)
