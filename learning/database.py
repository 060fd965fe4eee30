"""Engine set-up and the one-commit-per-request rule."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from collections.abc import Iterator

from flask import Flask, Response, has_request_context, request
from sqlalchemy import Engine, event

from learning.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_write_intent: ContextVar[bool | None] = ContextVar("hongfan_write_intent", default=None)


@contextmanager
def write_transactions() -> Iterator[None]:
    """Outside a request (CLI commands), declare that transactions will write."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def _wants_write() -> bool:
    """Requests that may write (and CLI commands that declare it) take SQLite's write lock
    when their transaction begins: a deferred transaction that reads and then writes can fail
    with 'database is locked' when another writer committed in between, and busy_timeout
    cannot help it. GET requests never write, so they keep concurrent read transactions."""
    declared = _write_intent.get()
    if declared is not None:
        return declared
    return has_request_context() and request.method not in SAFE_METHODS


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
