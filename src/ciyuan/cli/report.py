"""``ciyuan report``: publish the monthly statistical release."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from ciyuan.cli.context import App, emit_json, handle_errors, pass_app
from ciyuan.cli.price import app_pricer
from ciyuan.cli.usage import month_range
from ciyuan.invoice import invoice_settings
from ciyuan.stats.energy import load_deployments
from ciyuan.stats.format import format_value
from ciyuan.stats.publish import publish

__all__ = ["report_command"]


@click.command("report")
@click.option("--month", required=True, metavar="YYYY-MM", help="The month to publish (UTC).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("releases"), show_default=True,
              help="Release directory; the month is written to OUT/YYYY-MM/.")
@click.option("--base", metavar="YYYY-MM",
              help="First month read (index base = first month with data from here); "
                   "default: twelve months before --month.")
@click.option("--partitions", type=click.Path(file_okay=False, path_type=Path),
              help="Parquet partitions directory; default OUT/partitions.")
@click.option("--no-export", is_flag=True,
              help="Read the partitions as they are instead of exporting from the database.")
@click.option("--final", is_flag=True,
              help="Publish as final (flag A) even inside the grace period for late events.")
@click.option("--quality-results", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Results of `ciyuan eval run`: adds price-performance and the "
                   "quality-adjusted price index.")
@click.option("--json", "as_json", is_flag=True, help="Print the release headline as JSON.")
@pass_app
@handle_errors
def report_command(app: App, month: str, out: Path, base: str | None,
                   partitions: Path | None, no_export: bool, final: bool,
                   quality_results: Path | None, as_json: bool) -> None:
    """Publish the statistical release of a month: volumes in native and standard tokens,
    growth, unit prices, the chained Törnqvist/Fisher price index, productive share, energy,
    with status flags (P, A, R) and a change log on revision.

    Writes OUT/YYYY-MM/: release.json, tables/*.csv and *.parquet, release.sdmx.csv,
    index.html (charts) and methods.html. Running a month again after late usage events
    publishes a revision: changed values are flagged R and listed in changes.json.

    \b
    Examples:
      ciyuan report --month 2026-10 --out releases
      ciyuan --db postgresql://postgres@127.0.0.1/test report --month 2026-10 --json
    """
    month_range(month)  # a typed error for a malformed month
    if base is not None:
        month_range(base)
    settings = app.settings
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=app.err,
                  transient=True) as progress:
        task = progress.add_task("exporting usage records")

        def tick(partition: str, rows: int) -> None:
            progress.update(task, description=f"exporting {partition}: {rows:,} records")

        publication = publish(
            month=month, out=out, pricer=app_pricer(app), catalog=app.catalog,
            db_url=None if no_export else settings.db_url, base=base, partitions=partitions,
            final=final, grace=invoice_settings(settings.section("invoice")).grace,
            deployments=load_deployments(settings.config), quality_results=quality_results,
            progress=tick)
    release = publication.release
    if as_json:
        emit_json({"month": month, "revision": release["revision"],
                   "status": release["status"], "directory": str(publication.directory),
                   "headline": release["headline"], "changes": len(publication.changes)})
        return
    table = Table(title=f"Release {month}, revision {release['revision']} "
                        f"(status {release['status']})")
    for col in ("figure", "value", "flag"):
        table.add_column(col, justify="left" if col == "figure" else "right")
    for name, cell in release["headline"].items():
        table.add_row(name.replace("_", " "), format_value(cell["value"]), cell["flag"])
    app.console.print(table)
    if publication.changes:
        app.console.print(f"{len(publication.changes)} values revised: see "
                          f"{publication.directory / 'changes.json'}")
    app.console.print(f"Open {publication.directory / 'index.html'}")
