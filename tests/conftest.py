from __future__ import annotations

import csv
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.fixture
def write_sheet(tmp_path):
    """Write rows (dicts) to a CSV sheet and return its path."""

    def write(rows: list[dict], name: str = "sheet.csv", columns: list[str] | None = None) -> Path:
        columns = columns or list(dict.fromkeys(c for r in rows for c in r))
        path = tmp_path / name
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=columns)
            w.writeheader()
            for r in rows:
                w.writerow(r)
        return path

    return write
