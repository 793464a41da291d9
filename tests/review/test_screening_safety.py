"""Screening sheets that cannot silently lose or overwrite a decision: the
sheet carries its stage; duplicate rows, a second sheet from the same
reviewer, reviewer names in another case and empty names are caught; the
count printed is what was stored; exclusion reasons compare ignoring case."""
from __future__ import annotations

import csv
import sqlite3

import pytest

from metail2.cli import main
from metail2.review import open_store, prisma_counts

from tests.conftest import ROOT
from tests.review.conftest import fill

NCBI = ROOT / "tests" / "fixtures" / "ncbi"
A, B, C, D = "12091962", "9997", "11748933", "11700088"  # PMIDs of pubmed1.xml and pubmed2.xml


@pytest.fixture
def review(tmp_path, capsys):
    db = str(tmp_path / "s.sqlite")
    assert main(["records", "import", str(NCBI / "pubmed1.xml"), str(NCBI / "pubmed2.xml"), "--db", db]) == 0
    capsys.readouterr()
    return db


def sheet(db, tmp_path, name, stage="title-abstract", **decisions):
    out = tmp_path / name
    assert main(["screen", "export", "--db", db, "--stage", stage, "--csv", str(out)]) == 0
    fill(out, out, decisions)
    return out


def rows(db) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT record_id, stage, reviewer, decision, reason FROM screening "
                           "ORDER BY stage, reviewer, record_id").fetchall()
    finally:
        con.close()


def imp(path, db, *extra, reviewer="A"):
    return main(["screen", "import", str(path), "--db", db, "--reviewer", reviewer, *extra])


def test_the_sheet_carries_its_stage(review, tmp_path, capsys):
    ta = sheet(review, tmp_path, "ta.csv", **{A: ("include", ""), B: ("include", "")})
    assert [r["stage"] for r in csv.DictReader(open(ta))] == ["title-abstract"] * 4
    assert imp(ta, review) == 0
    ft = sheet(review, tmp_path, "ft.csv", "full-text", **{A: ("exclude", "no response data")})
    capsys.readouterr()
    # a full-text sheet imported without --stage once overwrote title-abstract decisions
    assert imp(ft, review) == 0
    assert "full-text decisions by A: 1 stored" in capsys.readouterr().out
    assert [r[1:4] for r in rows(review)] == [("full-text", "A", "exclude"), ("title-abstract", "A", "include"),
                                              ("title-abstract", "A", "include")]
    before = rows(review)
    assert imp(ft, review, "--stage", "title-abstract") == 2
    assert capsys.readouterr().err == (f"metail2: error: {ft}: this is a full-text sheet (its stage column) but "
                                       "--stage title-abstract was given; nothing stored\n")
    old = tmp_path / "old.csv"  # a sheet exported before the stage column: --stage is needed
    with open(ft) as f, open(old, "w", newline="") as g:
        w = csv.writer(g)
        for r in csv.reader(f):
            w.writerow(r[:-1])
    assert imp(old, review) == 2 and "has no stage column" in capsys.readouterr().err
    assert rows(review) == before
    assert imp(old, review, "--stage", "full-text") == 0


def test_the_xlsx_sheet_carries_its_stage_and_its_cells_are_text(review, tmp_path, capsys):
    from openpyxl import load_workbook

    x = tmp_path / "ft.xlsx"
    assert main(["screen", "export", "--db", review, "--stage", "full-text", "--xlsx", str(x)]) == 0  # empty
    x = tmp_path / "ta.xlsx"
    assert main(["screen", "export", "--db", review, "--xlsx", str(x)]) == 0
    wb = load_workbook(x)
    ws = wb.active
    assert [c.value for c in ws[1]][-1] == "stage" and ws["L2"].value == "title-abstract"
    ws["I2"] = "include"
    wb.save(x)
    capsys.readouterr()
    assert imp(x, review, "--stage", "full-text") == 2
    assert "this is a title-abstract sheet" in capsys.readouterr().err
    assert imp(x, review) == 0 and [r[1] for r in rows(review)] == ["title-abstract"]


def test_a_record_on_two_rows_is_refused_naming_both_lines(review, tmp_path, capsys):
    ta = sheet(review, tmp_path, "ta.csv", **{A: ("include", "")})
    lines = open(ta).read().splitlines()
    open(ta, "w").write("\n".join(lines + [lines[1].replace(",include,", ",exclude,")]) + "\n")
    assert imp(ta, review) == 2
    rid = lines[1].split(",")[0]
    assert capsys.readouterr().err == (f"{ta}:6: {rid}: record_id: the same record as line 2: one row per record\n")
    assert rows(review) == []


