"""Engine set-up and the one-commit-per-request rule."""
from __future__ import annotations

from flask import Flask, Response, has_request_context, request
from sqlalchemy import Engine, event

from learning.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _wants_write() -> bool:
    """Requests that may write (and CLI commands) take SQLite's write lock when their
    transaction begins: a deferred transaction that reads and then writes can fail with
    'database is locked' when another writer committed in between, and busy_timeout cannot
    help it. GET requests never write, so they keep concurrent read transactions."""
    return not has_request_context() or request.method not in SAFE_METHODS


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would otherwise
        # begin deferred transactions lazily on its own).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write() else "BEGIN")


def init_app(app: Flask) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        options.setdefault("connect_args", {}).setdefault(
            "timeout", app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000
        )
    else:
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_pre_ping", True)
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])

    @app.after_request
    def _commit(response: Response) -> Response:
        # The single commit of a request. An error response rolls everything back, so a
        # rejected form or API body never leaves partial data. A failing commit raises and
        # becomes a 500 — the client then knows nothing was stored.
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response
