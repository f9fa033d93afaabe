"""The dashboard in real headless Chromium: no console errors, every chart draws data.

Skipped without Debian's Chromium (`apt-get install chromium`). Set CIYUAN_SCREENSHOT_DIR to
keep the screenshot (docs/images/dashboard.png is made that way).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dashboard_fixtures import TOKEN, FakeData, busy_day, record, serving

from chromium_page import chromium_page, screenshot

CHARTS = ("hourly", "release-index", "release-models")
#: Longest wait for the page's first refresh, in ms.
LOAD_MS = 10_000


def _load(page: Any, url: str) -> None:
    page.goto(url)
    # a function, not an expression: the page's CSP forbids the eval an expression needs
    page.wait_for_function("() => document.getElementById('status').textContent"
                           ".startsWith('updated')", timeout=LOAD_MS)


def _marks(page: Any) -> dict[str, int]:
    return {chart: page.locator(f"#{chart} .mark").count() for chart in CHARTS}


def test_dashboard_shows_traffic_budgets_and_the_release(tmp_path: Path) -> None:
    with serving(FakeData(records=busy_day())) as url, \
            chromium_page(1280, 1000) as (page, errors):
        _load(page, f"{url}/dashboard#token={TOKEN}")
        marks = _marks(page)
        text = page.inner_text("main")
        assert "token" not in page.url  # taken out of the address bar once kept
        screenshot(page, tmp_path, "dashboard.png")
        page.reload()  # the tab keeps the token
        _load(page, f"{url}/dashboard")
        assert _marks(page) == marks
    assert not errors, errors
    assert marks == {"hourly": 16, "release-index": 6, "release-models": 4}
    for shown in ("1,234", "5,678,901", "5,000,000", "123.45 USD", "97.8", "97.9", "61.0%",
                  "+12.0%", "2026-10, revision 0, status P", "Value per M native tokens",
                  "61887.938794 USD"):
        assert shown in text, shown  # the release's headline figures
    assert "Cost (CNY)" in text and "Cost (USD)" in text
    assert "tenant:shop-cn" in text and "(100.0%)" in text and "(80.0%)" in text
    assert "support-cn" in text and "eval-runner" in text
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000


def test_empty_states_and_a_wrong_token(tmp_path: Path) -> None:
    with serving(FakeData(records=[], release=None, budgets=[])) as url, \
            chromium_page(1280, 800) as (page, errors):
        _load(page, f"{url}/dashboard#token={TOKEN}")
        marks = _marks(page)
        text = page.inner_text("main")
        screenshot(page, tmp_path, "dashboard-empty.png")
        assert not errors, errors
        page.goto("about:blank")  # a new document: a changed fragment alone loads none
        page.goto(f"{url}/dashboard#token=wrong")
        page.wait_for_selector("#problem:not([hidden])", timeout=LOAD_MS)
        problem = page.inner_text("#problem")
    assert marks == {"hourly": 0, "release-index": 0, "release-models": 0}
    assert "no traffic yet today" in text
    assert "no release published yet: run ciyuan report --month" in text
    assert "no budgets set" in text
    assert "#token=" in problem


def test_names_are_shown_as_text_never_as_markup() -> None:
    evil = '<img src=x onerror="document.title=1">'
    with serving(FakeData(records=[record(0, "acme", evil, 3, 100, 1)])) as url, \
            chromium_page(1280, 800) as (page, errors):
        _load(page, f"{url}/dashboard#token={TOKEN}")
        shown = page.inner_text("#agents")
        images = page.locator("main img").count()
    assert not errors, errors
    assert evil in shown and images == 0
