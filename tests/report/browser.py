"""Headless Chromium (Debian's ``chromium`` and ``chromium-driver``) driven
by Selenium, for tests that look at the report as a reader does.

``python -m tests.report.browser`` rewrites the README's screenshot of the
IL-2 report (``docs/il2_report.png``).
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from contextlib import contextmanager

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
DRIVER = ("chromedriver",)
ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--force-device-scale-factor=1")


def _which(names):
    for n in names:
        found = shutil.which(n) or (f"/usr/lib/chromium/{n}" if os.path.exists(f"/usr/lib/chromium/{n}") else None)
        if found:
            return found
    return None


def missing() -> str | None:
    """Why the browser cannot run here (None when it can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    if _which(CHROMIUM) is None or _which(DRIVER) is None:
        return "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver; .ci/run does)"
    return None


@contextmanager
def chromium(width: int = 1400, height: int = 1000):
    """A fresh headless Chromium (its own profile, no network services), closed after."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="metail2-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = _which(CHROMIUM)
    for a in ARGS + (f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(_which(DRIVER)), options=opts)
    try:
        driver.set_page_load_timeout(60)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(html_path, png_path, element: str | None = None, width: int = 1280, height: int = 1100) -> None:
    """A screenshot of a page (scrolled to ``element``'s id when given)."""
    with chromium(width, height) as d:
        d.get("file://" + os.path.abspath(html_path))
        if element:
            d.execute_script("document.getElementById(arguments[0]).scrollIntoView()", element)
        d.save_screenshot(os.fspath(png_path))


def main() -> int:  # python -m tests.report.browser
    from metail2.cli.report import report

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.chdir(root)
    with tempfile.TemporaryDirectory() as tmp:
        page = os.path.join("out", "il2_report.html")
        os.makedirs("out", exist_ok=True)
        report("extraction/il2_crc_response.csv", "PLO", by="route", output=page,
               title="IL-2 with chemotherapy for colorectal cancer: objective response by route")
        screenshot(page, os.path.join(tmp, "shot.png"), "pooled")
        shutil.copyfile(os.path.join(tmp, "shot.png"), os.path.join("docs", "il2_report.png"))
    print("wrote docs/il2_report.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
