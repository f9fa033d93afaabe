"""The dashboard in real headless Chromium: no console errors, every chart draws data."""

from __future__ import annotations

from pathlib import Path

from dashboard_fixtures import FakeData, serving

from chromium_page import chromium_page, screenshot


def _browse(url: str, tmp_path: Path, name: str) -> tuple[list[str], dict[str, int], str]:
    with chromium_page(1280, 1100) as (page, errors):
        page.goto(f"{url}/dashboard")
        page.wait_for_function("document.getElementById('status').textContent"
                               ".startsWith('updated')", timeout=15_000)
        marks = {fig: page.locator(f"#{fig} .mark").count()
                 for fig in ("hourly", "release-index", "release-models")}
        text = page.inner_text("main")
        screenshot(page, tmp_path, name)
    return errors, marks, text


def test_dashboard_renders_every_chart(tmp_path: Path) -> None:
    with serving(FakeData()) as url:
        errors, marks, text = _browse(url, tmp_path, "dashboard.png")
    assert not errors, errors
    assert marks == {"hourly": 3, "release-index": 6, "release-models": 2}
    assert "4,300" in text  # standard tokens today
    assert "tenant:acme" in text and "80.0%" in text  # the budget's fill
    assert "2026-10, revision 0" in text


def test_dashboard_without_a_release_says_how_to_make_one(tmp_path: Path) -> None:
    with serving(FakeData(release=None)) as url:
        errors, marks, text = _browse(url, tmp_path, "dashboard-empty.png")
    assert not errors, errors
    assert marks["hourly"] == 3
    assert "ciyuan report --month" in text
