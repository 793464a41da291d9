"""Screening sheets, reviewer conflicts and PRISMA 2020 counts."""
from __future__ import annotations

import csv
import json

from metail2.cli import main

from tests.conftest import ROOT

NCBI = ROOT / "tests" / "fixtures" / "ncbi"


def fill(src, dst, decisions):
    rows = list(csv.DictReader(open(src, newline="")))
    for r in rows:
        d = decisions.get(r["pmid"])
        if d:
            r["decision"], r["reason"] = d
    with open(dst, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_two_reviewers_conflicts_and_prisma(tmp_path, capsys):
    db = str(tmp_path / "s.sqlite")
    main(["records", "import", str(NCBI / "pubmed1.xml"), str(NCBI / "pubmed2.xml"), str(NCBI / "pubmed_result2.txt"),
          "--db", db])
    main(["records", "import", str(NCBI / "pubmed1.xml"), "--db", db])  # the same file twice: 2 duplicates
    sheet = tmp_path / "ta.csv"
    assert main(["screen", "export", "--db", db, "--csv", str(sheet)]) == 0
    assert len(list(csv.DictReader(open(sheet)))) == 8
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    base = {"12091962": ("exclude", "not colorectal"), "9997": ("exclude", "not clinical"),
            "11748933": ("include", ""), "11700088": ("include", "")}
    fill(sheet, a, base)
    fill(sheet, b, {**base, "11700088": ("exclude", "not IL-2")})
    assert main(["screen", "import", str(a), "--db", db, "--reviewer", "A"]) == 0
    assert main(["screen", "import", str(b), "--db", db, "--reviewer", "B"]) == 0
    out = capsys.readouterr().out
    assert "conflict: record" in out and "A=include, B=exclude" in out
    assert main(["screen", "conflicts", "--db", db]) == 1
    capsys.readouterr()
    ft = tmp_path / "ft.csv"
    assert main(["screen", "export", "--db", db, "--stage", "full-text", "--csv", str(ft)]) == 0
    assert [r["pmid"] for r in csv.DictReader(open(ft))] == ["11748933"]
    fill(ft, ft, {"11748933": ("exclude", "no response data")})
    assert main(["screen", "import", str(ft), "--db", db, "--reviewer", "A", "--stage", "full-text"]) == 0
    capsys.readouterr()
    assert main(["prisma", "--db", db, "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["identified_total"] == 10 and p["duplicates_removed"] == 2 and p["screened"] == 8
    assert p["excluded_screening"] == 2 and p["screening_conflicts"] == 1 and p["screening_pending"] == 5
    assert p["reports_sought"] == 1 and p["reports_assessed"] == 1
    assert p["reports_excluded"] == {"no response data": 1} and p["included"] == 0
    assert main(["prisma", "--db", db]) == 0
    assert "Duplicate records removed: 2" in capsys.readouterr().out


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
    assert "2 decisions by A stored" in capsys.readouterr().out


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
