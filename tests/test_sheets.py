"""Reading extraction sheets: cells kept as written, lines kept for provenance."""
from __future__ import annotations

import pytest

from metail2 import read_sheet
from metail2.errors import SheetError

from .conftest import ROOT


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
