from __future__ import annotations

import warnings

import pytest

from metail2.effects import escalc
from metail2.errors import MetailWarning
from tests.validation_support import METAFOR


def quiet(f, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetailWarning)
        return f(*args, **kw)


@pytest.fixture(scope="session")
def bcg():
    """BCG trials, log risk ratios (13 studies)."""
    return quiet(escalc, METAFOR / "bcg.csv", "RR")


@pytest.fixture(scope="session")
def hackshaw():
    """Passive smoking, log odds ratios from 95% CIs (37 studies)."""
    return quiet(escalc, METAFOR / "hackshaw1998.csv", "OR")
