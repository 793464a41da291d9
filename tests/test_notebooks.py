"""Every notebook in notebooks/ runs from a fresh kernel, and is committed clean."""
from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the forest plot is shown inline"
    assert any("text/html" in o.get("data", {}) and "metail2-result" in o["data"]["text/html"] for o in outputs)
    text = "".join(o.get("text", "") for o in outputs)
    assert "not poolable (no complete input group): 4" in text
    assert "GLMM  overall" in text and "REML  overall" in text


def test_there_is_a_notebook():
    assert NOTEBOOKS
