"""Dual extraction: two reviewers' sheets compared cell by cell."""
from __future__ import annotations

from metail2.cli import main
from metail2.sheets import read_sheet

A = ("study_id,year,events,total,route,note\n"
     "s1,1998,19,25,locoregional,same\n"
     "s2,1999,5,16,systemic,  spaced   text\n"
     "s3,2000,,12,systemic,\n"
     "only A,2001,1,2,systemic,\n")
B = ("study_id,year,events,total,route,note,extra\n"
     "s1,1998,19.0,25,locoregional,same,x\n"
     "s2,1999,6,16,systemic,spaced text,\n"
     "s3,2000,3,12,systemic,from B,\n"
     "only B,2002,1,4,systemic,,\n")


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_disagreements_are_listed_and_conflicts_exit_1(tmp_path, capsys):
    a, b = write(tmp_path, "a.csv", A), write(tmp_path, "b.csv", B)
    code = main(["sheet", "reconcile", str(a), str(b)])
    out = capsys.readouterr().out
    assert code == 1
    assert "s2 (A:3 B:3): events: A='5' B='6' (conflict)" in out
    assert "s3 (A:4 B:4): events: A='' B='3' (only in B)" in out
    assert "s1 (A:2 B:2): extra: A='' B='x' (only in B)" in out
    assert "only A (A:5 B:-): row only in A" in out and "only B (A:- B:5): row only in B" in out
    assert "19" not in out.split("s1")[1].split("\n")[0].replace("A:2", "")  # 19 == 19.0: no disagreement
    assert "spaced" not in out  # text compared after whitespace normalisation
    assert not (tmp_path / "out.csv").exists()


def test_reconciled_sheet_takes_agreed_and_one_sided_cells_and_marks_conflicts(tmp_path, capsys):
    a, b = write(tmp_path, "a.csv", A), write(tmp_path, "b.csv", B)
    out = tmp_path / "out.csv"
    assert main(["sheet", "reconcile", str(a), str(b), "--out", str(out)]) == 1
    s = read_sheet(out, validate=False)
    assert s.columns == ("study_id", "year", "events", "total", "route", "note", "extra", "reconcile_note")
    rows = {r.study_id: r for r in s.rows}
    assert rows["s1"].cells["events"] == "19" and rows["s1"].cells["extra"] == "x"
    assert rows["s2"].cells["events"] == "CONFLICT: A=5 | B=6"
    assert rows["s3"].cells["events"] == "3" and rows["s3"].cells["note"] == "from B"
    assert rows["only A"].cells["reconcile_note"] == "row only in A"
    assert rows["only B"].cells["reconcile_note"] == "row only in B"
    # the marked conflict blocks pooling until a human resolves it
    assert main(["pool", str(out), "--measure", "PLO"]) == 2
    assert "unresolved reconciliation conflict (A=5 | B=6)" in capsys.readouterr().err


def test_identical_sheets_reconcile_cleanly(tmp_path, capsys):
    a, b = write(tmp_path, "a.csv", A), write(tmp_path, "b.csv", A)
    assert main(["sheet", "reconcile", str(a), str(b)]) == 0
    assert "0 disagreements, 0 conflicts" in capsys.readouterr().out
