"""Encodings of record files: what declares (byte-order mark, XML declaration)
or is proven (the whole file cp1252, not UTF-8) is decoded; a record holding
bytes that are not text is refused naming file and line; U+FFFD is never
stored for a byte that did not decode."""
from __future__ import annotations

import codecs
import sqlite3

import pytest

from metail2.cli import main
from metail2.review.encoding import Encoding, decide, file_encoding
from metail2.review.medline import iter_medline
from metail2.review.pubmed_xml import iter_pubmed_xml
from metail2.review.records import ParseIssue
from metail2.review.ris import iter_ris

MEDLINE = "PMID- 1\nTI  - Müller's café: ½ dose of IL-2 – a trial.\nAU  - Müller A\nDP  - 1999\n\n" \
          "PMID- 2\nTI  - Second record, Ångström.\nDP  - 2000\n"
RIS = "TY  - JOUR\nTI  - Müller's café: ½ dose – a trial\nAU  - Müller, Anna\nPY  - 1999\nER  - \n\n" \
      "TY  - JOUR\nTI  - Second record, Ångström\nPY  - 2000\nER  - \n"


def xml(title1: str, title2: str, declaration: str = '<?xml version="1.0"?>') -> str:
    art = ("<PubmedArticle><MedlineCitation><PMID>{}</PMID><Article><ArticleTitle>{}</ArticleTitle></Article>"
           "</MedlineCitation></PubmedArticle>\n")
    return f"{declaration}\n<PubmedArticleSet>\n{art.format(1, title1)}{art.format(2, title2)}</PubmedArticleSet>\n"


def titles(recs) -> list[str]:
    return [r.title for r in recs]


@pytest.mark.parametrize("codec", ["cp1252", "latin-1"])
def test_a_whole_file_in_cp1252_is_proven_and_decoded(tmp_path, codec):
    text = {"medline": MEDLINE, "ris": RIS, "xml": xml("Müller's café: ½ dose", "Ångström")}
    if codec == "latin-1":  # no en dash in Latin-1
        text = {k: v.replace("–", "-") for k, v in text.items()}
    for kind, reader in (("medline", iter_medline), ("ris", iter_ris), ("xml", iter_pubmed_xml)):
        p = tmp_path / f"{kind}.{codec}"
        p.write_bytes(text[kind].encode(codec))
        issues: list[ParseIssue] = []
        recs = list(reader(p, issues))
        assert issues == [] and "Müller's café: ½ dose" in recs[0].title and "Ångström" in recs[1].title, kind
        assert file_encoding(str(p), xml=kind == "xml").codec == "cp1252"


def test_what_declares_decides(tmp_path):
    latin = tmp_path / "declared.xml"
    latin.write_bytes(xml("Müller", "café", '<?xml version="1.0" encoding="ISO-8859-1"?>').encode("latin-1"))
    assert titles(iter_pubmed_xml(latin)) == ["Müller", "café"]
    utf16 = tmp_path / "bom16.xml"
    utf16.write_bytes(codecs.BOM_UTF16_LE + xml("Müller", "½ dose").encode("utf-16-le"))
    assert titles(iter_pubmed_xml(utf16)) == ["Müller", "½ dose"]
    bom8 = tmp_path / "bom8.ris"
    bom8.write_bytes(codecs.BOM_UTF8 + RIS.encode("utf-8"))
    assert titles(iter_ris(bom8))[0] == "Müller's café: ½ dose – a trial"
    with pytest.raises(Exception, match="declares the encoding 'x-martian'"):
        decide(b'<?xml version="1.0" encoding="x-martian"?><a/>', True, "f.xml", None)


def test_a_file_mixing_utf8_and_other_bytes_refuses_only_the_records_holding_them(tmp_path):
    # record 1 is UTF-8 ("é" = C3 A9); record 2 holds a lone Latin-1 "é" (E9): nothing proves cp1252
    data = MEDLINE.encode("utf-8").replace("Ångström".encode(), b"caf\xe9")
    p = tmp_path / "mixed.nbib"
    p.write_bytes(data)
    issues: list[ParseIssue] = []
    (r,) = list(iter_medline(p, issues))
    assert r.title == "Müller's café: ½ dose of IL-2 – a trial."
    assert [str(i) for i in issues] == [f"{p}: record 2 (line 6): byte 0xE9 at line 7, column 25 is not UTF-8 text: "
                                        "record not stored (save the file as UTF-8)"]


