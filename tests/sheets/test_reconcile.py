"""Dual extraction: two reviewers' sheets compared cell by cell."""
from __future__ import annotations

import pytest

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
    assert rows["only A"].cells["reconcile_note"].startswith("CONFLICT: row only in A (a.csv)")
    assert rows["only B"].cells["reconcile_note"].startswith("CONFLICT: row only in B (b.csv)")
    # the marked conflict blocks pooling until a human resolves it
    assert main(["pool", str(out), "--measure", "PLO"]) == 2
    assert "unresolved reconciliation conflict (A=5 | B=6)" in capsys.readouterr().err


def test_identical_sheets_reconcile_cleanly(tmp_path, capsys):
    a, b = write(tmp_path, "a.csv", A), write(tmp_path, "b.csv", A)
    assert main(["sheet", "reconcile", str(a), str(b)]) == 0
    assert "0 disagreements, 0 conflicts" in capsys.readouterr().out


def _mirrored(d):
    swap = {"only in A": "only in B", "only in B": "only in A", "row only in A": "row only in B",
            "row only in B": "row only in A", "conflict": "conflict"}
    return (d.study_id, d.column, d.b, d.a, swap[d.kind], d.line_b, d.line_a)


def test_reconcile_is_symmetric(tmp_path, capsys):
    from metail2.sheets.reconcile import reconcile

    a = read_sheet(write(tmp_path, "a.csv", A), validate=False)
    b = read_sheet(write(tmp_path, "b.csv", B), validate=False)
    ab, ba = reconcile(a, b), reconcile(b, a)
    assert sorted(map(_mirrored, ab.disagreements), key=str) == sorted(
        ((d.study_id, d.column, d.a, d.b, d.kind, d.line_a, d.line_b) for d in ba.disagreements), key=str)
    assert ab.cells_compared == ba.cells_compared and len(ab.conflicts) == len(ba.conflicts)
    # and on the command line: the same count both ways
    main(["sheet", "reconcile", str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    main(["sheet", "reconcile", str(tmp_path / "b.csv"), str(tmp_path / "a.csv")])
    counts = [line for line in capsys.readouterr().out.splitlines() if "cells compared" in line]
    assert len(counts) == 2 and counts[0] == counts[1]


@pytest.mark.parametrize("side", ["a", "b"])
def test_a_duplicate_key_in_either_sheet_is_an_error_naming_both_lines(tmp_path, capsys, side):
    dup = B + "s2,1999,7,16,systemic,second s2,\n"
    a = write(tmp_path, "a.csv", A if side == "b" else dup)
    b = write(tmp_path, "b.csv", dup if side == "b" else A)
    out = tmp_path / "out.csv"
    assert main(["sheet", "reconcile", str(a), str(b), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{side}.csv:6: s2: study_id: study_id 's2' also on line 3" in err
    assert not out.exists()


def test_a_one_sided_row_blocks_pooling_until_resolved(tmp_path, capsys):
    a = write(tmp_path, "a.csv", "study_id,events,total\ns1,3,10\ns2,4,12\n")
    b = write(tmp_path, "b.csv", "study_id,events,total\ns1,3,10\n")
    out = tmp_path / "out.csv"
    assert main(["sheet", "reconcile", str(a), str(b), "--out", str(out)]) == 1
    capsys.readouterr()
    assert main(["pool", str(out), "--measure", "PLO"]) == 2
    err = capsys.readouterr().err
    assert f"{out}:3: s2: reconcile_note: unresolved reconciliation conflict: row only in A (a.csv)" in err
    assert main(["sheet", "check", str(out)]) == 2
    # the human keeps the row and clears the marker: the sheet pools
    out.write_text(out.read_text().replace(out.read_text().splitlines()[2].split(",", 3)[3], ""))
    assert main(["pool", str(out), "--measure", "PLO"]) == 0, capsys.readouterr().err


def test_a_conflict_in_a_text_column_blocks_pooling_too(tmp_path, capsys):
    a = write(tmp_path, "a.csv", "study_id,author,events,total\ns1,Okuno,3,10\ns2,Yang,4,12\n")
    b = write(tmp_path, "b.csv", "study_id,author,events,total\ns1,Okuno K,3,10\ns2,Yang,4,12\n")
    out = tmp_path / "out.csv"
    assert main(["sheet", "reconcile", str(a), str(b), "--out", str(out)]) == 1
    capsys.readouterr()
    assert main(["pool", str(out), "--measure", "PLO"]) == 2
    assert f"{out}:2: s1: author: unresolved reconciliation conflict (A=Okuno | B=Okuno K)" in capsys.readouterr().err
