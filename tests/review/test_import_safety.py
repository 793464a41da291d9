"""Importing record files safely: bad input is one line and exit 2 before a
store is made; records stream into the store in batches; an import that
stops leaves no empty source and resumes; a file imported again is
recognised by its content and counted once."""
from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from metail2.cli import main
from metail2.errors import InputError
from metail2.review import EutilsClient, import_file, open_store, prisma_counts, run_search
from metail2.review import imports as imports_module
from metail2.review.store import StoreError

from tests.conftest import ROOT

NCBI = ROOT / "tests" / "fixtures" / "ncbi"


def one_error(capsys, code, expected_code, *words):
    err = capsys.readouterr().err
    assert code == expected_code, err
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith("metail2: error: ") and "Traceback" not in err, err
    for w in words:
        assert w in err, (w, err)
    return err


def test_files_that_cannot_be_imported_are_one_line_each_and_make_no_store(tmp_path, capsys):
    empty, text, folder = tmp_path / "empty.xml", tmp_path / "notes.txt", tmp_path / "exports"
    empty.write_bytes(b"")
    text.write_text("These are my notes, not records.\n")
    folder.mkdir()
    db = tmp_path / "s.sqlite"
    code = main(["records", "import", str(folder), str(empty), str(text), str(tmp_path / "missing.nbib"),
                 "--db", str(db)])
    err = one_error(capsys, code, 2)
    assert err.splitlines() == [
        f"metail2: error: {folder}: is a folder; give the record files in it",
        f"metail2: error: {empty}: empty file",
        f"metail2: error: {text}: not PubMed XML, MEDLINE or RIS (it starts with 'These are my notes, not records.'; "
        "PubMed XML starts with '<', MEDLINE has 'PMID- ' lines, RIS 'TY  - ' lines)",
        f"metail2: error: {tmp_path / 'missing.nbib'}: no such file"]
    assert not db.exists()


