"""Reading extraction sheets: cells kept as written, lines kept for provenance."""
from __future__ import annotations

import pytest

from metail2 import read_sheet
from metail2.errors import SheetError

from tests.conftest import ROOT


def test_il2_sheet_reads_with_all_columns_and_rows():
    s = read_sheet(ROOT / "extraction" / "il2_crc_response.csv")
    assert len(s) == 14
    assert s.columns[:3] == ("study_id", "author", "year") and "source_note" in s.columns
    assert s.rows[0].cells["author"] == "Okuno K, Yasutomi M"


def test_line_numbers_follow_multiline_cells_and_skip_blank_lines(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text('study_id,note,events,total\na,"two\nlines",1,5\n\nb,,2,6\n', encoding="utf-8")
    s = read_sheet(p)
    assert [(r.study_id, r.line) for r in s.rows] == [("a", 2), ("b", 5)]


def test_bom_is_accepted(tmp_path):
    p = tmp_path / "s.csv"
    p.write_bytes(b"\xef\xbb\xbfstudy_id,events,total\na,1,5\n")
    assert read_sheet(p).columns[0] == "study_id"


def test_row_with_too_many_cells_is_reported(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("study_id,events\na,1,5\n", encoding="utf-8")
    with pytest.raises(SheetError, match=r"s.csv:2: a: 3 cells but the header has 2 columns"):
        read_sheet(p)


def test_duplicate_header_is_reported(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("study_id,events,events\na,1,5\n", encoding="utf-8")
    with pytest.raises(SheetError, match="events: column name appears twice"):
        read_sheet(p)


def test_frame_keeps_cells_as_text():
    s = read_sheet(ROOT / "extraction" / "il2_crc_response.csv")
    df = s.frame
    assert list(df.columns) == list(s.columns)
    assert df.loc[0, "events"] == "19"


# ------------------------------------------------------------------ check

from metail2.cli import main  # noqa: E402
from metail2.sheets.csvio import StaleFileError  # noqa: E402
from metail2.sheets import check_sheet, write_sheet  # noqa: E402

BROKEN = (
    "study_id,year,pmid,doi,route,events,total,reported_percent,count_basis,estimate,ci_lower,ci_upper,se\n"
    "good,1998,9742523,10.1000/x,systemic,6,12,50,derived from percentage (50% of 12),,,,\n"
    "bad year,2999,,,systemic,1,10,,stated,,,,\n"
    "bad ids,1999,12a,https://doi.org/10.1/x,systemic,1,10,,stated,,,,\n"
    "bad route,1999,,,intra-arterial,1,10,,stated,,,,\n"
    "\n"
    "derived wrong,2001,,,systemic,7,12,50,derived from percentage (50% of 12),,,,\n"
    "pct only filled,2001,,,systemic,3,12,25,percentage only: 25%,,,,\n"
    "events>total,2002,,,systemic,13,12,,stated,,,,\n"
    "spaces, 2003 ,,,systemic,1,10,,stated,,,,\n"
    "thousands,2003,,,systemic,1,\"1,200\",,stated,,,,\n"
    "ci,2004,,,systemic,,,,,1.5,2.0,3.0,\n"
    "two inputs,2004,,,systemic,,,,,1.5,1.0,2.0,0.2\n"
    "good,2005,,,systemic,1,10,,stated,,,,\n"
)
EXPECTED = [
    (3, "bad year", "year", "year 2999 is out of range"),
    (4, "bad ids", "pmid", "malformed PMID"),
    (4, "bad ids", "doi", "without https://doi.org/"),
    (5, "bad route", "route", "'intra-arterial' is not one of"),
    (6, None, None, "warning: empty row"),
    (7, "derived wrong", "events", "7/12 = 58.33% does not reproduce reported_percent 50"),
    (8, "pct only filled", "count_basis", "says there are no counts, but events is filled"),
    (9, "events>total", "events", "events (13) exceed total (12)"),
    (10, "spaces", "year", "warning: stray whitespace"),
    (11, "thousands", "total", "thousands separator"),
    (12, "ci", "estimate", "estimate (1.5) lies outside its CI [2, 3]"),
    (13, "two inputs", "input", "several complete input groups for one measure (estimate and SE, estimate and 95% CI)"),
    (14, "good", "study_id", "duplicate study_id (first on line 2)"),
]


def test_broken_sheet_yields_every_message_in_one_run(tmp_path, capsys):
    p = tmp_path / "broken.csv"
    p.write_text(BROKEN, encoding="utf-8")
    code = main(["sheet", "check", str(p)])
    out = capsys.readouterr().out.splitlines()
    assert code == 2
    problems = [line for line in out if line.startswith(str(p) + ":") and "rows," not in line]
    assert len(problems) == len(EXPECTED), "\n".join(problems)
    for line, (lineno, sid, col, msg) in zip(problems, EXPECTED):
        prefix = ":".join([str(p), str(lineno)]) + ": " + "".join(f"{x}: " for x in (sid, col) if x)
        assert line.startswith(prefix) and msg in line, (line, prefix, msg)
    assert f"{p}: 12 rows, {len(EXPECTED) - 2} errors, 2 warnings" in out


def test_il2_sheet_check_passes_and_lists_the_four_unpoolable_rows(capsys):
    code = main(["sheet", "check", str(ROOT / "extraction" / "il2_crc_response.csv")])
    out = capsys.readouterr().out
    assert code == 0
    assert "0 errors, 0 warnings" in out and "poolable, single-arm (PR, PLO, PFT): 10" in out
    for sid in ("Okuno 1999 (line 3)", "Yang (Eur J Cancer) (line 5)", "Eur J Surg Oncol 1992 (line 6)",
                "Heys 1995 (line 15)"):
        assert sid in out


def test_bom_and_non_utf8_get_clear_messages(tmp_path, capsys):
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfstudy_id,events,total\na,1,5\n")
    assert main(["sheet", "check", str(bom)]) == 0
    assert "warning: the file starts with a UTF-8 byte-order mark" in capsys.readouterr().out
    latin = tmp_path / "latin.csv"
    latin.write_bytes("study_id,events,total\nM\xfcller,1,5\n".encode("latin-1"))
    assert main(["sheet", "check", str(latin)]) == 2
    assert f"{latin}:2: not valid UTF-8 (byte 0xfc)" in capsys.readouterr().out


def test_read_sheet_raises_with_all_problems(tmp_path):
    p = tmp_path / "broken.csv"
    p.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(SheetError) as info:
        read_sheet(p)
    assert len(info.value.problems) == len([e for e in EXPECTED if "warning" not in e[3]])


# ------------------------------------------------------------------ writes

IL2 = ROOT / "extraction" / "il2_crc_response.csv"


def test_unchanged_write_is_byte_identical(tmp_path):
    for src in [IL2, *sorted((ROOT / "tests" / "validation" / "metafor").glob("*.csv"))]:
        out = tmp_path / src.name
        write_sheet(read_sheet(src), out)
        assert out.read_bytes() == src.read_bytes(), src.name


def test_changing_one_cell_changes_one_line(tmp_path):
    p = tmp_path / "s.csv"
    p.write_bytes(IL2.read_bytes())
    s = read_sheet(p)
    write_sheet(s.with_cells({(1, "events"): "9"}), p)
    old, new = IL2.read_bytes().split(b"\r\n"), p.read_bytes().split(b"\r\n")
    diff = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
    assert diff == [2] and len(old) == len(new)
    assert new[2].split(b",")[0] == b"Okuno 1999" and b'"randomized, 3 arms"' in new[2]


def test_adding_a_column_keeps_cells_and_quoting(tmp_path):
    p = tmp_path / "bcg.csv"
    p.write_bytes((ROOT / "tests" / "validation" / "metafor" / "bcg.csv").read_bytes())
    s = read_sheet(p)
    write_sheet(s.with_cells({(0, "note"): "checked"}), p)
    lines = p.read_text().splitlines()
    assert lines[0].endswith(',"note"') and lines[1] == '"Aronson 1948",4,123,11,139,"Aronson",1948,"random",44,"checked"'
    assert lines[2] == '"Ferguson & Simes 1949",6,306,29,303,"Ferguson & Simes",1949,"random",55,'


def test_a_failing_write_leaves_the_original_intact(tmp_path):
    p = tmp_path / "s.csv"
    p.write_bytes(IL2.read_bytes())
    s = read_sheet(p)

    def dies_midway(f, data):
        f.write(data[: len(data) // 2])
        raise OSError("disk full (simulated)")

    with pytest.raises(OSError, match="simulated"):
        write_sheet(s.with_cells({(0, "events"): "20"}), p, writer=dies_midway)
    assert p.read_bytes() == IL2.read_bytes()
    assert [x.name for x in tmp_path.iterdir()] == ["s.csv"]  # no temporary file left


def test_write_refuses_a_sheet_changed_on_disk(tmp_path):
    p = tmp_path / "s.csv"
    p.write_bytes(IL2.read_bytes())
    s = read_sheet(p)
    p.write_bytes(IL2.read_bytes() + b"late,,,,,,,,,,,,,,,,,,\r\n")
    with pytest.raises(StaleFileError):
        write_sheet(s.with_cells({(0, "events"): "20"}), p)
    assert p.read_bytes().endswith(b"late,,,,,,,,,,,,,,,,,,\r\n")
    write_sheet(s.with_cells({(0, "events"): "20"}), p, force=True)
    assert not p.read_bytes().endswith(b"late,,,,,,,,,,,,,,,,,,\r\n")


def test_sheet_new_writes_the_measure_columns(tmp_path, capsys):
    p = tmp_path / "new.csv"
    assert main(["sheet", "new", "--measure", "PLO", str(p)]) == 0
    assert p.read_text() == ("study_id,author,year,pmid,doi,outcome,events,total,reported_percent,count_basis,"
                             "source_url,source_note\n")
    assert main(["sheet", "new", "--measure", "PLO", str(p)]) == 2  # refuses to overwrite
    assert check_sheet(read_sheet(p)).ok


def test_a_dataframe_missing_value_is_an_empty_cell_and_inf_is_refused():
    import numpy as np
    import pandas as pd

    from metail2.sheets import Sheet, check_sheet

    frame = pd.DataFrame({"study_id": ["a", "b"], "events": pd.array([3, pd.NA], dtype="Int64"),
                          "total": [10, np.nan], "estimate": [np.inf, 1.0]})
    sheet = Sheet.from_frame(frame)
    assert sheet.rows[1].cells["events"] == "" and sheet.rows[1].cells["total"] == ""
    assert [str(p) for p in check_sheet(sheet).errors] == ["<DataFrame>:2: a: estimate: 'inf' is not a number (not finite)"]
