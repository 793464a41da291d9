"""The store under stress, with real processes and real SQLite files: two
processes creating a store at once, a lock held past the timeout, a corrupt
file, a newer schema, a missing store, a read-only store, a full disk. Every
failure is one line and exit code 3; the store is left as it was."""
from __future__ import annotations

import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metail2.cli import main
from metail2.review import open_store
from metail2.review.store import StoreError
from metail2.review.store.sqlite import SCHEMA_VERSION

from tests.conftest import ROOT

NCBI = ROOT / "tests" / "fixtures" / "ncbi"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def metail2(*argv, env=None, **kw) -> subprocess.CompletedProcess:
    """The ``metail2`` command in its own process."""
    return subprocess.run([sys.executable, "-m", "metail2", *map(str, argv)], cwd=ROOT, env={**ENV, **(env or {})},
                          capture_output=True, text=True, timeout=120, **kw)


def one_error_line(proc, code: int, *words: str) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("metail2: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def a_store(path) -> Path:
    assert main(["records", "import", str(NCBI / "pubmed1.xml"), "--db", str(path)]) == 0
    return Path(path)


def contents(path) -> tuple:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return tuple(tuple(map(tuple, con.execute(f"SELECT * FROM {t} ORDER BY 1, 2"))) for t in
                     ("searches", "records", "search_records", "screening", "meta"))
    finally:
        con.close()


RACE = r"""
import sys, time
from metail2.review import open_store
path, at = sys.argv[1], float(sys.argv[2])
while time.time() < at:
    pass
with open_store(path, create=True) as s:
    s.start_search("file", sys.argv[3], "ris", {}, None)
"""


@pytest.mark.slow  # 20 processes
def test_two_processes_creating_a_fresh_store_at_once_both_succeed(tmp_path):
    at = time.time() + 3  # after every process has imported metail2
    procs = []
    for pair in range(10):
        db = tmp_path / f"pair{pair}.sqlite"
        procs += [(db, subprocess.Popen([sys.executable, "-c", RACE, str(db), repr(at), who], cwd=ROOT, env=ENV,
                                        stderr=subprocess.PIPE, text=True)) for who in ("a", "b")]
    failures = [p.stderr.read() for _, p in procs if p.wait(60) != 0]
    assert failures == []
    for pair in range(10):
        with open_store(tmp_path / f"pair{pair}.sqlite", readonly=True) as s:
            assert s.schema_version == SCHEMA_VERSION and sorted(x.query for x in s.searches()) == ["a", "b"]
            assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_lock_held_past_the_timeout_is_one_line_exit_3(tmp_path):
    db = a_store(tmp_path / "s.sqlite")
    before = contents(db)
    holder = subprocess.Popen([sys.executable, "-c", "import sqlite3, sys\n"
                               f"c = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
                               "c.execute('BEGIN IMMEDIATE'); print('held', flush=True); sys.stdin.read()"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        t = time.monotonic()
        proc = metail2("records", "import", NCBI / "pubmed2.xml", "--db", db, env={"METAIL2_STORE_TIMEOUT": "0.5"})
        one_error_line(proc, 3, str(db), "locked by another process (waited 0.5 s)")
        assert time.monotonic() - t < 30
        # a reader is not blocked by a writer (WAL)
        assert metail2("prisma", "--db", db, "--json").returncode == 0
    finally:
        holder.stdin.close()
        holder.wait()
    assert contents(db) == before


def test_a_corrupt_or_foreign_file_is_exit_3_and_untouched(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(os.urandom(4096))
    damaged = a_store(tmp_path / "damaged.sqlite")
    with open(damaged, "r+b") as f:  # every page after the first overwritten: the schema survives, the tables do not
        f.seek(4096)
        f.write(b"\xa5" * (os.path.getsize(damaged) - 4096))
    foreign = tmp_path / "other-app.sqlite"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE notes (x)")
    con.commit()
    con.close()
    for path, cmd, words in ((junk, "prisma", "not a metail2 records store, or damaged"),
                             (junk, "records import", "not a metail2 records store, or damaged"),
                             (damaged, "prisma", "damaged"),
                             (foreign, "records import", "an SQLite database but not a metail2 records store")):
        data = path.read_bytes()
        argv = ["prisma", "--db", path] if cmd == "prisma" else ["records", "import", NCBI / "pubmed2.xml", "--db", path]
        one_error_line(metail2(*argv), 3, str(path), *[words])
        assert path.read_bytes() == data, (path, cmd)


def test_a_newer_schema_is_exit_3(tmp_path):
    db = a_store(tmp_path / "s.sqlite")
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    for argv in (["prisma", "--db", db], ["records", "import", NCBI / "pubmed2.xml", "--db", db]):
        one_error_line(metail2(*argv), 3, "schema is version 99, newer than this metail2", "upgrade metail2")
    with pytest.raises(StoreError, match="newer"):
        open_store(db)


def test_an_older_store_is_migrated_once_and_keeps_its_records(tmp_path):
    from metail2.review.store.sqlite import MIGRATIONS

    db = tmp_path / "v1.sqlite"
    con = sqlite3.connect(db)
    con.executescript(MIGRATIONS[1] + "INSERT INTO meta VALUES ('schema_version', '1');"
                      "INSERT INTO records (pmid, title, raw, raw_format) VALUES ('1', 'Old', '<x/>', 'pubmed-xml');")
    con.close()
    with pytest.raises(StoreError, match="older than this metail2's"):  # a reader never writes
        open_store(db, readonly=True)
    with open_store(db) as s:
        assert s.schema_version == SCHEMA_VERSION and [r["title"] for r in s.records()] == ["Old"]


MISSING = [["records", "export", "--format", "jsonl"], ["screen", "export", "--csv", "{tmp}/x.csv"],
           ["screen", "import", "{tmp}/x.csv", "--reviewer", "A", "--stage", "title-abstract"],
           ["screen", "conflicts"], ["prisma"], ["sheet", "from-records", "{tmp}/sheet.csv", "--measure", "OR"]]


@pytest.mark.parametrize("argv", MISSING, ids=lambda a: " ".join(a[:2]))
def test_only_search_and_import_create_a_store(tmp_path, capsys, argv):
    (tmp_path / "x.csv").write_text("record_id,decision\n")
    db = tmp_path / "mistyped.sqlite"
    code = main([a.format(tmp=tmp_path) for a in argv] + ["--db", str(db)])
    err = capsys.readouterr().err
    assert code == 3 and err == (f"metail2: error: {db}: no records store there (only `metail2 search` and "
                                 "`metail2 records import` make a new one); check --db\n")
    assert not db.exists() and not (tmp_path / "sheet.csv").exists()


def test_a_folder_or_an_unknown_url_given_as_the_store_is_exit_3(tmp_path, capsys):
    assert main(["prisma", "--db", str(tmp_path)]) == 3
    assert capsys.readouterr().err == f"metail2: error: {tmp_path}: is a folder, not a records store; check --db\n"
    assert main(["records", "import", str(NCBI / "pubmed1.xml"), "--db", "postgresql://db.example.org/review"]) == 3
    assert capsys.readouterr().err == ("metail2: error: postgresql://db.example.org/review: no store backend for "
                                       "postgresql:// URLs (known: sqlite://; or give a file path)\n")


def _without_write_access(path: Path) -> list[str]:
    """The store's file and folder made unwritable; the command prefix that
    runs a process bound by that (root writes anything, so as root the
    process runs without the capability to override file permissions)."""
    os.chmod(path, 0o444)
    os.chmod(path.parent, 0o555)
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a file read-only for this process")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def test_a_read_only_store_can_be_read_but_not_written(tmp_path, capsys):
    (tmp_path / "ro").mkdir()
    db = a_store(tmp_path / "ro" / "s.sqlite")
    capsys.readouterr()
    before = contents(db)
    files = sorted(os.listdir(db.parent))
    prefix = _without_write_access(db)

    def run(*argv):
        return subprocess.run([*prefix, sys.executable, "-m", "metail2", *map(str, argv)], cwd=ROOT, env=ENV,
                              capture_output=True, text=True, timeout=120)

    try:
        p = run("prisma", "--db", db, "--json")
        assert p.returncode == 0 and '"identified_total": 2' in p.stdout, p.stderr
        p = run("records", "export", "--db", db, "--format", "jsonl")
        assert p.returncode == 0 and len(p.stdout.splitlines()) == 2, p.stderr
        assert run("screen", "conflicts", "--db", db).returncode == 0
        one_error_line(run("records", "import", NCBI / "pubmed2.xml", "--db", db), 3, str(db), "read-only")
        assert sorted(os.listdir(db.parent)) == files and contents(db) == before
    finally:
        os.chmod(tmp_path / "ro", 0o755)


def _file_size_limit(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_full_disk_is_one_line_and_the_store_is_intact(tmp_path):
    db = a_store(tmp_path / "s.sqlite")
    before = contents(db)
    big = tmp_path / "big.xml"  # records the store has not seen, more bytes than the limit allows
    text = (NCBI / "pubmed4.xml").read_text(encoding="utf-8")
    head, art = text[:text.index("<PubmedArticle>")], text[text.index("<PubmedArticle>"):text.index("</PubmedArticleSet>")]
    big.write_text(head + "".join(art.replace("27797938", str(60000000 + i)).replace("10.1136/gutjnl-2016-312510", f"10.1/{i}")
                                  for i in range(40)) + "</PubmedArticleSet>\n", encoding="utf-8")
    limit = os.path.getsize(db) + 64 * 1024
    proc = metail2("records", "import", big, "--db", db, preexec_fn=_file_size_limit(limit))
    one_error_line(proc, 3, str(db), "this step was not stored, the store is as it was")
    assert contents(db) == before  # no trace of the import that failed: not even a 0-record source
    assert main(["records", "import", str(big), "--db", str(db)]) == 0  # and it still works
