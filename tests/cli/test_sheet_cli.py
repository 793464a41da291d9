"""Every sheet command ends in a clear message and an exit code, never a
traceback: real processes, real files, paths that cannot be read or written."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import pytest

from tests.conftest import ROOT

IL2 = ROOT / "extraction" / "il2_crc_response.csv"


def run(*args, cwd):
    p = subprocess.run([sys.executable, "-m", "metail2", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                       timeout=120)
    assert "Traceback" not in p.stderr, p.stderr
    return p


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp("exported")
    shutil.copy(IL2, d / "s.csv")
    assert run("sheet", "export", "s.csv", "--xlsx", "s.xlsx", cwd=d).returncode == 0
    return d


@pytest.fixture
def work(tmp_path, exported):
    """s.csv (the IL-2 sheet), s.xlsx exported from it, b.csv (a copy), adir/ (empty)."""
    for name in ("s.csv", "s.xlsx"):
        shutil.copy(exported / name, tmp_path / name)
    shutil.copy(IL2, tmp_path / "b.csv")
    (tmp_path / "adir").mkdir()
    return tmp_path


WRITES = {
    "new": ["sheet", "new", "--measure", "PLO", "{out}.csv"],
    "export": ["sheet", "export", "s.csv", "--xlsx", "{out}.xlsx"],
    "import": ["sheet", "import", "s.xlsx", "--csv", "{out}.csv"],
    "reconcile": ["sheet", "reconcile", "s.csv", "b.csv", "--out", "{out}.csv"],
}


def _ends_in_one_error_line(p, *needles):
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert lines and lines[-1].startswith("metail2: error: "), p.stderr
    assert sum(x.startswith("metail2: error") for x in lines) == 1, p.stderr
    for n in needles:
        assert n in lines[-1], (n, lines[-1])


@pytest.mark.parametrize("command", WRITES)
def test_writing_into_a_missing_directory(work, command):
    p = run(*(a.format(out="missing/out") for a in WRITES[command]), cwd=work)
    _ends_in_one_error_line(p, "cannot write missing/out", "directory missing does not exist", "nothing written")


def _sysfs_read_only() -> bool:
    try:
        fd, name = tempfile.mkstemp(dir="/sys")
    except OSError:
        return os.path.isdir("/sys")
    os.close(fd)
    os.unlink(name)
    return False


@pytest.mark.skipif(not _sysfs_read_only(), reason="needs a directory read-only even for root (Linux sysfs)")
@pytest.mark.parametrize("command", WRITES)
def test_writing_into_a_read_only_directory(work, command):
    p = run(*(a.format(out="/sys/metail2-out") for a in WRITES[command]), cwd=work)
    _ends_in_one_error_line(p, "cannot write /sys/metail2-out", "permission denied")


@pytest.mark.parametrize("command", WRITES)
def test_writing_into_a_chmod_read_only_directory(work, command):
    ro = work / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who may write anywhere (root)")
        p = run(*(a.format(out="ro/out") for a in WRITES[command]), cwd=work)
        _ends_in_one_error_line(p, "cannot write ro/out", "permission denied")
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize("command", WRITES)
def test_writing_onto_a_directory(work, command):
    args = [a.format(out="adir").replace("adir.csv", "adir").replace("adir.xlsx", "adir") for a in WRITES[command]]
    p = run(*args, "--force", cwd=work) if command != "import" else run(*args, cwd=work)
    assert p.returncode == 2 and "directory" in p.stderr and p.stderr.strip().count("\n") == 0, p.stderr
    assert (work / "adir").is_dir() and not any((work / "adir").iterdir())


@pytest.mark.parametrize("args", [
    ["sheet", "check", "adir"], ["sheet", "export", "adir", "--xlsx", "x.xlsx"],
    ["sheet", "reconcile", "adir", "s.csv"], ["sheet", "import", "adir", "--csv", "x.csv"],
    ["pool", "adir", "--measure", "PLO"],
], ids=["check", "export", "reconcile", "import", "pool"])
def test_a_directory_given_as_the_input(work, args):
    p = run(*args, cwd=work)
    assert p.returncode == 2 and "adir: " in p.stdout + p.stderr and "directory" in (p.stdout + p.stderr).lower()
    assert not (work / "x.xlsx").exists() and not (work / "x.csv").exists()


def _zip_not_xlsx(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not a workbook")


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b""), "is empty (0 bytes), not an .xlsx workbook"),
    (lambda p: p.write_bytes(IL2.read_bytes()), "is not an .xlsx workbook (not a zip file)"),
    (lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504),
     "an old .xls or an encrypted workbook"),
    (_zip_not_xlsx, "cannot read workbook"),
    (None, "cannot read workbook: No such file or directory"),
], ids=["empty", "csv", "xls", "zip", "missing"])
def test_an_input_that_is_not_a_workbook(work, make, message):
    book = work / "in.xlsx"
    if make is not None:
        make(book)
    p = run("sheet", "import", "in.xlsx", "--csv", "out.csv", cwd=work)
    assert p.returncode == 2 and p.stderr.startswith("in.xlsx: ") and message in p.stderr, p.stderr
    assert not (work / "out.csv").exists()


def test_an_empty_workbook(work):
    from openpyxl import Workbook

    Workbook().save(work / "empty.xlsx")
    p = run("sheet", "import", "empty.xlsx", "--csv", "out.csv", cwd=work)
    assert p.returncode == 2 and "empty.xlsx: the workbook's worksheet 'Sheet' is empty" in p.stderr


def test_a_workbook_given_as_a_sheet_is_named(work):
    p = run("sheet", "check", "s.xlsx", cwd=work)
    assert p.returncode == 2 and "s.xlsx: is a zip file (an .xlsx workbook?), not a CSV sheet" in p.stdout


def test_outputs_that_would_replace_an_input_are_refused(work):
    before = (work / "s.csv").read_bytes()
    _ends_in_one_error_line(run("sheet", "export", "s.csv", "--xlsx", "s.csv", "--force", cwd=work), "the sheet itself")
    _ends_in_one_error_line(run("sheet", "reconcile", "s.csv", "b.csv", "--out", "b.csv", "--force", cwd=work),
                            "one of the sheets compared")
    p = run("sheet", "import", "s.xlsx", "--csv", "s.xlsx", "--force", cwd=work)
    assert p.returncode == 2 and "is the workbook itself" in p.stderr
    assert (work / "s.csv").read_bytes() == before
    assert zipfile.is_zipfile(work / "s.xlsx")


def test_an_existing_output_without_force_is_one_error_line(work):
    _ends_in_one_error_line(run("sheet", "export", "s.csv", "--xlsx", "s.xlsx", cwd=work), "exists; pass --force")
    _ends_in_one_error_line(run("sheet", "new", "--measure", "PLO", "s.csv", cwd=work), "exists; pass --force")
