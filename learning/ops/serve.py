"""`hongfan serve`: the app under gunicorn with threaded (gthread) workers.

Why gthread: members study on phones over slow, flaky mobile networks. A sync worker is held
by one connection for as long as the phone takes to send its request and read the answer; a
gthread worker parks idle keep-alive connections in a poller and serves up to `threads`
requests at once, so a few slow phones cannot take a whole process. Behind nginx (deploy/),
which buffers request and response bodies, the threads only ever talk to nginx over loopback.

Defaults fit a 2-core machine: one process per core, 8 threads each — 16 requests at once —
which keeps both cores busy while some threads wait for the database. gunicorn is a required
dependency (pyproject.toml) because this command is how the academy runs in production.
"""
from __future__ import annotations

import json
import os
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


def _binds(value: str | tuple[str, ...]) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    return [part for item in items for part in item.replace(",", " ").split()]


def gunicorn_options(config: dict[str, Any], **flags: Any) -> dict[str, Any]:
    """The gunicorn settings from HONGFAN_SERVE_* (config) overridden by command-line flags."""
    pick = {name: flags.get(name) if flags.get(name) not in (None, ()) else config[f"SERVE_{name.upper()}"]
            for name in ("bind", "workers", "threads", "timeout", "graceful_timeout", "keepalive", "max_requests")}
    workers = int(pick["workers"]) or (os.cpu_count() or 1)
    threads, timeout = int(pick["threads"]), int(pick["timeout"])
    if workers < 1 or threads < 1 or timeout < 1:
        raise click.BadParameter("workers, threads and timeout must be positive")
    max_requests = int(pick["max_requests"])
    options = {
        "bind": _binds(pick["bind"]),
        "worker_class": "gthread",
        "workers": workers,
        "threads": threads,
        "timeout": timeout,
        "graceful_timeout": int(pick["graceful_timeout"]),
        "keepalive": int(pick["keepalive"]),
        "max_requests": max_requests,
        # Workers restarted after max_requests do not all restart at once.
        "max_requests_jitter": max_requests // 10,
        # The app writes its own request log (learning/ops/logs.py); gunicorn's goes to stderr.
        "accesslog": None,
        "errorlog": "-",
        "loglevel": str(config["LOG_LEVEL"]).lower(),
        # Imports (pandas, scikit-learn) happen once in the master; workers share those pages.
        "preload_app": True,
        # Proxy headers are trusted by the app only when HONGFAN_TRUSTED_PROXIES says so
        # (werkzeug's ProxyFix); gunicorn must not second-guess that from the peer address.
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
        "proc_name": "hongfan",
    }
    if os.path.isdir("/dev/shm"):  # noqa: S108 -- gunicorn's documented worker_tmp_dir, not a temp file
        # Heartbeat files on tmpfs: a worker is never killed because a disk was slow.
        options["worker_tmp_dir"] = "/dev/shm"  # noqa: S108 -- heartbeat files only (gunicorn docs)
    return options


def _post_fork(server, worker) -> None:
    """Connections opened in the master (none are expected) must not be shared with children."""
    from learning.database import engines

    app = server.app.application
    with app.app_context():
        for engine in engines():
            engine.dispose(close=False)


def run(app: Flask, options: dict[str, Any]) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def __init__(self) -> None:
            self.application = app
            super().__init__()

        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)
            self.cfg.set("post_fork", _post_fork)
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn ≥ 25 opens a control socket under $HOME by default; one per user
                # would collide between several servers and is not needed here.
                self.cfg.set("control_socket_disable", True)

        def load(self):
            return self.application

    Server().run()


@click.command("serve")
@click.option("--bind", "-b", multiple=True,
              help="host:port or unix:/path (repeatable) [HONGFAN_SERVE_BIND, 127.0.0.1:8000]")
@click.option("--workers", "-w", type=int, help="worker processes [HONGFAN_SERVE_WORKERS, 0 = one per CPU core]")
@click.option("--threads", type=int, help="threads per worker [HONGFAN_SERVE_THREADS, 8]")
@click.option("--timeout", type=int, help="seconds before a silent worker is restarted [HONGFAN_SERVE_TIMEOUT, 60]")
@click.option("--graceful-timeout", type=int, help="seconds to finish requests on stop [HONGFAN_SERVE_GRACEFUL_TIMEOUT, 30]")
@click.option("--keepalive", type=int, help="seconds an idle connection stays open [HONGFAN_SERVE_KEEPALIVE, 5]")
@click.option("--max-requests", type=int, help="restart a worker after N requests, 0 never [HONGFAN_SERVE_MAX_REQUESTS]")
@click.option("--dry-run", is_flag=True, help="Print the gunicorn settings as JSON and exit.")
@with_appcontext
def serve_command(dry_run: bool, **flags: Any) -> None:
    """Serve the academy in production: gunicorn, threaded workers (see the README)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.debug or app.config.get("DEBUG") or os.environ.get("FLASK_DEBUG", "").lower() in ("1", "true", "yes"):
        # The debugger runs arbitrary code for whoever reaches it: never in production.
        raise click.ClickException("refusing to serve with debug on (unset FLASK_DEBUG / --debug); "
                                   "use `hongfan demo` or `hongfan run --debug` on a development machine")
    options = gunicorn_options(app.config, **flags)
    if dry_run:
        click.echo(json.dumps({k: v for k, v in options.items()}, indent=2))
        return
    click.echo(f"hongfan serve: {options['workers']} workers × {options['threads']} threads on "
               f"{', '.join(options['bind'])}", err=True)
    run(app, options)
