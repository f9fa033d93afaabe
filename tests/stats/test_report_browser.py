"""The HTML report in real headless Chromium: no console errors, every chart has data."""

from __future__ import annotations

from pathlib import Path

from test_release import CALLS, _publish

from chromium_page import chromium_page, screenshot


def test_report_renders_with_charts(tmp_path: Path) -> None:
    _publish(tmp_path, CALLS)
    with chromium_page(1200, 900) as (page, errors):
        page.goto((tmp_path / "2026-09" / "index.html").as_uri())
        charts = page.locator("figure svg")
        assert charts.count() == 5
        for i in range(charts.count()):
            assert charts.nth(i).locator(".mark").count() > 0, f"chart {i} has no data"
        assert "Token economy, 2026-09" in page.inner_text("h1")
        screenshot(page, tmp_path, "report.png", full_page=False)
        page.goto((tmp_path / "2026-09" / "methods.html").as_uri())
        assert "Price index" in page.inner_text("body")
    assert not errors, errors
