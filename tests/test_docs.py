"""The documentation's examples run: the README's Python session and every
docstring ``Examples`` section of the package (doctest)."""
from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
import warnings

import pytest

import metail2
from tests.conftest import ROOT


def test_readme_python_session_runs(monkeypatch):
    monkeypatch.chdir(ROOT)
    os.makedirs("out", exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the k = 1 subgroup notes
        result = doctest.testfile(str(ROOT / "README.md"), module_relative=False,
                                  optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


MODULES = sorted(m.name for m in pkgutil.walk_packages(metail2.__path__, "metail2.")
                 if m.name not in ("metail2.__main__",))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
