"""Real headless Chromium (Debian's, driven by Playwright) for the page tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")


@contextmanager
def chromium_page(width: int = 1280, height: int = 1000) -> Iterator[tuple[Any, list[str]]]:
    """A fresh page and the console and page errors it collects (skips without Chromium)."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed: `apt-get install chromium` enables this test")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            yield page, errors
        finally:
            browser.close()


def screenshot(page: Any, folder: Path, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot in ``folder``, and in $CIYUAN_SCREENSHOT_DIR when that is set."""
    shot = folder / name
    page.screenshot(path=str(shot), full_page=full_page)
    target = os.environ.get("CIYUAN_SCREENSHOT_DIR")
    if target:
        shutil.copy(shot, Path(target) / name)
    return shot
