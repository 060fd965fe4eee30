"""`hongfan`: Flask's command line bound to the academy (run, db upgrade, demo, …)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from learning.database import write_transactions
from learning.extensions import db


def _create_app() -> Flask:
    from learning.app import create_app

    return create_app()


def main() -> None:
    FlaskGroup(create_app=_create_app, load_dotenv=False, help="红帆学院 Hongfan Academy")()


def media_root() -> Path:
    root = Path(current_app.instance_path) / "media"
    root.mkdir(parents=True, exist_ok=True)
    return root


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
        courses = demo.load_library(media_root())
        created = demo.build_demo(local_today())
        db.session.commit()
    click.echo(f"courses imported: {len(courses)}; demo city {'created' if created else 'already present'}")
    click.echo("\n红帆学院 demo logins (password for all: hongfan):")
    for login in demo.LOGINS:
        click.echo(f"  {login.role:<28} {login.phone}  /  {login.password}")
    if no_serve:
        return
    click.echo(f"\nServing on http://{host}:{port}  (Ctrl+C to stop)")
    # Flask refuses app.run() inside its own CLI; serve with Werkzeug directly (threaded, so a
    # slow phone does not hold up everyone else). Production uses gunicorn (README).
    run_simple(host, port, current_app._get_current_object(), threaded=True)


def register_commands(app: Flask) -> None:
    app.cli.add_command(demo_command)
