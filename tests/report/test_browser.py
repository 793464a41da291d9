"""The report as a reader sees it, in headless Chromium: it loads with no
console errors, the forest plot is drawn and visible, the PubMed links carry
the right PMIDs, and a study named ``<script>alert(1)</script>`` is shown as
text (and runs nothing). One screenshot is kept as the test's artifact."""
from __future__ import annotations

import os

import pytest

from .browser import chromium, missing
from .conftest import XSS

pytestmark = pytest.mark.slow

why = missing()
if why:
    if os.environ.get("CI"):
        raise RuntimeError(f"the browser test must run in CI: {why}")
    pytest.skip(why, allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with chromium(1400, 1000) as d:
        yield d


@pytest.fixture(scope="module")
def loaded(browser, hostile_report):
    browser.get("file://" + str(hostile_report))
    return browser


def test_loads_without_console_errors(loaded):
    from selenium.webdriver.common.by import By

    assert loaded.title.startswith("Meta-analysis of logit proportion")
    logs = loaded.get_log("browser")
    assert not [e for e in logs if e["level"] in ("SEVERE", "WARNING")], logs
    assert loaded.execute_script("return document.scripts.length") == 0
    assert loaded.find_element(By.ID, "methods").is_displayed()


def test_forest_plot_is_visible(loaded):
    from selenium.webdriver.common.by import By

    svg = loaded.find_element(By.CSS_SELECTOR, "#figure-forest svg")
    loaded.execute_script("arguments[0].scrollIntoView()", svg)
    assert svg.is_displayed()
    assert svg.size["width"] > 400 and svg.size["height"] > 200
    texts = loaded.execute_script("return Array.from(arguments[0].querySelectorAll('text')).map(t => t.textContent)", svg)
    assert XSS in texts and "Smith 1999" in texts
    box = loaded.execute_script("const b = arguments[0].getBBox(); return [b.width, b.height]", svg)
    assert box[0] > 100 and box[1] > 100, "the drawing has extent"


def test_links_carry_the_right_pmids(loaded):
    from selenium.webdriver.common.by import By

    expected = {"study-2": "11748933", "study-3": "11700088", "study-5": "12091962", "study-6": "9997"}
    for row_id, pmid in expected.items():
        link = loaded.find_element(By.CSS_SELECTOR, f"tr#{row_id} a[href^='https://pubmed.ncbi.nlm.nih.gov/']")
        assert link.get_attribute("href") == f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
        assert link.text == f"PMID {pmid}"
    for row_id in ("study-4", "study-7", "study-8"):
        assert not loaded.find_elements(By.CSS_SELECTOR, f"tr#{row_id} a[href*='pubmed']")
    sheet = loaded.find_element(By.CSS_SELECTOR, "tr#study-2 a[href*='sheet.csv']")
    assert sheet.get_attribute("href").endswith("/sheet.csv#L2") and sheet.text == "sheet.csv:2"


def test_script_in_a_study_name_is_text(loaded):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    first = loaded.find_element(By.CSS_SELECTOR, "tr#study-2 td")
    assert first.text == XSS
    bold = loaded.find_element(By.CSS_SELECTOR, "tr#study-8 td")
    assert bold.text == "Lee <b>bold</b> 2007"
    assert not loaded.find_elements(By.CSS_SELECTOR, "main b, main script")
    with pytest.raises(NoAlertPresentException):
        loaded.switch_to.alert.text  # noqa: B018


def test_pooled_numbers_show_their_studies(loaded):
    from selenium.webdriver.common.by import By

    row = loaded.find_element(By.XPATH, "//div[@id='table-pooled']//tr[td[1][normalize-space()='Overall']]")
    cells = row.find_elements(By.TAG_NAME, "td")
    assert cells[2].get_attribute("title").startswith("Pooled: " + XSS)
    names = [a.text for a in cells[-1].find_elements(By.TAG_NAME, "a")]
    assert names[0] == XSS and len(names) == 6
    cells[-1].find_elements(By.TAG_NAME, "a")[0].click()
    assert loaded.execute_script("return location.hash") == "#study-2"


def test_screenshot_artifact(loaded, tmp_path_factory):
    loaded.execute_script("document.getElementById('pooled').scrollIntoView()")
    out = tmp_path_factory.mktemp("artifacts") / "report.png"
    assert loaded.save_screenshot(str(out))
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    print(f"screenshot: {out}")