def test_bytes_undefined_in_cp1252_prove_nothing(tmp_path):
    p = tmp_path / "x.ris"
    p.write_bytes(b"TY  - JOUR\nTI  - Plain ASCII\nER  - \n\nTY  - JOUR\nTI  - Caf\xe9 \x81\nER  - \n")
    issues: list[ParseIssue] = []
    assert titles(iter_ris(p, issues)) == ["Plain ASCII"]
    assert [str(i) for i in issues] == [f"{p}: record 2 (line 5): byte 0xE9 at line 6, column 10 is not UTF-8 text: "
                                        "record not stored (save the file as UTF-8)"]


def test_xml_declared_utf8_with_a_bad_byte_refuses_that_record(tmp_path):
    p = tmp_path / "bad.xml"
    p.write_bytes(xml("Fine – UTF-8", "cafX", '<?xml version="1.0" encoding="UTF-8"?>').encode().replace(b"cafX",
                                                                                                     b"caf\xe9"))
    issues: list[ParseIssue] = []
    assert titles(iter_pubmed_xml(p, issues)) == ["Fine – UTF-8"]
    assert [(i.where, i.message) for i in issues] == [
        ("record 2 (line 4, PMID 2)", "byte 0xE9 at line 4, column 73 is not UTF-8 text: record not stored "
                                      "(save the file as UTF-8 or declare its encoding (<?xml … encoding=…?>))")]


def test_a_files_own_replacement_character_is_its_text(tmp_path):
    p = tmp_path / "own.nbib"
    p.write_text(MEDLINE.replace("Ångström", "\ufffd"), encoding="utf-8")
    issues: list[ParseIssue] = []
    assert [r.title for r in iter_medline(p, issues)][1] == "Second record, \ufffd." and issues == []


def test_import_never_stores_a_replacement_character(tmp_path, capsys):
    db = tmp_path / "s.sqlite"
    cp = tmp_path / "cp1252.ris"
    cp.write_bytes(RIS.encode("cp1252"))
    mixed = tmp_path / "mixed.nbib"
    mixed.write_bytes(MEDLINE.replace("PMID- 1", "PMID- 3").replace("PMID- 2", "PMID- 4").encode("utf-8")
                      .replace("Ångström".encode(), b"caf\xe9"))
    assert main(["records", "import", str(cp), str(mixed), "--db", str(db)]) == 1  # a record was skipped
    cap = capsys.readouterr()
    assert f"{cp}: read as cp1252 (not UTF-8, and every byte is a cp1252 character)" in cap.out
    assert f"skipped: {mixed}: record 2 (line 6): byte 0xE9 at line 7, column 25 is not UTF-8 text" in cap.err
    con = sqlite3.connect(db)
    rows = con.execute("SELECT title, raw FROM records ORDER BY id").fetchall()
    con.close()
    assert [t for t, _ in rows] == ["Müller's café: ½ dose – a trial", "Second record, Ångström",
                                    "Müller's café: ½ dose of IL-2 – a trial."]
    assert not any("\ufffd" in t or "\ufffd" in raw for t, raw in rows)


def test_the_rule_in_one_place():
    assert decide(b"abc", False, "f", lambda: [b"abc"]) == Encoding("utf-8", "UTF-8")
    assert decide(b"caf\xe9", False, "f", lambda: [b"caf\xe9"]).codec == "cp1252"
    # a UTF-8 character anywhere, split across chunks, means the other bytes are not cp1252 text
    assert decide(b"caf\xe9", False, "f", lambda: [b"caf\xe9 \xc3", b"\xa9"]).how.startswith("UTF-8, except")
    assert decide(b"x", False, "f", None, is_utf8=False).how.startswith("UTF-8, except")  # a stream: no proof
