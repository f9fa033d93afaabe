"""Publishing a month: export partitions, build the cube and the release, revise, write.

``publish`` is what ``ciyuan report`` and ``ciyuan demo`` call. With ``export=False`` it
reads partitions that are already there (written by an earlier export or by another system
in the same layout), which is how the release benchmark runs at 10⁸ records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ciyuan.catalog.models import Catalog
from ciyuan.core.outcomes import Outcome, effective_outcomes
from ciyuan.core.records import UsageRecord
from ciyuan.price.api import Pricer
from ciyuan.stats.cube import build_cube
from ciyuan.stats.energy import Deployment
from ciyuan.stats.outputs import read_release, write_release
from ciyuan.stats.partitions import export_months, month_bounds, months_between, shift_month
from ciyuan.stats.release import ReleaseOptions, build_release
from ciyuan.stats.revision import Change, apply_revision
from ciyuan.store.usage import UsageStore

__all__ = ["HISTORY_MONTHS", "Publication", "publish", "tenant_sectors"]

#: Months before the release month read by default: a year back, for year-on-year growth.
HISTORY_MONTHS = 12


@dataclass
class Publication:
    release: dict[str, Any]
    changes: list[Change]
    directory: Path
    exported: dict[str, int] = field(default_factory=dict)


def tenant_sectors(db_url: str) -> dict[str, str]:
    """Every tenant's declared sector, from the identity store."""
    from ciyuan.admin.directory import Directory
    from ciyuan.store.identity import open_identity_store

    store = open_identity_store(db_url)
    try:
        return {t.id: t.sector for t in Directory(store).tenants()}
    finally:
        store.close()


def publish(*, month: str, out: Path, pricer: Pricer, catalog: Catalog,
            db_url: str | None = None, base: str | None = None,
            partitions: Path | None = None, final: bool = False,
            grace: dt.timedelta = dt.timedelta(days=3),
            deployments: Sequence[Deployment] = (), now: dt.datetime | None = None,
            threads: int | None = None, quality_results: Path | None = None,
            progress: Callable[[str, int], None] | None = None) -> Publication:
    """Publish ``month`` into ``out``; with ``db_url`` the months are exported first."""
    root = partitions or out / "partitions"
    months = months_between(base or shift_month(month, -HISTORY_MONTHS), month)
    exported: dict[str, int] = {}
    now = now or dt.datetime.now(dt.UTC)
    outcomes: list[Outcome] | None = None
    records: list[UsageRecord] = []
    if db_url is not None:
        from ciyuan.store.usage import open_usage_store

        store = open_usage_store(db_url)
        try:
            exported = export_months(store, months, root, sectors=tenant_sectors(db_url),
                                     catalog=catalog, progress=progress)
            outcomes, records = _valued_outcomes(db_url, store, month, now)
        finally:
            store.close()
    cube = build_cube(root, months, catalog, threads=threads)
    try:
        options = ReleaseOptions(month=month, final=final, grace=grace, now=now,
                                 deployments=tuple(deployments),
                                 source=_source(db_url, root),
                                 quality=_quality(quality_results),
                                 outcomes=outcomes, outcome_records=records)
        release = build_release(cube, pricer, options)
    finally:
        cube.close()
    previous = read_release(out, month)
    changes = apply_revision(release, previous) if previous is not None else []
    directory = write_release(out, release, changes, previous)
    return Publication(release, changes, directory, exported)


def _valued_outcomes(db_url: str, usage: UsageStore, month: str, now: dt.datetime,
                     ) -> tuple[list[Outcome], list[UsageRecord]]:
    """The outcome reports with a value in force at ``now`` and the month's settled records
    they may be about: one pass over the month's records of the tenants that reported, keeping
    the calls named by id or by task (memory grows with the reports, not with the month)."""
    from ciyuan.store.outcomes import open_outcome_store

    store = open_outcome_store(db_url)
    try:
        in_force = [o for o in effective_outcomes(store.list(None, end=None), as_of=now)
                    if o.value is not None]
    finally:
        store.close()
    start, end = month_bounds(month)
    records: list[UsageRecord] = []
    for tenant in sorted({o.tenant for o in in_force}):
        ids = {o.record_id for o in in_force if o.tenant == tenant and o.record_id}
        tasks = {o.task for o in in_force if o.tenant == tenant and not o.record_id}
        records += [r for r in usage.query(start, end, tenant)
                    if r.id in ids or (r.task and r.task in tasks)]
    return in_force, records


def _quality(folder: Path | None) -> dict[str, tuple[float, float, float]] | None:
    """Each evaluated model's quality index (mean, 95 % low, high) from eval results."""
    if folder is None:
        return None
    from ciyuan.quality.index import quality_index
    from ciyuan.quality.runner import read_results, result_of

    index = quality_index(result_of(r) for r in read_results(folder))
    return {m: (q.overall.mean, q.overall.low, q.overall.high) for m, q in index.items()}


def _source(db_url: str | None, root: Path) -> str:
    if db_url is None:
        return f"usage partitions in {root}"
    shown = db_url.split("@")[-1] if "@" in db_url else db_url
    return f"ciyuan usage records ({shown}), settled calls"
