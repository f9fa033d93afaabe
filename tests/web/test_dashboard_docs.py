"""docs/how-to/dashboard.md shows what the routes answer."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

from dashboard_fixtures import NOW, RECORDS

from ciyuan.web.dashboard import summarize_today

DOC = Path(__file__).resolve().parents[2] / "docs" / "how-to" / "dashboard.md"


def test_the_live_example_is_what_the_route_answers() -> None:
    [block] = re.findall(r"```json\n(.*?)```", DOC.read_text("utf-8"), re.S)
    doc = json.loads(block)
    live = summarize_today(RECORDS, NOW)
    assert set(doc) == {*live, "budgets"}
    assert doc["as_of"] == live["as_of"] and doc["today"] == live["today"]
    assert doc["hourly"][0] == live["hourly"][0]
    assert doc["top_tenants"] == live["top_tenants"][:1]
    shown = {k: v for k, v in doc["top_agents"][0].items() if k != "…"}
    assert shown.items() <= live["top_agents"][0].items()
    [budget] = doc["budgets"]
    used = Decimal(budget["spent"]) + Decimal(budget["reserved"])
    assert used / Decimal(budget["limit"]) == Decimal(str(budget["fill"]))


def test_the_doc_names_the_routes_and_the_rule() -> None:
    text = DOC.read_text("utf-8")
    for needed in ("/dashboard#token=", "/dashboard/api/live", "/dashboard/api/release",
                   "admin-disabled", "admin-unauthorized", "--release-dir", "dashboard.png"):
        assert needed in text, needed
    assert (DOC.parent.parent / "images" / "dashboard.png").is_file()
