"""`hongfan`: Flask's command line bound to the academy (run, db upgrade, demo, …)."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from learning.catalog.commands import content_prune
from learning.catalog.storage import course_store, work_dir
from learning.database import write_transactions
from learning.extensions import db
from learning.plans.models_store import newest_model_path
from learning.plans.commands import evaluate_command
from learning.plans.operations import train
from learning.study.reconcile import reconcile_command
from learning.stats.cli import export_command
from learning.roster.cli import roster_group


def _create_app() -> Flask:
    from learning.app import create_app

    return create_app()


def main() -> None:
    FlaskGroup(create_app=_create_app, load_dotenv=False, help="红帆学院 Hongfan Academy")()


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the demo and exit without serving.")
@with_appcontext
def demo_command(host: str, port: int, no_serve: bool) -> None:
    """Create (or upgrade) the database, load the starter courses and a demo city, and serve."""
    from learning import demo
    from learning.timeutil import local_today

    upgrade(directory=current_app.extensions["migrate"].directory)
    with write_transactions():
        courses = demo.load_library(course_store())
        created = demo.build_demo(local_today())
        db.session.commit()
    click.echo(f"courses imported: {len(courses)}; demo city {'created' if created else 'already present'}")
    if created or courses or newest_model_path() is None:
        path, metadata = train()
        click.echo(f"recommender trained in {metadata['fit_seconds']} s on {metadata['data']}: {path.name}")
    click.echo("\n红帆学院 demo logins (password for all: hongfan):")
    for login in demo.LOGINS:
        click.echo(f"  {login.role:<28} {login.phone}  /  {login.password}")
    if no_serve:
        return
    from learning.security import serve_plain_http

    if serve_plain_http(current_app):
        click.echo("cookies without the Secure flag: this demo server speaks plain http")
    click.echo(f"\nServing on http://{host}:{port}  (Ctrl+C to stop)")
    # Flask refuses app.run() inside its own CLI; serve with Werkzeug directly (threaded, so a
    # slow phone does not hold up everyone else). Production uses gunicorn (README).
    run_simple(host, port, current_app._get_current_object(), threaded=True)


@click.group("stats")
def stats_group() -> None:
    """Learning statistics: reconcile counters, export tables."""


stats_group.add_command(reconcile_command)


@click.group("content")
def content_group() -> None:
    """Course packages: validate, import, export."""


@content_group.command("validate")
@click.argument("path", type=click.Path(exists=True))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def content_validate(path: str, lang: str) -> None:
    """Check a package folder or .zip; list every problem (exit 1) or summarize it (exit 0)."""
    from content import validate_path

    pkg, problems = validate_path(path, locale=lang)
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        raise SystemExit(1)
    with pkg:
        click.echo(f"{pkg.id} {pkg.version}: {pkg.title} · {pkg.category} · {pkg.hours:g} 学时 · "
                   f"{len(pkg.lessons)} lessons")


@content_group.command("import")
@click.argument("path", type=click.Path(exists=True))
@click.option("--publish", is_flag=True, help="Publish at once (members see it).")
@with_appcontext
def content_import(path: str, publish: bool) -> None:
    """Import a package folder or .zip as a new course or a new version (all or nothing)."""
    from content import validate_path
    from learning.catalog.operations import import_package

    pkg, problems = validate_path(path, workdir=work_dir())
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        raise SystemExit(1)
    with pkg, write_transactions():
        course = import_package(pkg, store_root=course_store(), actor=None, publish=publish)
        db.session.commit()
    click.echo(f"imported {course.slug} {course.version} ({course.status})")
    from learning.catalog.queries import prerequisite_courses
    if unknown := prerequisite_courses(course)[1]:
        click.echo(f"prerequisites not published (plans ignore them until they are): {', '.join(unknown)}",
                   err=True)


@content_group.command("export")
@click.argument("course_id")
@click.argument("out", type=click.Path(dir_okay=False))
@with_appcontext
def content_export(course_id: str, out: str) -> None:
    """Write the stored package of a course to OUT.zip (importing it gives the same course)."""
    from content import export_zip
    from learning.catalog.queries import course_by_slug

    course = course_by_slug(course_id)
    if course is None or not course.media_dir:
        raise click.ClickException(f"no course {course_id!r}")
    export_zip(course_store() / course.media_dir, out)
    click.echo(f"wrote {out}")


@click.group("recommender")
def recommender_group() -> None:
    """The learning-plan recommender."""


@recommender_group.command("train")
@click.option("--random-state", default=0, show_default=True, type=int)
@with_appcontext
def recommender_train(random_state: int) -> None:
    """Train on the database and save a new model version in instance/models/ (the running app
    picks up the newest file without a restart)."""
    try:
        path, metadata = train(random_state=random_state)
    except ValueError as error:  # no or too little study history yet
        raise click.ClickException(f"not trained: {error}") from error
    click.echo(f"saved {path} ({metadata['fit_seconds']} s, {metadata['data']})")


recommender_group.add_command(evaluate_command)


def register_commands(app: Flask) -> None:
    app.cli.add_command(recommender_group)
    app.cli.add_command(demo_command)
    app.cli.add_command(content_group)
    content_group.add_command(content_prune)
    stats_group.add_command(export_command)
    app.cli.add_command(stats_group)
    app.cli.add_command(roster_group)
