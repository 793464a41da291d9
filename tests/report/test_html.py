"""The HTML report: one self-contained, deterministic page whose every study
row links to its sheet line and PubMed/DOI record, whose every pooled number
names the studies it pooled, and in which sheet text is only ever text."""
from __future__ import annotations

import hashlib
import html as htmlmod
import re
from html.parser import HTMLParser
from types import MappingProxyType

import pytest

from metail2.cli import main
from metail2.cli.report import report
from metail2.report.html import inline_svg
from metail2.report.sections import record_links
from metail2.sheets import Row

from .conftest import BCG, IL2, PMIDS, XSS


class Page(HTMLParser):
    """Every element's tag, attributes and the text directly inside it."""

    def __init__(self, text):
        super().__init__()
        self.elements, self.stack, self.text = [], [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(el)
        if tag not in ("meta", "br", "img", "link", "input", "path", "use", "rect", "line"):
            self.stack.append(el)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        self.text.append(data)
        for el in self.stack:
            el["text"] += data

    def find(self, tag, **attrs):
        return [e for e in self.elements if e["tag"] == tag and all(e["attrs"].get(k) == v for k, v in attrs.items())]


@pytest.fixture(scope="module")
def page(hostile_report):
    return hostile_report.read_text(encoding="utf-8")


def test_sheet_text_is_never_markup(page):
    assert "<script" not in page.lower()
    assert htmlmod.escape(XSS) in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    p = Page(page)
    assert not p.find("script") and not p.find("b")
    assert XSS in "".join(p.text)


def test_no_external_assets_and_no_script(page):
    p = Page(page)
    for e in p.elements:
        assert "src" not in e["attrs"], e
        if e["tag"] != "a":
            href = e["attrs"].get("href") or e["attrs"].get("xlink:href") or ""
            assert not href or href.startswith("#"), e
    assert not p.find("link") and not p.find("img") and not p.find("iframe")
    assert not re.search(r"url\((?!#)", page) and "@import" not in page
    csp = [e for e in p.find("meta") if e["attrs"].get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]["attrs"]["content"]


def test_every_study_row_links_to_its_sheet_line_and_record(page, hostile_sheet):
    p = Page(page)
    rows = [e for e in p.find("tr") if (e["attrs"].get("id") or "").startswith("study-")]
    assert len(rows) == 7
    lines = {e["attrs"]["id"] for e in rows}
    assert lines == {f"study-{n}" for n in range(2, 9)}
    sheet_links = [e["attrs"]["href"] for e in p.find("a") if e["attrs"]["href"].startswith("../")]
    assert {h.rsplit("#L", 1)[1] for h in sheet_links} >= {str(n) for n in range(2, 9)}
    assert all(h.split("#")[0].endswith("/sheet.csv") for h in sheet_links)
    pubmed = {e["attrs"]["href"] for e in p.find("a") if "pubmed.ncbi.nlm.nih.gov" in e["attrs"]["href"]}
    assert pubmed == {f"https://pubmed.ncbi.nlm.nih.gov/{x}/" for x in PMIDS}
    dois = {e["attrs"]["href"] for e in p.find("a") if e["attrs"]["href"].startswith("https://doi.org/")}
    assert dois == {"https://doi.org/10.1000/xyz(1)", "https://doi.org/10.1016/s0753-3322(98)80027-9"}


def test_every_pooled_number_names_its_studies(page):
    p = Page(page)
    table = next(e for e in p.find("div") if e["attrs"].get("id") == "table-pooled")
    assert "Overall" in table["text"]
    cells = [e for e in p.find("td") if e["attrs"].get("data-pooled")]
    overall = [c for c in cells if c["attrs"]["data-pooled"].count(";") == 5]  # the six pooled studies
    assert overall and all(XSS in c["attrs"]["data-pooled"] for c in overall)
    systemic = [c["attrs"]["data-pooled"] for c in cells if c["attrs"]["data-pooled"].startswith("Pooled: " + XSS)]
    assert any(s == f'Pooled: {XSS}; Quote "&" 2001; Lee <b>bold</b> 2007' for s in systemic)
    # the studies column links to each study's row
    links = [e["attrs"]["href"] for e in p.find("a") if e["attrs"]["href"].startswith("#study-")]
    assert {"#study-2", "#study-3", "#study-4", "#study-5", "#study-6", "#study-8"} <= set(links)


def test_sections_in_prisma_order_with_counts(page):
    p = Page(page)
    order = [e["attrs"]["id"] for e in p.find("section")]
    assert order == ["prisma", "studies", "check", "effects", "pooled", "heterogeneity", "sensitivity",
                     "small_study", "rob", "methods", "reproducibility"]
    prisma = next(e for e in p.find("div") if e["attrs"].get("id") == "table-prisma")["text"]
    assert "Records identified, total4" in prisma.replace("\n", "") and "no response data" in prisma
    assert "Studies included in review2" in prisma.replace("\n", "")
    check = next(e for e in p.find("div") if e["attrs"].get("id") == "table-check")["text"]
    assert "No data 2010" in check and "events and total are empty" in check
    rob = next(e for e in p.find("div") if e["attrs"].get("id") == "table-rob")
    assert "Risk of bias (RoB 2)" in rob["text"]
    assert [e["attrs"]["class"] for e in p.find("td") if e["attrs"].get("class", "").startswith("rob-")][:6] == [
        "rob-low", "rob-low", "rob-some", "rob-low", "rob-low", "rob-some"]


def test_figures_inline_svg(page):
    p = Page(page)
    figs = {e["attrs"]["id"] for e in p.find("figure")}
    assert {"figure-forest", "figure-funnel"} <= figs
    assert len(p.find("svg")) >= 2
    ids = [e["attrs"]["id"] for e in p.elements if "id" in e["attrs"]]
    assert len(ids) == len(set(ids)), "an id is used twice"


def test_methods_and_reproducibility(page, hostile_sheet, store):
    p = Page(page)
    methods = next(e for e in p.find("p") if e["attrs"].get("class") == "methods")["text"]
    for words in ("restricted maximum likelihood (REML)", "Q-profile", "Wald z", "prediction intervals",
                  "“route”", "k = 6 < 10", "metail2 0.", "NumPy", "SciPy"):
        assert words in methods, words
    digest = hashlib.sha256(hostile_sheet.read_bytes()).hexdigest()
    assert digest in page
    repro = next(e for e in p.find("section") if e["attrs"]["id"] == "reproducibility")["text"]
    assert f"metail2 report {hostile_sheet} --measure PLO --method REML --test z --by route --db {store}" in repro
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", page), "no date without --stamp"


def test_two_runs_give_identical_bytes(tmp_path):
    out = tmp_path / "r.html"
    first = report(str(IL2), "PLO", by="route", output=str(out))
    assert report(str(IL2), "PLO", by="route", output=str(out)) == first
    assert out.read_text(encoding="utf-8") == first


def test_stamp_dates_the_report(tmp_path):
    import datetime as dt

    text = report(str(IL2), "PLO", stamp=True)
    assert dt.date.today().isoformat() in text and "--stamp" in text


def test_metafor_sheet_with_moderator(tmp_path):
    out = tmp_path / "bcg.html"
    assert main(["report", str(BCG), "--measure", "RR", "--by", "allocation", "--mods", "ablat", "-o", str(out)]) == 0
    p = Page(out.read_text(encoding="utf-8"))
    assert p.find("section", id="metareg") and p.find("figure", id="figure-bubble")
    assert "k = 13" not in next(e for e in p.find("p") if e["attrs"].get("class") == "methods")["text"]
    assert not p.find("section", id="rob")
    assert "No records store was given" in "".join(p.text)


def test_usage_errors(tmp_path, capsys):
    assert main(["report", str(IL2), "--measure", "PLO", "-o", str(tmp_path / "r.txt")]) == 2
    assert ".html or .docx" in capsys.readouterr().err
    # a missing store is a store problem, exit 3, as for every command (the store's own refusal)
    assert main(["report", str(IL2), "--measure", "PLO", "--db", str(tmp_path / "none.sqlite"),
                 "-o", str(tmp_path / "r.html")]) == 3
    assert "no records store" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "none.sqlite").exists()