def test_a_medline_file_named_ris_is_read_by_its_content(tmp_path, capsys):
    misnamed = tmp_path / "export.ris"
    misnamed.write_bytes((NCBI / "pubmed_result2.txt").read_bytes())
    assert main(["records", "import", str(misnamed), "--db", str(tmp_path / "s.sqlite")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [f"{misnamed}: read as MEDLINE (its content), though its name says RIS",
                                f"{misnamed}: 4 records (4 new, 0 duplicates linked, 0 already stored); 0 skipped"]


@pytest.mark.parametrize("argv, words", [
    (["--eutils-url", "notaurl"], ["--eutils-url 'notaurl' is not an http:// or https:// URL"]),
    (["--eutils-url", "ftp://ftp.ncbi.nlm.nih.gov/"], ["is not an http:// or https:// URL"]),
    (["--mindate", "last year"], ["--mindate 'last year' is not a date (YYYY, YYYY/MM or YYYY/MM/DD)"]),
    (["--mindate", "2020/02/30"], ["--mindate '2020/02/30' is not a date"]),
    (["--mindate", "2020", "--maxdate", "2010"], ["--mindate 2020 is after --maxdate 2010"]),
])
def test_search_options_that_cannot_work_are_one_line_exit_2_and_make_no_store(tmp_path, capsys, argv, words):
    db = tmp_path / "s.sqlite"
    code = main(["search", "q", "--db", str(db), *argv])
    one_error(capsys, code, 2, *words)
    assert not db.exists()


@pytest.mark.parametrize("option, value", [("--batch-size", "0"), ("--batch-size", "-5"), ("--batch-size", "x"),
                                           ("--max-tries", "0"), ("--backoff", "-1"), ("--backoff", "nan")])
def test_counts_and_waits_must_be_usable(tmp_path, capsys, option, value):
    db = tmp_path / "s.sqlite"
    assert main(["search", "q", "--db", str(db), option, value]) == 2
    err = capsys.readouterr().err
    assert f"argument {option}:" in err and "Traceback" not in err and not db.exists()


def test_the_api_refuses_them_too(tmp_path, monkeypatch):
    monkeypatch.setenv("METAIL2_EUTILS_URL", "notaurl")
    with pytest.raises(InputError, match="METAIL2_EUTILS_URL 'notaurl' is not an http"):
        EutilsClient()
    monkeypatch.delenv("METAIL2_EUTILS_URL")
    with open_store(tmp_path / "s.sqlite", create=True) as s:
        for size in (0, -1):  # once marked the search complete with nothing fetched
            with pytest.raises(InputError, match="--batch-size must be 1 or more"):
                run_search(s, EutilsClient(base_url="http://127.0.0.1:9/"), "q", batch_size=size)
        assert s.searches() == []
        with pytest.raises(InputError):
            import_file(s, str(NCBI / "pubmed1.xml"), batch_size=0)


def test_records_stream_into_the_store_one_batch_per_transaction(tmp_path, monkeypatch):
    seen = []
    real = imports_module.READERS["medline"]

    def watching(path, issues, encoding=None):
        for i, rec in enumerate(real(path, issues, encoding=encoding)):
            con = sqlite3.connect(tmp_path / "s.sqlite")
            seen.append((i, con.execute("SELECT COUNT(*) FROM records").fetchone()[0]))
            con.close()
            yield rec

    monkeypatch.setitem(imports_module.READERS, "medline", watching)
    with open_store(tmp_path / "s.sqlite", create=True) as s:
        done = import_file(s, str(NCBI / "pubmed_result2.txt"), batch_size=2)
        assert s.stored_through(done.search_id, 0) == 4
    # record 3 is read only after records 1-2 are committed: never a whole file in memory
    assert seen == [(0, 0), (1, 0), (2, 2), (3, 2)]


def _failing_after(store, calls: int):
    real = store.add_records
    n = {"calls": 0}

    def add_records(*a, **k):
        n["calls"] += 1
        if n["calls"] > calls:
            raise StoreError("s.sqlite: the disk is full (simulated)")
        return real(*a, **k)
    return add_records


def test_an_import_that_stops_keeps_whole_batches_and_resumes(tmp_path, monkeypatch):
    db = tmp_path / "s.sqlite"
    with open_store(db, create=True) as s:
        monkeypatch.setattr(s, "add_records", _failing_after(s, 0))  # the first batch stored, the second fails
        with pytest.raises(StoreError, match="disk is full"):
            import_file(s, str(NCBI / "pubmed_result2.txt"), batch_size=2)
        (log,) = s.searches()
        assert log.status == "failed" and s.search_record_count(log.id) == 2
        assert "incomplete" in next(iter(prisma_counts(s).identified))
        monkeypatch.undo()
        done = import_file(s, str(NCBI / "pubmed_result2.txt"), batch_size=2)
        assert (done.search_id, done.resumed, done.count("new")) == (log.id, 2, 2)
        (log,) = s.searches()
        p = prisma_counts(s)
    assert log.status == "complete" and log.count == 4
    assert p.identified_total == 4 and p.duplicates_removed == 0 and "incomplete" not in next(iter(p.identified))


def test_an_import_that_stops_before_its_first_batch_leaves_no_trace(tmp_path, monkeypatch):
    def broken(path, issues, encoding=None):
        raise KeyboardInterrupt
        yield

    monkeypatch.setitem(imports_module.READERS, "medline", broken)
    db = tmp_path / "s.sqlite"
    with open_store(db, create=True) as s:
        with pytest.raises(KeyboardInterrupt):
            import_file(s, str(NCBI / "pubmed_result2.txt"))
        assert s.searches() == [] and prisma_counts(s).identified == {}


def synthetic_xml(path, n: int) -> None:
    text = (NCBI / "pubmed2.xml").read_text(encoding="utf-8")
    head = text[:text.index("<PubmedArticle>")]
    art = re.search(r"<PubmedArticle>.*?</PubmedArticle>", text, re.S).group()
    with open(path, "w", encoding="utf-8") as f:
        f.write(head)
        for i in range(n):  # SYNTHETIC: one recorded article, renumbered
            f.write(art.replace("11748933", str(70000000 + i), 1).replace("10.1006/", f"10.1006/{i}-") + "\n")
        f.write("</PubmedArticleSet>\n")


@pytest.mark.slow  # three real imports of 3,000 records, one killed
def test_kill_9_during_an_import_then_rerun_equals_an_uninterrupted_import(tmp_path):
    big = tmp_path / "big.xml"
    synthetic_xml(big, 3000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    a, b = tmp_path / "killed.sqlite", tmp_path / "whole.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "metail2", "records", "import", str(big), "--db", str(a)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    n = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and n == 0:
        time.sleep(0.01)
        try:
            con = sqlite3.connect(a, timeout=1)
            n = con.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
            con.close()
        except sqlite3.Error:
            continue
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    con = sqlite3.connect(a)
    assert con.execute("SELECT status FROM searches").fetchall() == [("running",)]
    stored_before = con.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    con.close()
    assert 0 < stored_before < 3000
    again = subprocess.run([sys.executable, "-m", "metail2", "records", "import", str(big), "--db", str(a)],
                           cwd=ROOT, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and f"resumed import 1 after the {stored_before} records" in again.stdout
    assert main(["records", "import", str(big), "--db", str(b)]) == 0
    dumps = []
    for db in (a, b):
        con = sqlite3.connect(db)
        dumps.append(con.execute("SELECT pmid, doi, title, raw FROM records ORDER BY id").fetchall())
        assert con.execute("SELECT COUNT(*), COUNT(DISTINCT record_id) FROM search_records").fetchone() == (3000, 3000)
        con.close()
        assert main(["prisma", "--db", str(db), "--json"]) == 0
    assert dumps[0] == dumps[1] and len(dumps[0]) == 3000


def test_ctrl_c_during_an_import_says_what_was_kept_and_the_rerun_finishes(tmp_path, capsys, monkeypatch):
    real = imports_module.READERS["medline"]

    def interrupted(path, issues, encoding=None):
        for i, rec in enumerate(real(path, issues, encoding=encoding)):
            if i == 3:
                raise KeyboardInterrupt
            yield rec

    monkeypatch.setattr(imports_module, "BATCH", 2)
    monkeypatch.setitem(imports_module.READERS, "medline", interrupted)
    db = str(tmp_path / "s.sqlite")
    assert main(["records", "import", str(NCBI / "pubmed_result2.txt"), "--db", db]) == 130
    assert capsys.readouterr().err == ("metail2: error: interrupted; the records of whole batches already imported "
                                       "are kept; run the same command again to finish (a file already imported is "
                                       "recognised and not counted twice)\n")
    monkeypatch.setitem(imports_module.READERS, "medline", real)
    assert main(["records", "import", str(NCBI / "pubmed_result2.txt"), "--db", db]) == 0
    assert "2 records (2 new, 0 duplicates linked, 0 already stored); 0 skipped; resumed import 1 after the 2 " \
        "records its first run stored" in capsys.readouterr().out
    with open_store(db) as s:
        (log,) = s.searches()
        assert log.status == "complete" and s.search_record_count(log.id) == 4
