"""Matching: by request id, else model + time window + token counts; the four outcomes."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from reconcile_helpers import T0, record

from ciyuan.reconcile import Reconciler, Report, parse_export
from ciyuan.store.memory_usage import MemoryUsageStore

HEADER = "timestamp,request_id,model,input_tokens,input_cached_tokens,output_tokens\n"


def _csv(*rows: tuple[dt.datetime, str, str, int, int, int]) -> str:
    return HEADER + "".join(f"{at.isoformat()},{rid},{model},{i},{c},{o}\n"
                            for at, rid, model, i, c, o in rows)


def _by_key(report: Report) -> dict[str, tuple[str, Decimal | None]]:
    return {item.key: (item.status, item.amount) for item in report.items}


def test_the_four_outcomes(usage: MemoryUsageStore, reconciler: Reconciler) -> None:
    second = dt.timedelta(seconds=1)
    for r in (record(1, upstream_id="req_1"),                          # matched by id
              record(2, T0 + 10 * second),                             # matched by shape
              record(3, T0 + 20 * second, upstream_id="req_3"),        # output differs
              record(4, T0 + 30 * second, upstream_id="req_4", cost_nano=3_000_000),
              record(5, T0 + 40 * second, upstream_id="req_5"),        # not billed: extra
              record(6, T0 + 50 * second, provider="deepseek"),        # another provider
              record(7, T0 + dt.timedelta(hours=1))):                  # outside the export
        usage.add(r)
    export = parse_export(_csv(
        (T0 + 2 * second, "req_1", "gpt-4o-2024-08-06", 1000, 0, 100),
        (T0 + 70 * second, "req_2", "gpt-4o", 1000, 0, 100),
        (T0 + 21 * second, "req_3", "gpt-4o", 1000, 0, 101),
        (T0 + 31 * second, "req_4", "gpt-4o", 1000, 0, 100),
        (T0 + 45 * second, "req_9", "gpt-4o", 2000, 0, 0)))
    report = reconciler.reconcile("openai", export)
    assert _by_key(report) == {
        "req_1": ("matched", Decimal(0)),
        "req_2": ("matched", Decimal(0)),
        "req_3": ("mismatched", Decimal("0.00001")),
        "req_4": ("mismatched", Decimal("0.0005")),
        "req_9": ("missing", Decimal("0.005")),
        "call-5": ("extra", Decimal("-0.0035")),
    }
    mismatched = next(i for i in report.items if i.key == "req_3")
    assert mismatched.differences[0] == "output_tokens: provider 101 ≠ ours 100"
    assert (report.count("matched"), report.count("extra")) == (2, 1)
    assert report.amount("mismatched") == Decimal("0.00051")


def test_the_shape_fallback_needs_the_window_and_the_counts(usage: MemoryUsageStore,
                                                            reconciler: Reconciler) -> None:
    usage.add(record(1, T0))
    usage.add(record(2, T0 + dt.timedelta(minutes=1), upstream_id="someone-elses"))
    export = parse_export(_csv((T0 + dt.timedelta(minutes=6), "", "gpt-4o", 1000, 0, 100),
                               (T0 + dt.timedelta(minutes=1), "", "gpt-4o", 1000, 0, 99)))
    report = reconciler.reconcile("openai", export)
    # call-1 is 6 minutes from the first row (window: 5); call-2 answered another request;
    # call-1 started before the export's range, so it is not called extra either
    assert sorted((i.status, i.key) for i in report.items) == [
        ("extra", "call-2"), ("missing", f"{(T0 + dt.timedelta(minutes=1)).isoformat()}/gpt-4o"),
        ("missing", f"{(T0 + dt.timedelta(minutes=6)).isoformat()}/gpt-4o")]


def test_a_pending_record_the_provider_served_is_named(usage: MemoryUsageStore,
                                                       reconciler: Reconciler) -> None:
    usage.add(record(1, T0, status="pending"))
    export = parse_export(_csv((T0 + dt.timedelta(seconds=30), "req_x", "gpt-4o", 10, 0, 5)))
    (item,) = reconciler.reconcile("openai", export).items
    assert item.status == "missing" and item.pending is not None
    assert item.pending.id == "call-1"


def test_buckets_compare_totals_per_bucket_and_model(usage: MemoryUsageStore,
                                                     reconciler: Reconciler) -> None:
    day = dt.timedelta(days=1)
    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    for n in range(3):
        usage.add(record(n, start + dt.timedelta(hours=n)))
    usage.add(record("mini", start + dt.timedelta(hours=5), model="gpt-4o-mini", cost_nano=0))
    usage.add(record("next", start + day + dt.timedelta(hours=1)))  # a bucket left out
    usage.add(record("later", start + 2 * day + dt.timedelta(hours=1)))

    def result(model: str, requests: int, input_tokens: int, output: int) -> dict[str, object]:
        return {"object": "organization.usage.completions.result", "model": model,
                "num_model_requests": requests, "input_tokens": input_tokens,
                "input_cached_tokens": 0, "output_tokens": output}

    seconds = int(start.timestamp())
    page = {"object": "page", "data": [
        {"object": "bucket", "start_time": seconds, "end_time": seconds + 86400,
         "results": [result("gpt-4o-2024-08-06", 3, 3000, 300),
                     result("gpt-4o-mini", 1, 1000, 101), result("o3", 2, 50, 50)]},
        {"object": "bucket", "start_time": seconds + 2 * 86400, "end_time": seconds + 3 * 86400,
         "results": [result("gpt-4o", 1, 1000, 100)]}]}
    report = reconciler.reconcile("openai", parse_export(json.dumps(page)))
    statuses = {item.key: item.status for item in report.items}
    day1, day2 = start.isoformat(), (start + day).isoformat()
    assert statuses == {
        f"{day1}/gpt-4o-2024-08-06": "matched", f"{day1}/gpt-4o-mini": "mismatched",
        f"{day1}/o3": "missing", f"{(start + 2 * day).isoformat()}/gpt-4o": "matched",
        f"{day2}/gpt-4o": "extra"}


def test_a_pending_record_named_by_a_row_is_never_taken_by_another() -> None:
    from ciyuan.core.records import UsageRecord
    from ciyuan.price import default_pricer

    usage = MemoryUsageStore()
    for rid, tenant, after in (("ur-p1", "acme", 0), ("ur-p2", "globex", 30)):
        usage.begin(UsageRecord(id=rid, tenant=tenant, model="gpt-4o", provider="openai",
                                endpoint="chat.completions", currency="USD",
                                started_at=T0 + dt.timedelta(seconds=after)))
    at = [(T0 + dt.timedelta(seconds=s)).isoformat() for s in (1, 2, 31)]
    export = parse_export(
        "timestamp,request_id,client_request_id,model,input_tokens,input_cached_tokens,"
        f"output_tokens\n{at[0]},req_other,,gpt-4o,50000,0,9000\n"  # made around the gateway
        f"{at[1]},req_p1,ur-p1,gpt-4o,1000,0,100\n{at[2]},req_p2,ur-p2,gpt-4o,2000,0,200\n")
    report = Reconciler(usage, default_pricer()).reconcile("openai", export)
    served = {item.key: item.pending.id if item.pending else None for item in report.items}
    assert served == {"req_other": None, "req_p1": "ur-p1", "req_p2": "ur-p2"}