def test_record_links_only_for_wellformed_identifiers():
    row = lambda **c: Row(2, MappingProxyType(c))  # noqa: E731
    assert record_links(row(pmid="javascript:alert(1)", doi="javascript:alert(1)")) == ()
    assert record_links(row(pmid="12345", doi="https://doi.org/10.1000/a b")) == record_links(row(pmid="12345"))
    links = record_links(row(pmid="12345", doi="doi:10.1000/x\"y"))
    assert [lk.href for lk in links] == ["https://pubmed.ncbi.nlm.nih.gov/12345/", "https://doi.org/10.1000/x%22y"]


@pytest.mark.parametrize("bad", ['<svg><script>alert(1)</script></svg>', '<svg onload="x()"></svg>',
                                 '<svg><a href="https://example.org/">x</a></svg>',
                                 '<svg><image xlink:href="http://example.org/x.png"/></svg>'])
def test_inline_svg_refuses_scripts_and_external_links(bad):
    with pytest.raises(ValueError):
        inline_svg(bad, "f")


def test_inline_svg_keeps_ids_unique():
    s = inline_svg("""<svg><g id='ci:Quote "&amp;"'></g><g id="a"></g><g id="a"></g></svg>""", "f")
    assert """id='f-ci:Quote "&amp;"'""" in s and 'id="f-a"' in s and 'id="f-a-2"' in s


def test_inline_svg_prefixes_ids():
    s = inline_svg('<?xml version="1.0"?><!DOCTYPE svg><svg><defs><path id="m1"/></defs>'
                   '<use xlink:href="#m1"/><g clip-path="url(#c2)" id="c2"></g></svg>', "fig-x", "A <b>")
    assert 'id="fig-x-m1"' in s and 'href="#fig-x-m1"' in s and "url(#fig-x-c2)" in s and 'id="fig-x-c2"' in s
    assert s.startswith('<svg role="img" aria-label="A &lt;b&gt;"')

