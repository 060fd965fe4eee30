"""`hongfan roster …`: import a roster file, apply transfers whose effective date has come."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from learning.database import write_transactions
from learning.extensions import db
from learning.orgs.queries import org_by_code
from learning.timeutil import local_today


@click.group("roster")
def roster_group() -> None:
    """Rosters and organization relations."""


@roster_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_code", required=True, help="Code of the node the rows belong under.")
@click.option("--dry-run", is_flag=True, help="Show what would happen; write nothing.")
@with_appcontext
def roster_import(path: Path, org_code: str, dry_run: bool) -> None:
    """Import an .xlsx or .csv roster (all or nothing). New accounts get one-time activation
    codes, printed once."""
    from learning.roster.operations import apply_plan
    from learning.roster.service import RosterFileError, plan_file

    # Messages are rendered in the default language (Chinese) outside any web request.
    with current_app.test_request_context(), write_transactions():
        org = org_by_code(org_code)
        if org is None:
            raise click.ClickException(f"no organization {org_code!r}")
        try:
            plan = plan_file(path, org, local_today())
        except RosterFileError as error:
            raise click.ClickException(str(error)) from None
        for row in plan.rows:
            detail = " ".join(row.errors) if row.errors else "、".join(row.changes)
            click.echo(f"{row.number:>5}  {row.outcome:<9} {row.name}  {row.phone_masked}  {row.branch_code}  {detail}")
        summary = plan.summary()
        click.echo("new {new}, updated {updated}, unchanged {unchanged}, errors {error}".format(**summary))
        if not plan.ok:
            db.session.rollback()
            raise SystemExit(1)
        if dry_run:
            db.session.rollback()
            click.echo("dry run: nothing written")
            return
        issued = apply_plan(plan, actor=None, today=local_today(), filename=path.name)
        db.session.commit()
    for code in issued:
        click.echo(f"activation code  {code.name}  {code.phone_masked}  {code.code}  (until {code.expires_at:%Y-%m-%d})")


@roster_group.command("apply-transfers")
@with_appcontext
def apply_transfers() -> None:
    """Apply approved transfers whose effective date has come (run daily, e.g. from cron;
    logins and a member's own write requests also apply theirs)."""
    from learning.orgs.operations import apply_due_transfers

    with write_transactions():
        count = apply_due_transfers(local_today())
        db.session.commit()
    click.echo(f"transfers applied: {count}")
