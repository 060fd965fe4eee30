"""Course store maintenance from the command line."""
from __future__ import annotations

import shutil

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from learning.catalog.models import Course
from learning.catalog.storage import course_store, unreferenced_versions
from learning.extensions import db


@click.command("prune")
@click.option("--dry-run", is_flag=True, help="List the folders without removing them.")
@with_appcontext
def content_prune(dry_run: bool) -> None:
    """Remove stored version folders no course points at (left by interrupted imports).
    A superseded version's folder is removed when its successor is saved; this sweeps the rest."""
    current = {slug: media_dir for slug, media_dir in db.session.execute(select(Course.slug, Course.media_dir))}
    db.session.rollback()  # nothing is written; do not hold a read transaction while deleting
    folders = unreferenced_versions(course_store(), current)
    for folder in folders:
        if not dry_run:
            shutil.rmtree(folder, ignore_errors=True)
        click.echo(f"{'would remove' if dry_run else 'removed'} {folder}")
    click.echo(f"{len(folders)} folder(s)")
