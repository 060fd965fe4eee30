"""`hongfan stats export`: the dashboard's tables from the command line, through the same
table builders and writers as the page's download links."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from learning.database import write_transactions
from learning.extensions import db
from learning.orgs.models import Organization
from learning.stats import exports
from learning.stats.queries import Period
from learning.stats.tables import BUILDERS, Context, build
from learning.timeutil import local_today


@click.command("export")
@click.option("--org", "code", required=True, help="Organization code, e.g. HF-WM-01.")
@click.option("--year", type=int, default=None, help="Calendar year (default: this year).")
@click.option("--from", "month_from", type=click.IntRange(1, 12), default=1, show_default=True)
@click.option("--to", "month_to", type=click.IntRange(1, 12), default=12, show_default=True)
@click.option("--format", "fmt", type=click.Choice(sorted(exports.FORMATS)), default="xlsx", show_default=True)
@click.option("--table", "name", type=click.Choice(sorted(BUILDERS)), default="members", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="File to write (default: the timestamped name, in the current folder).")
@with_appcontext
def export_command(code: str, year: int | None, month_from: int, month_to: int, fmt: str, name: str,
                   out: str | None) -> None:
    """Write one dashboard table of a node to .xlsx or CSV (the export is audited)."""
    org = db.session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        raise click.ClickException(f"no organization {code!r}")
    try:
        period = Period(year or local_today().year, month_from, month_to)
    except ValueError:
        raise click.ClickException("invalid period: --from must not be after --to") from None
    # Titles and headers are translated (Chinese by default): Babel needs a request context.
    with current_app.test_request_context(), write_transactions():
        table = build(name, Context(org, period, local_today()))
        data, filename = exports.render(table, org, period, fmt, actor=None, address="cli")
        path = Path(out or filename)
        path.write_bytes(data)
        db.session.commit()
    click.echo(f"wrote {path} ({len(table.rows)} rows)")
