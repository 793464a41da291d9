"""The notebooks: the review template runs from a fresh kernel on the IL-2
sheet, on a metafor suite sheet and on a recorded records store, by injected
parameters (papermill's convention: a cell tagged ``injected-parameters``
after the one tagged ``parameters``); the IL-2 notebook is the template with
its own parameters; both are committed clean; warnings appear as the
package's notes, never as raw Python warnings; and the IL-2 notebook's
rendering in ``docs/`` is current.

``python -m tests.test_notebooks`` rebuilds the IL-2 notebook from the
template (keeping its parameters), executes it and rewrites
``docs/il2_response_by_route.html``.
"""
from __future__ import annotations

import copy
import html
import re
import sys
from html.parser import HTMLParser

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TEMPLATE = ROOT / "notebooks" / "review_template.ipynb"
IL2 = ROOT / "notebooks" / "il2_response_by_route.ipynb"
RENDERED = ROOT / "docs" / "il2_response_by_route.html"
INJECTED = "injected-parameters"


# --------------------------------------------------------------------------- parameters

def _tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", [])


def parameters_source(params: dict) -> str:
    return "# Parameters of this instance\n" + "\n".join(f"{k} = {v!r}" for k, v in params.items())


def inject(nb, params: dict):
    """A copy of ``nb`` with a cell of ``params`` right after its parameters
    cell (replacing an injected one already there), as papermill does."""
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if INJECTED not in _tags(c)]
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in _tags(c)) + 1
    cell = nbformat.v4.new_code_cell(parameters_source(params))
    cell.metadata["tags"] = [INJECTED]
    cell["id"] = INJECTED
    nb.cells.insert(at, cell)
    return nb


def execute(nb, path=ROOT / "notebooks"):
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path)}}).execute()
    return nb


def outputs(nb) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def text_of(nb) -> str:
    """Every stream, plain-text, Markdown and HTML output, joined."""
    parts = []
    for o in outputs(nb):
        parts.append(o.get("text", ""))
        for kind in ("text/plain", "text/markdown", "text/html"):
            parts.append(o.get("data", {}).get(kind, ""))
    return "\n".join(parts)


