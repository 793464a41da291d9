"""Every analysis kind of the reference suite is taken by a test module
(``cases("kind")``), or skipped here with the reason."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.validation_support import kinds

TESTS = Path(__file__).parent
SOURCES = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.rglob("test_*.py") if p.name != Path(__file__).name)


@pytest.mark.parametrize("kind", sorted(kinds()))
def test_kind_is_validated(kind):
    if f'cases("{kind}")' not in SOURCES:
        pytest.skip(f"{kind}: not implemented yet (a later issue); its reference cases wait in tests/validation/metafor")
