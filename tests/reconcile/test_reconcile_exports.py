"""Reading providers' usage exports: OpenAI per-request CSV and usage API buckets, the
simulated provider's CSV and JSON."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from reconcile_helpers import T0, sim_log

from ciyuan.reconcile import load_export, parse_export
from ciyuan.reconcile.errors import ReconcileExportError
from ciyuan.sim.export import bucket_page, export_text

OPENAI_CSV = """timestamp,request_id,model,input_tokens,input_cached_tokens,output_tokens
2026-01-05T10:00:03Z,req_a,gpt-4o-2024-08-06,1000,200,100
1767607210,req_b,gpt-4o-mini,50,0,7
"""
#: The shape of OpenAI's GET /v1/organization/usage/completions (without group_by).
OPENAI_PAGE = {"object": "page", "has_more": False, "next_page": None, "data": [
    {"object": "bucket", "start_time": 1767571200, "end_time": 1767657600, "results": [
        {"object": "organization.usage.completions.result", "input_tokens": 1000,
         "output_tokens": 500, "input_cached_tokens": 800, "input_audio_tokens": 0,
         "output_audio_tokens": 0, "num_model_requests": 5, "project_id": None,
         "user_id": None, "api_key_id": None, "model": None, "batch": None}]}]}


def test_openai_per_request_csv() -> None:
    export = parse_export(OPENAI_CSV, "usage.csv")
    assert export.kind == "requests" and len(export.rows) == 2
    a, b = export.rows
    assert (a.request_id, a.model, a.at) == ("req_a", "gpt-4o-2024-08-06",
                                             T0 + dt.timedelta(seconds=3))
    assert (a.usage.input_tokens, a.usage.cached_input_tokens, a.usage.output_tokens) == (
        1000, 200, 100)
    assert b.at == dt.datetime(2026, 1, 5, 10, 0, 10, tzinfo=dt.UTC)  # Unix seconds
    assert a.fields == {"input_tokens", "cached_input_tokens", "output_tokens", "requests"}


def test_the_sim_providers_csv_and_json_say_the_same(tmp_path: Path) -> None:
    log = sim_log(tmp_path / "usage.log", [("req_1", T0, "sim-gpt", 1200, 128, 40),
                                           ("req_2", T0, "sim-gpt", 10, 0, 3)])
    as_csv = parse_export(export_text(log, "csv"), "export.csv")
    as_json = parse_export(export_text(log, "json"), "export.json")
    assert as_csv.rows[0].usage == as_json.rows[0].usage
    assert [r.request_id for r in as_json.rows] == ["req_1", "req_2"]
    assert as_json.rows[0].alt_ids == ("chatcmpl-req_1",)
    assert as_csv.rows[0].usage.cached_input_tokens == 128
    assert "reasoning_tokens" in as_csv.rows[0].fields


def test_usage_api_buckets(tmp_path: Path) -> None:
    export = parse_export(json.dumps(OPENAI_PAGE))
    assert export.kind == "buckets"
    (row,) = export.rows
    assert row.model == "" and row.usage.requests == 5 and row.end == row.at + dt.timedelta(1)
    log = sim_log(tmp_path / "usage.log", [("req_1", T0, "sim-gpt", 100, 0, 4),
                                           ("req_2", T0, "sim-qwen", 10, 0, 3)])
    query = {"bucket_width": "1h", "group_by": "model", "start_time": "0"}
    by_model = parse_export(json.dumps(bucket_page(log, query, 1_800_000_000)))
    assert by_model.kind == "buckets" and {r.model for r in by_model.rows} == {"sim-gpt",
                                                                               "sim-qwen"}
    per_request = parse_export(json.dumps([bucket_page(
        log, {**query, "group_by": "model,request_id"}, 1_800_000_000)]))
    assert per_request.kind == "requests"


def test_json_lines_and_openai_usage_objects() -> None:
    text = "\n".join(json.dumps(row) for row in (
        {"id": "r1", "created": 1767607200, "model": "gpt-4o", "cost": "0.0035",
         "usage": {"prompt_tokens": 1000, "completion_tokens": 100,
                   "prompt_tokens_details": {"cached_tokens": 10}}},
        {"id": "r2", "created": 1767607201, "model": "gpt-4o", "input_tokens": 5,
         "output_tokens": 1}))
    export = parse_export(text)
    assert [r.request_id for r in export.rows] == ["r1", "r2"]
    assert export.rows[0].usage.cached_input_tokens == 10
    assert export.rows[0].cost == Decimal("0.0035")


@pytest.mark.parametrize(("text", "match"), [
    ("request_id,model,input_tokens,output_tokens\nr,gpt-4o,1,1\n", "line 2: no timestamp"),
    ("timestamp,model,input_tokens,output_tokens\nyesterday,gpt-4o,1,1\n", "neither ISO"),
    ("timestamp,model,input_tokens,output_tokens\n1767607200,gpt-4o,1.5,1\n", "whole"),
    ("timestamp,model,input_tokens,input_cached_tokens,output_tokens\n"
     "1767607200,gpt-4o,1,5,1\n", "exceeds input_tokens"),
    ("timestamp,model\n1767607200,gpt-4o\n", "no token counts"),
    ('{"object": "list", "data": 7}', "expected a list"),
    ("{not json", "not valid JSON"),
])
def test_bad_exports_name_the_line_and_field(text: str, match: str) -> None:
    with pytest.raises(ReconcileExportError, match=match):
        parse_export(text)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReconcileExportError, match="cannot read"):
        load_export(tmp_path / "nope.csv")
