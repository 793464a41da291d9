"""Shared data and helpers of the plot tests.

Figures are drawn with Agg. Each test's own figures are closed after it;
figures made by module-scoped fixtures (drawn once, inspected by several
tests) are closed by their fixture.
"""
from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from metail2 import pool
from metail2.errors import MetailWarning
from tests.conftest import ROOT

METAFOR = ROOT / "tests" / "validation" / "metafor"
IL2 = ROOT / "extraction" / "il2_crc_response.csv"


def quiet_pool(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetailWarning)
        return pool(*args, **kw)


def texts(fig):
    """The figure's visible, non-empty texts."""
    return [t for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip() and t.get_visible()]


@pytest.fixture(autouse=True)
def _close_new_figures():
    before = set(plt.get_fignums())
    yield
    for n in set(plt.get_fignums()) - before:
        plt.close(n)


@pytest.fixture(scope="session")
def bcg():
    """BCG trials, risk ratio, by allocation (separate τ²): 13 studies in 3 subgroups."""
    return quiet_pool(METAFOR / "bcg.csv", "RR", by="allocation")


@pytest.fixture(scope="session")
def normand_md():
    """Normand 1999, mean difference: 9 studies, no subgroups."""
    return quiet_pool(METAFOR / "normand1999.csv", "MD")


@pytest.fixture(scope="session")
def il2():
    """The IL-2 sheet, logit proportion, by route: single studies, a missing group, rows not pooled."""
    return quiet_pool(IL2, "PLO", by="route")


@pytest.fixture(scope="session")
def hackshaw():
    """Hackshaw 1998, odds ratio from estimate and CI (generic rows), by design: 37 studies."""
    return quiet_pool(METAFOR / "hackshaw1998.csv", "OR", by="design")
