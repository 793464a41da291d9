"""Importing record files into the store, and exporting the unique records."""
from __future__ import annotations

import json

from metail2.cli import main
from metail2.review import file_format, import_file, open_store

from tests.conftest import ROOT

NCBI = ROOT / "tests" / "fixtures" / "ncbi"


def test_file_format_from_the_content(tmp_path):
    assert [file_format(NCBI / n) for n in ("pubmed1.xml", "pubmed_result2.txt")] == ["pubmed-xml", "medline"]
    ris = tmp_path / "x.txt"
    ris.write_text("Provider: a database\n\nTY  - JOUR\nTI  - T\nER  - \n")
    assert file_format(ris) == "ris"


def test_an_import_is_one_logged_search_and_a_reimport_is_recognised(tmp_path):
    with open_store(tmp_path / "s.sqlite", create=True) as s:
        done = import_file(s, str(NCBI / "pubmed_result2.txt"))
        again = import_file(s, str(NCBI / "pubmed_result2.txt"))
        (log,) = s.searches()
    assert done.format == "medline" and done.count("new") == 4 and done.issues == () and done.already is None
    assert (log.source, log.query, log.database, log.count, log.status) == \
        ("file", str(NCBI / "pubmed_result2.txt"), "medline", 4, "complete")
    assert again.already == log and again.search_id == log.id and again.total == 0
    assert len(log.content_sha256) == 64
def test_export_jsonl_csv_ris(tmp_path, capsys):
    db = str(tmp_path / "s.sqlite")
    assert main(["records", "import", str(NCBI / "pubmed4.xml"), str(NCBI / "pubmed1.xml"), "--db", db]) == 0
    capsys.readouterr()
    assert main(["records", "export", "--db", db, "--format", "jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    r = next(x for x in rows if x["pmid"] == "27797938")
    assert set(r) >= {"pmid", "doi", "pmcid", "title", "abstract", "authors", "journal", "year", "mesh_terms",
                      "publication_types", "language"}
    assert isinstance(r["pmid"], str) and isinstance(r["year"], int) and r["authors"][0] == "Bao Y"
    out = tmp_path / "x.ris"
    assert main(["records", "export", "--db", db, "--format", "ris", "-o", str(out)]) == 0
    text = out.read_text()
    assert "DO  - 10.1136/gutjnl-2016-312510" in text and "AN  - 27797938" in text
    assert main(["records", "export", "--db", db, "--format", "csv", "-o", str(tmp_path / "x.csv")]) == 0
    # the RIS export imports back as the same records (linked as already stored by DOI/title)
    assert main(["records", "import", str(out), "--db", db]) == 0
    assert "3 records (0 new, 0 duplicates linked, 3 already stored)" in capsys.readouterr().out


def test_import_reports_a_broken_file_and_keeps_the_good_ones(tmp_path, capsys):
    db = str(tmp_path / "s.sqlite")
    cut = tmp_path / "cut.xml"
    data = (NCBI / "pubmed2.xml").read_bytes()
    cut.write_bytes(data[: data.index(b"</PubmedArticle>") + 100])
    code = main(["records", "import", str(cut), str(NCBI / "pubmed3.html"), str(tmp_path / "missing.ris"),
                 "--db", db])
    cap = capsys.readouterr()
    assert code == 2
    assert f"{cut}: 1 records (1 new, 0 duplicates linked, 0 already stored); 1 skipped" in cap.out
    assert "after PMID 11748933" in cap.err and "not XML" in cap.err
    assert f"metail2: error: {tmp_path / 'missing.ris'}: no such file" in cap.err
    with open_store(db) as s:
        (log,) = s.searches()  # the HTML page stored nothing and logged nothing
        assert log.count == 1 and "after PMID 11748933" in log.message
