"""The HTML report in real headless Chromium: no console errors, every chart has data."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from test_release import CALLS, _publish

CHROMIUM = Path("/usr/bin/chromium")


def test_report_renders_with_charts(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed: `apt-get install chromium` enables this test")
    from playwright.sync_api import sync_playwright

    _publish(tmp_path, CALLS)
    page_path = tmp_path / "2026-09" / "index.html"
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_path.as_uri())
            charts = page.locator("figure svg")
            assert charts.count() == 5
            for i in range(charts.count()):
                assert charts.nth(i).locator(".mark").count() > 0, f"chart {i} has no data"
            assert "Token economy, 2026-09" in page.inner_text("h1")
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=False)
            target = os.environ.get("CIYUAN_SCREENSHOT_DIR")
            if target:
                shutil.copy(shot, Path(target) / "report.png")
            page.goto((tmp_path / "2026-09" / "methods.html").as_uri())
            assert "Price index" in page.inner_text("body")
        finally:
            browser.close()
    assert not errors, errors
