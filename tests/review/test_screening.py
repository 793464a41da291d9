"""Screening sheets, decisions, and which decision counts when reviewers disagree."""
from __future__ import annotations

import json

from metail2.cli import main
from metail2.review import open_store, settle
from metail2.review.records import Record
from metail2.review.store import Decision

from tests.conftest import ROOT
from tests.review.conftest import fill

NCBI = ROOT / "tests" / "fixtures" / "ncbi"


def test_bad_decisions_are_reported_and_nothing_stored(tmp_path, capsys):
    db = str(tmp_path / "s.sqlite")
    main(["records", "import", str(NCBI / "pubmed1.xml"), "--db", db])
    sheet = tmp_path / "ta.csv"
    main(["screen", "export", "--db", db, "--csv", str(sheet)])
    fill(sheet, sheet, {"12091962": ("perhaps", ""), "9997": ("include", "")})
    capsys.readouterr()
    assert main(["screen", "import", str(sheet), "--db", db, "--reviewer", "A"]) == 2
    assert f"{sheet}:2: 1: decision: 'perhaps' is not one of: include, exclude, maybe" in capsys.readouterr().err
    main(["prisma", "--db", db, "--json"])
    assert json.loads(capsys.readouterr().out)["screening_pending"] == 2


def test_xlsx_screening_sheet(tmp_path, capsys):
    from openpyxl import load_workbook

    db = str(tmp_path / "s.sqlite")
    main(["records", "import", str(NCBI / "pubmed1.xml"), "--db", db])
    x = tmp_path / "ta.xlsx"
    assert main(["screen", "export", "--db", db, "--xlsx", str(x)]) == 0
    wb = load_workbook(x)
    ws = wb.active
    ws["I2"], ws["I3"] = "include", "exclude"
    wb.save(x)
    assert main(["screen", "import", str(x), "--db", db, "--reviewer", "A"]) == 0
    assert "title-abstract decisions by A: 2 stored (2 new, 0 changed); 0 unchanged" in capsys.readouterr().out


def test_sheet_from_records_prefills_identity_columns(tmp_path, capsys):
    from metail2.sheets import check_sheet, read_sheet

    db = str(tmp_path / "s.sqlite")
    main(["records", "import", str(NCBI / "pubmed4.xml"), str(NCBI / "pubmed1.xml"), "--db", db])
    out = tmp_path / "sheet.csv"
    assert main(["sheet", "from-records", str(out), "--db", db, "--measure", "PLO", "--all"]) == 0
    s = read_sheet(out)
    rows = {r.study_id: r for r in s.rows}
    assert set(rows) == {"Bao 2017", "Olivero 1990", "Strekas 1976"}
    assert rows["Bao 2017"].cells["pmid"] == "27797938" and rows["Bao 2017"].cells["doi"] == "10.1136/gutjnl-2016-312510"
    assert rows["Bao 2017"].cells["author"].endswith("et al.")
    assert check_sheet(s).ok
    # without --all: only records included at full-text screening (none yet)
    out2 = tmp_path / "included.csv"
    assert main(["sheet", "from-records", str(out2), "--db", db, "--measure", "OR"]) == 0
    assert len(read_sheet(out2).rows) == 0


def d(reviewer, decision, reason="", stage="full-text"):
    return Decision(1, stage, reviewer, decision, reason, "2026-01-01T00:00:00+00:00")


def test_settle_consensus_then_agreement_else_conflict():
    assert settle([d("A", "exclude", "r"), d("consensus", "exclude", "s"), d("B", "include")]) == \
        settle([d("consensus", "exclude", "s")])
    assert settle([d("A", "exclude", "s"), d("consensus", "exclude", "s")]).reason == "s"
    assert settle([d("A", "include"), d("B", "include")]).decision == "include"
    assert settle([d("A", "include"), d("B", "exclude", "r")]) == settle([d("A", "maybe"), d("B", "include")])
    assert settle([d("A", "include"), d("B", "exclude", "r")]).about == "decision"
    # at full text the exclusion reason must agree too (PRISMA counts excluded reports by reason) ...
    s = settle([d("A", "exclude", "no response data"), d("B", "exclude", "not IL-2")])
    assert (s.decision, s.reason, s.about) == ("conflict", "", "reason")
    assert settle([d("A", "exclude", "no data"), d("B", "exclude", "no data")]).reason == "no data"
    # ... at title-abstract only the decision counts
    ta = settle([d("A", "exclude", "not CRC", "title-abstract"), d("B", "exclude", "animal", "title-abstract")])
    assert (ta.decision, ta.reason) == ("exclude", "")
    assert settle([d("A", "exclude", "x", "title-abstract")]).reason == "x"


def test_a_reason_conflict_is_listed_with_the_reasons(tmp_path, capsys):
    db = str(tmp_path / "s.sqlite")
    with open_store(db, create=True) as s:
        sid = s.start_search("file", "a", "pubmed-xml", {}, None)
        (rid,) = (r.record_id for r in s.add_records(sid, [Record(pmid="1", title="One", raw="1")]))
        s.save_decisions("title-abstract", "A", [(rid, "include", "")])
        s.save_decisions("full-text", "A", [(rid, "exclude", "no response data")])
        s.save_decisions("full-text", "B", [(rid, "exclude", "not IL-2")])
    assert main(["screen", "conflicts", "--db", db, "--stage", "full-text"]) == 1
    assert capsys.readouterr().out == (f"conflict: record {rid}: A=exclude (no response data), B=exclude (not IL-2)\n"
                                       "1 conflicts at full-text\n")
    assert main(["screen", "conflicts", "--db", db]) == 0
    assert capsys.readouterr().out == "0 conflicts at title-abstract\n"
