"""``--format docx``: the same tables and figures in a Word file, read back
with python-docx."""
from __future__ import annotations

import io
import zipfile

import pytest

from metail2.cli import main
from metail2.cli.report import report

from .conftest import IL2, XSS

docx = pytest.importorskip("docx")


@pytest.fixture(scope="module")
def word(hostile_sheet, store, tmp_path_factory):
    out = tmp_path_factory.mktemp("docx") / "report.docx"
    assert main(["report", str(hostile_sheet), "--measure", "PLO", "--by", "route", "--db", store, "-o", str(out)]) == 0
    return out


def test_reads_back_with_the_tables_and_figures(word):
    d = docx.Document(str(word))
    heads = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    for h in ("Identification and screening (PRISMA 2020)", "Included studies", "Pooled results", "Heterogeneity",
              "Sensitivity analyses", "Small-study effects", "Risk of bias", "Methods", "Reproducibility"):
        assert h in heads, h
    cells = [[c.text for c in row.cells] for t in d.tables for row in t.rows]
    flat = [x for row in cells for x in row]
    assert XSS in flat, "a study's name is text in Word too"
    overall = next(row for row in cells if row[0] == "Overall" and len(row) == 7)
    assert overall[1] == "6" and XSS in overall[6] and "Lee <b>bold</b> 2007" in overall[6]
    assert any(row[0] == "Studies included in review" and row[1] == "2" for row in cells)
    assert len(d.inline_shapes) >= 2, "forest and funnel plots"
    methods = d.paragraphs[[p.text for p in d.paragraphs].index("Methods") + 1].text
    assert "restricted maximum likelihood (REML)" in methods


def test_links_are_hyperlinks(word):
    with zipfile.ZipFile(word) as z:
        rels = z.read("word/_rels/document.xml.rels").decode()
    assert "https://pubmed.ncbi.nlm.nih.gov/11748933/" in rels and 'TargetMode="External"' in rels
    assert "javascript:" not in rels


def test_same_bytes_twice(tmp_path):
    a = report(str(IL2), "PLO", by="route", format="docx")
    b = report(str(IL2), "PLO", by="route", format="docx")
    assert isinstance(a, bytes) and a == b
    assert docx.Document(io.BytesIO(a)).core_properties.created.year == 2000