def assert_clean_run(nb) -> None:
    outs = outputs(nb)
    errors = [o for o in outs if o.output_type == "error"]
    assert not errors, "\n".join("\n".join(o.traceback) for o in errors)
    stderr = [o.text for o in outs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"raw warnings or errors on stderr: {stderr}"
    assert "Warning:" not in text_of(nb)


# --------------------------------------------------------------------------- tests

@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code")


def test_template_has_one_parameters_cell():
    nb = nbformat.read(TEMPLATE, as_version=4)
    assert [i for i, c in enumerate(nb.cells) if "parameters" in _tags(c)] == [1]
    heads = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## ")]
    assert heads[:12] == ["## 1. Search and import", "## 2. Screening status and the PRISMA 2020 flow",
                          "## 3. The extraction sheet and its check", "## 4. Pooling by the grouping column",
                          "## 5. Forest plot", "## 6. Heterogeneity", "## 7. Sensitivity", "## 8. Small-study effects",
                          "## 9. Meta-regression", "## 10. Risk of bias", "## 11. Methods paragraph", "## 12. The report"]


def il2_parameters() -> dict:
    """The IL-2 notebook's injected parameters, read back from it."""
    nb = nbformat.read(IL2, as_version=4)
    cell = next(c for c in nb.cells if INJECTED in _tags(c))
    scope: dict = {}
    exec(cell.source, scope)  # noqa: S102  (our own notebook's literal assignments)
    return {k: v for k, v in scope.items() if not k.startswith("__")}


def test_il2_notebook_is_an_instance_of_the_template():
    template = nbformat.read(TEMPLATE, as_version=4)
    il2 = nbformat.read(IL2, as_version=4)
    params = il2_parameters()
    assert params["sheet"] == "../extraction/il2_crc_response.csv" and params["by"] == "route"
    expected = inject(template, params)
    assert [(c.cell_type, c.source, _tags(c)) for c in il2.cells] == \
        [(c.cell_type, c.source, _tags(c)) for c in expected.cells], \
        "the IL-2 notebook differs from the template: run python -m tests.test_notebooks"


@pytest.fixture(scope="module")
def il2_executed():
    return execute(nbformat.read(IL2, as_version=4))


@pytest.mark.slow
def test_il2_notebook_executes(il2_executed):
    nb = il2_executed
    assert_clean_run(nb)
    outs = outputs(nb)
    assert sum("image/png" in o.get("data", {}) for o in outs) >= 2, "forest and funnel plots inline"
    assert any("metail2-result" in o.get("data", {}).get("text/html", "") for o in outs)
    text = text_of(nb)
    assert "not poolable (no complete input group): 4" in text
    assert "GLMM · z" in text and "REML · z (this analysis)" in text
    assert "Okuno 1998 (pilot)" in text and "https://pubmed.ncbi.nlm.nih.gov/9742523/" in text
    assert "restricted maximum likelihood (REML)" in text and "locoregional pilot" in text
    assert "Search skipped (offline)" in text and "No records store: no PRISMA counts." in text
    assert (ROOT / "out" / "il2" / "report.html").exists() and (ROOT / "out" / "il2" / "forest.png").exists()


@pytest.mark.slow
@pytest.mark.parametrize("case", ["bcg-metafor", "recorded-store"])  # the IL-2 parameters: test_il2_notebook_executes
def test_template_runs_by_parameters(case, tmp_path):
    out = str(tmp_path / "out")
    params = {"output": out}
    if case == "bcg-metafor":
        params |= {"review_name": "BCG vaccine trials (metafor's dat.bcg)",
                   "sheet": str(ROOT / "tests" / "validation" / "metafor" / "bcg.csv"), "measure": "RR",
                   "by": "allocation", "moderator": "ablat"}
    elif case == "recorded-store":
        from tests.report.conftest import make_store, write_hostile_sheet

        write_hostile_sheet(tmp_path / "sheet.csv")
        params |= {"store": make_store(tmp_path), "sheet": str(tmp_path / "sheet.csv")}
    nb = execute(inject(nbformat.read(TEMPLATE, as_version=4), params))
    assert_clean_run(nb)
    text = text_of(nb)
    assert (tmp_path / "out" / "report.html").exists() and (tmp_path / "out" / "forest.png").exists()
    if case == "bcg-metafor":
        assert "Meta-regression on ablat" in text and "k = 13" in text
        assert "Test of moderators" in text
    if case == "recorded-store":
        assert "PRISMA 2020 flow counts" in text and "Studies included in review" in text
        assert "reading the recorded store" in text
        assert "Risk of bias (RoB 2)" in text and html.escape("<script>alert(1)</script>") in text


# --------------------------------------------------------------------------- the rendering in docs/

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 15px/1.5 "DejaVu Sans", Helvetica, Arial, sans-serif; max-width: 78rem; margin: 0 auto; padding: 1rem 2rem; }}
.jp-InputArea, .input_area, div.highlight {{ background: #f5f6f8; }}
pre {{ white-space: pre-wrap; font-size: .85rem; margin: .3rem 0; padding: .4rem .6rem; overflow-x: auto; }}
.jp-InputPrompt, .jp-OutputPrompt, .prompt {{ display: none; }}
.jp-OutputArea-output pre {{ background: #fff; border-left: 3px solid #d0d0d8; }}
table {{ border-collapse: collapse; font-size: .85rem; margin: .4rem 0; }}
th, td {{ border-bottom: 1px solid #d0d0d8; padding: .2rem .45rem; text-align: left; vertical-align: top; }}
img {{ max-width: 100%; }}
.jp-Cell {{ margin: .6rem 0; }}
</style>
</head>
<body>
<p><em>{note}</em></p>
{body}
</body>
</html>
"""
NOTE = ("The notebook notebooks/il2_response_by_route.ipynb (the review template with the IL-2 parameters), "
        "executed and rendered by python -m tests.test_notebooks; the test suite checks that it is current.")


def render_html(nb) -> str:
    """The executed notebook as one HTML page: nbconvert's basic template
    (no scripts, no external assets; images inline), volatile metadata
    (execution times, kernel versions) stripped, so the same outputs give the
    same bytes."""
    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    nb.metadata = {"kernelspec": nb.metadata.get("kernelspec", {}), "language_info": {"name": "python"}}
    for c in nb.cells:
        c.metadata.pop("execution", None)
    body, _ = HTMLExporter(template_name="basic", exclude_anchor_links=True).from_notebook_node(nb)
    body = "\n".join(line.rstrip() for line in body.splitlines()).strip() + "\n"
    return PAGE.format(title="IL-2 with chemotherapy for colorectal cancer: objective response by route", note=NOTE,
                       body=body)


class _Text(HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.parts, self.images = [], 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images += 1

    def handle_data(self, data):
        self.parts.append(data)


def _versions() -> list[str]:
    import numpy
    import scipy

    import metail2

    return [metail2.__version__, numpy.__version__, scipy.__version__,
            ".".join(map(str, sys.version_info[:3]))]


def content(page: str) -> tuple[str, int]:
    """What a reader reads in a rendering, whatever renderer and library
    versions made it: its text (software versions masked, whitespace
    collapsed) and its number of images."""
    p = _Text(page)
    text = " ".join(" ".join(p.parts).split())
    for v in _versions():
        text = text.replace(v, "<version>")
    text = re.sub(r"(NumPy|SciPy|Python|metail2) \d+(\.\d+)+\w*", r"\1 <version>", text)
    return text, p.images


@pytest.mark.slow
def test_docs_rendering_is_current(il2_executed):
    assert RENDERED.exists(), "run python -m tests.test_notebooks"
    fresh = render_html(il2_executed)
    assert content(RENDERED.read_text(encoding="utf-8")) == content(fresh), \
        "docs/il2_response_by_route.html is out of date: run python -m tests.test_notebooks"


@pytest.mark.slow
def test_docs_rendering_is_deterministic_and_self_contained(il2_executed):
    page = render_html(il2_executed)
    assert page == render_html(il2_executed)
    assert not re.search(r"<script|<link|\ssrc=\"(?!data:)|@import|url\(http", page)
    for volatile in ('"execution"', "iopub.", "shell.execute_reply", "2026-", "2025-"):
        assert volatile not in page


def test_there_is_a_notebook():
    assert TEMPLATE in NOTEBOOKS and IL2 in NOTEBOOKS


# --------------------------------------------------------------------------- rebuilding

IL2_PARAMETERS = {
    "review_name": "IL-2 with chemotherapy for colorectal cancer: objective response by route",
    "query": '"interleukin-2"[tiab] AND colorectal[tiab] AND (liver OR hepatic)',
    "store": None,
    "sheet": "../extraction/il2_crc_response.csv",
    "measure": "PLO",
    "method": "REML",
    "test": "z",
    "convention": "metail2",
    "by": "route",
    "moderator": ["route", "year"],
    "output": "../out/il2",
    "reading": (
        "A 2004 surgical review argued that IL-2 raises the activity of chemotherapy mainly in locoregional "
        "(hepatic arterial) programmes. Only one locoregional study reports counts (Okuno 1998, a pilot), so the "
        "locoregional estimate is a single pilot's response rate, not a pooled one, and the test for subgroup "
        "differences leans on it; the study whose route is not reported (Lin 2009) is drawn as its own block. "
        "Populations, lines of therapy and co-treatments differ between studies, and several systemic studies add "
        "a second cytokine. Response counts are small, where the logit transformation with its 1/2 correction is "
        "rough: the binomial–normal GLMM in the method comparison (R meta's default for proportions) tells the "
        "same story within the systemic route and overall. The data support \"higher response in the one "
        "locoregional pilot\", not a general claim. The meta-regression of response on route and year (k = 10, "
        "four coefficients, six residual degrees of freedom) restates the route contrast rather than testing it: "
        "each non-systemic route rests on a single study, and year stands for many changes in practice at once "
        "(chemotherapy, IL-2 schedules, response criteria), so it cannot separate era from route or co-treatment. "
        "With k = 10 it is descriptive, not confirmatory, and a permutation test (metail2 regress … --permutations "
        "exact) is the honest p-value."),
}


def rebuild() -> None:
    """Write the IL-2 notebook from the template (its parameters kept),
    execute it and write its rendering to docs/."""
    try:
        params = il2_parameters()
    except (FileNotFoundError, StopIteration):
        params = dict(IL2_PARAMETERS)
    nb = inject(nbformat.read(TEMPLATE, as_version=4), params)
    nbformat.write(nb, IL2)
    executed = execute(nbformat.read(IL2, as_version=4))
    assert_clean_run(executed)
    RENDERED.write_text(render_html(executed), encoding="utf-8")
    print(f"wrote {IL2.relative_to(ROOT)} and {RENDERED.relative_to(ROOT)}")


if __name__ == "__main__":
    rebuild()
