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
