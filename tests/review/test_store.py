"""The records store: schema, transactions, de-duplication, exports."""
from __future__ import annotations

import json
import sqlite3

import pytest

from metail2.cli import main
from metail2.review.records import Record
from metail2.review.store import SCHEMA_VERSION, Store, title_key

from tests.conftest import ROOT

NCBI = ROOT / "tests" / "fixtures" / "ncbi"


def test_new_store_has_schema_version_and_tables(tmp_path):
    with Store(str(tmp_path / "s.sqlite")) as s:
        assert s.schema_version == SCHEMA_VERSION
        tables = {r[0] for r in s.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"meta", "searches", "records", "search_records", "screening", "batches"} <= tables


def test_reopening_does_not_migrate_again(tmp_path):
    p = str(tmp_path / "s.sqlite")
    Store(p).close()
    with Store(p) as s:
        assert s.schema_version == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path):
    p = str(tmp_path / "s.sqlite")
    Store(p).close()
    con = sqlite3.connect(p)
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(RuntimeError, match="newer"):
        Store(p)


def test_a_failed_transaction_leaves_nothing(tmp_path):
    with Store(str(tmp_path / "s.sqlite")) as s:
        sid = s.start_search("file", "x", "ris", {}, None)

        def items():
            yield Record(pmid="1", title="one", raw="r1")
            raise OSError("disk gone (simulated)")

        with pytest.raises(OSError):
            s.add_records(sid, items())
        assert s.db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 0


def test_duplicates_by_pmid_doi_then_title_are_linked_and_counted(tmp_path):
    with Store(str(tmp_path / "s.sqlite")) as s:
        a = s.start_search("file", "a", "pubmed-xml", {}, None)
        b = s.start_search("file", "b", "ris", {}, None)
        s.add_records(a, [Record(pmid="1", title="IL-2 and 5-FU.", year=1999, authors=("Okuno K",),
                                 doi="10.1/X", raw="a1"),
                          Record(pmid="2", title="Another trial", year=2001, authors=("Heys SD",), raw="a2")])
        res = s.add_records(b, [Record(pmid="1", title="IL-2 and 5-FU", raw="b0"),
                                Record(pmid=None, title="Whatever", doi="https://doi.org/10.1/x", raw="b1"),
                                Record(pmid=None, title="ANOTHER  trial!", year=2001, authors=("Heys S",), raw="b2"),
                                Record(pmid=None, title="New one", year=2002, raw="b3")])
        assert [r.status for r in res] == ["existing", "duplicate", "duplicate", "new"]
        assert [r.reason for r in res][1:3] == ["same DOI", "same title, year and first author"]
        assert len(s.records()) == 3 and len(s.records(include_duplicates=True)) == 5
    assert title_key("Ünïcode: Title!", 2000, "Müller A") == "unicode title|2000|muller"


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
    code = main(["records", "import", str(cut), str(NCBI / "pubmed3.html"), "--db", db])
    cap = capsys.readouterr()
    assert code == 2
    assert f"{cut}: 1 records (1 new" in cap.out and "1 skipped" in cap.out
    assert "after PMID 11748933" in cap.err and "not XML" in cap.err
