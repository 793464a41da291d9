"""The one error path (issue 9, item 13): every failure is a few lines and an
exit code, never a traceback without --debug."""
from __future__ import annotations

import subprocess
import sys

import pytest

from metail2.cli import main
from tests.conftest import ROOT

IL2 = str(ROOT / "extraction" / "il2_crc_response.csv")


def _run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.err


@pytest.mark.parametrize("rows", [
    [("A", "0.1", "1e-10"), ("B", "0.3", "0.2"), ("C", "0.5", "0.3")],      # SE 1e-10 beside 0.2
    [("A", "0.1", "1e200"), ("B", "0.3", "0.2"), ("C", "0.5", "0.3")],      # SE 1e200
    [("A", "1e100", "0.1"), ("B", "0.3", "0.2"), ("C", "-1e100", "0.3")],   # estimates 1e100
])
@pytest.mark.parametrize("method", ["REML", "PM", "DL"])
def test_numbers_double_precision_cannot_pool_are_refused(write_sheet, capsys, rows, method):
    path = write_sheet([{"study_id": s, "estimate": e, "se": se} for s, e, se in rows])
    code, err = _run(["pool", str(path), "--measure", "MD", "--method", method, "--test", "hk"], capsys)
    assert code == 2 and ("cannot pool" in err or "too extreme" in err)


def test_output_in_a_missing_place_is_one_line(capsys):
    code, err = _run(["plot", IL2, "--measure", "PLO", "-o", "/proc/nowhere/x.png"], capsys)
    assert code == 2 and err.startswith("metail2: error: ")


def test_negative_decimals_is_a_usage_error(tmp_path, capsys):
    code, err = _run(["plot", IL2, "--measure", "PLO", "--decimals", "-3", "-o", str(tmp_path / "x.png")], capsys)
    assert code == 2 and "must be 0 or more" in err


def test_an_unexpected_failure_is_exit_70_without_traceback(monkeypatch, capsys):
    import metail2.cli.analyse as analyse

    def boom(args):
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr(analyse, "pool_command", boom)
    code, err = _run(["pool", IL2, "--measure", "PLO"], capsys)
    assert code == 70 and "something nobody expected" in err and "--debug" in err


def test_debug_shows_the_traceback(monkeypatch):
    import metail2.cli.analyse as analyse

    monkeypatch.setattr(analyse, "pool_command", lambda args: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        main(["--debug", "pool", IL2, "--measure", "PLO"])


def test_ctrl_c_is_130_and_says_what_was_kept(monkeypatch, capsys):
    import metail2.cli.analyse as analyse

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(analyse, "pool_command", interrupted)
    code, err = _run(["pool", IL2, "--measure", "PLO"], capsys)
    assert code == 130 and "interrupted" in err and "nothing was written" in err


def test_no_traceback_from_a_real_process():
    proc = subprocess.run([sys.executable, "-m", "metail2", "pool", "/nonexistent.csv", "--measure", "PLO"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