def test_a_second_sheet_from_the_same_reviewer_lists_its_changes_and_needs_replace(review, tmp_path, capsys):
    first = sheet(review, tmp_path, "a1.csv", **{A: ("include", ""), B: ("exclude", "animal study")})
    assert imp(first, review, reviewer="Alice") == 0
    capsys.readouterr()
    second = sheet(review, tmp_path, "a2.csv", **{A: ("exclude", "not CRC"), B: ("exclude", "animal study"),
                                                  C: ("include", "")})
    before = rows(review)
    assert imp(second, review, reviewer=" alice ") == 2  # the same reviewer, whatever the case and spacing
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (f"metail2: error: {second}: Alice already has 2 title-abstract decisions stored (from an "
                      "earlier sheet); this sheet changes 1 of them:")
    assert err[1].endswith(": include -> exclude (not CRC)") and "--replace" in err[2]
    assert rows(review) == before
    assert imp(second, review, "--replace", reviewer="ALICE") == 0
    out = capsys.readouterr().out
    assert "title-abstract decisions by Alice: 2 stored (1 new, 1 changed); 1 unchanged; 1 rows left blank" in out
    after = rows(review)
    assert len(after) == 3 and {r[2] for r in after} == {"Alice"}
    assert sum(1 for r in after if r not in before) == 2  # the printed count is what was stored
    # a sheet that only adds decisions changes nothing stored: no --replace needed
    third = sheet(review, tmp_path, "a3.csv", **{D: ("maybe", "")})
    assert imp(third, review, reviewer="alice") == 0
    assert "1 stored (1 new, 0 changed); 0 unchanged; 3 rows left blank" in capsys.readouterr().out


def test_reviewer_names_consensus_in_any_case_and_no_empty_name(review, tmp_path, capsys):
    a = sheet(review, tmp_path, "a.csv", **{A: ("include", "")})
    b = sheet(review, tmp_path, "b.csv", **{A: ("exclude", "x")})
    c = sheet(review, tmp_path, "c.csv", **{A: ("exclude", "settled")})
    assert imp(a, review, reviewer="A") == 0 and imp(b, review, reviewer="B") == 0
    assert "1 conflicts" in capsys.readouterr().out
    assert imp(c, review, reviewer="Consensus") == 0  # once a third reviewer named "Consensus"
    assert "0 conflicts at title-abstract" in capsys.readouterr().out
    assert ("consensus" in [r[2] for r in rows(review)])
    for name in ("", "   "):
        assert imp(a, review, reviewer=name) == 2
        assert capsys.readouterr().err == ("metail2: error: the reviewer's name is empty: give it with --reviewer "
                                           "NAME\n")
    named = sheet(review, tmp_path, "named.csv", **{B: ("include", "")})
    text = open(named).read().replace("include,,,", "include,,B,")
    open(named, "w").write(text)
    assert imp(named, review, reviewer="A") == 2
    assert "reviewer: 'B' here, but the sheet is imported as 'A''s; one reviewer per sheet" in capsys.readouterr().err


def test_exclusion_reasons_compare_ignoring_case_and_spacing(review, tmp_path, capsys):
    ta = sheet(review, tmp_path, "ta.csv", **{A: ("include", ""), B: ("include", ""), C: ("include", "")})
    assert imp(ta, review) == 0
    fa = sheet(review, tmp_path, "fa.csv", "full-text", **{A: ("exclude", "Not IL-2"), B: ("exclude", "Not IL-2"),
                                                          C: ("exclude", "no data")})
    fb = sheet(review, tmp_path, "fb.csv", "full-text", **{A: ("exclude", "not  il-2"), B: ("exclude", "NOT IL-2"),
                                                          C: ("exclude", "No Data")})
    assert imp(fa, review) == 0 and imp(fb, review, reviewer="B") == 0
    assert "0 conflicts at full-text" in capsys.readouterr().out
    with open_store(review) as s:
        p = prisma_counts(s)
    # settled with the first reviewer's spelling; counted as one reason (they once had to match exactly)
    assert p.reports_excluded == {"Not IL-2": 2, "no data": 1}
    assert p.fulltext_conflicts == 0 and p.reports_assessed == 3


def test_prisma_counts_one_reason_under_its_most_used_spelling(tmp_path):
    from tests.review.test_prisma import full_text_review

    decided = [("A", 0, "exclude", "not IL-2"), ("A", 1, "exclude", "Not  IL-2"), ("A", 2, "exclude", "not IL-2"),
               ("A", 3, "exclude", "No data"), ("A", 4, "exclude", "no data")]
    with full_text_review(tmp_path / "s.sqlite", decided) as s:
        p = prisma_counts(s)
    assert p.reports_excluded == {"No data": 2, "not IL-2": 3}  # ties: the first in sorted order


def test_a_sheet_that_is_not_one_is_one_line_exit_2(review, tmp_path, capsys):
    from openpyxl import Workbook

    fake = tmp_path / "fake.xlsx"
    fake.write_text("record_id,decision\n1,include\n")
    empty = tmp_path / "empty.xlsx"
    Workbook().save(empty)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("record_id,decision,reason,stage\n1,exclude,caf\xe9,title-abstract\n".encode("latin-1"))
    notes = tmp_path / "notes.csv"
    notes.write_text("title,comment\nx,y\n")
    for path, words in ((fake, "not an .xlsx workbook metail2 can read"), (empty, "the workbook's first sheet is empty"),
                        (latin, "not UTF-8 text (byte 0xE9); save it as \"CSV UTF-8\""),
                        (notes, "no record_id or decision column: not a screening sheet"),
                        (tmp_path / "missing.csv", "No such file or directory")):
        assert imp(path, review) == 2
        err = capsys.readouterr().err
        assert err.startswith("metail2: error: ") and err.count("\n") == 1 and words in err, err
    assert rows(review) == []
