"""Engine set-up and the one-commit-per-request rule."""
from __future__ import annotations

from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from collections.abc import Callable, Iterator

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session

from learning.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OWN_ENGINES = "hongfan_engines"  # app.extensions key: the engines made here besides Flask-SQLAlchemy's
REPLICA = "replica"  # HONGFAN_REPLICA_DATABASE_URL's engine among them
_write_intent: ContextVar[bool | None] = ContextVar("hongfan_write_intent", default=None)


@contextmanager
def _declared(writes: bool) -> Iterator[None]:
    token = _write_intent.set(writes)
    try:
        yield
    finally:
        _write_intent.reset(token)


def write_transactions() -> AbstractContextManager[None]:
    """Outside a request (CLI commands), declare that transactions will write."""
    return _declared(True)


def read_transactions() -> AbstractContextManager[None]:
    """Inside a write request, declare that the transactions begun here only read (SQLite
    then runs them beside writers instead of taking the write lock)."""
    return _declared(False)


def _wants_write() -> bool:
    """Requests that may write (and CLI commands that declare it) take SQLite's write lock
    when their transaction begins: a deferred transaction that reads and then writes can fail
    with 'database is locked' when another writer committed in between, and busy_timeout
    cannot help it. GET requests never write, so they keep concurrent read transactions."""
    declared = _write_intent.get()
    if declared is not None:
        return declared
    return has_request_context() and request.method not in SAFE_METHODS


def _sqlite_connections(engine: Engine, pragmas: list[str], begin: Callable[[], str]) -> None:
    """Each new connection runs `pragmas`; each transaction starts with the statement `begin()`
    names. SQLAlchemy's "begin" event issues BEGIN itself: pysqlite would otherwise begin
    deferred transactions lazily on its own."""
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        conn.exec_driver_sql(begin())


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    _sqlite_connections(engine, [f"PRAGMA busy_timeout = {int(busy_timeout_ms)}", "PRAGMA journal_mode = WAL",
                                 "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"],
                        lambda: "BEGIN IMMEDIATE" if _wants_write() else "BEGIN")


def init_app(app: Flask) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    _engine_defaults(url, options, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    if app.config.get("REPLICA_DATABASE_URL"):
        add_engine(app, REPLICA, read_only_engine(app.config["REPLICA_DATABASE_URL"],
                                                  app.config["SQLITE_BUSY_TIMEOUT_MS"]))

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

    @app.teardown_appcontext
    def _close_replica(_error) -> None:
        session = g.pop("hongfan_replica_session", None)
        if session is not None:
            session.close()


def _engine_defaults(url: str, options: dict, busy_timeout_ms: int) -> None:
    # SQL parameters (phone numbers, password hashes) stay out of exception messages, and so
    # out of logged tracebacks.
    options.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        options.setdefault("connect_args", {}).setdefault("timeout", busy_timeout_ms / 1000)
    else:
        options.setdefault("pool_pre_ping", True)


def read_only_engine(url: str, busy_timeout_ms: int, *, autocommit: bool = False) -> Engine:
    """An engine that can only read. Not a Flask-SQLAlchemy bind: no model lives there, and a
    bind would make create_all/drop_all of every app in the process look for it.

    The read replica's (HONGFAN_REPLICA_DATABASE_URL) runs ordinary transactions. With
    `autocommit`, every statement runs on its own — one round trip, no BEGIN or COMMIT — and no
    connection is pinged before use: for single-statement reads whose caller falls back on the
    request's own session when they fail (learning/pagecache/responses.py)."""
    options: dict = {}
    _engine_defaults(url, options, busy_timeout_ms)
    if autocommit:
        # Each use is one short statement: a worker's threads need few connections of it.
        options.update(isolation_level="AUTOCOMMIT", pool_pre_ping=False, pool_size=4, max_overflow=4)
    if not url.startswith("sqlite"):
        # Every transaction is read-only, even when a replica URL points at the primary by
        # mistake: a dashboard can never write through it.
        options.setdefault("connect_args", {})["options"] = "-c default_transaction_read_only=on"
    engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        # A SQLite "replica" (a copy of the file, e.g. on a reporting machine), or the primary
        # file read beside the app's own connections: read-only, one consistent snapshot per
        # transaction.
        _sqlite_connections(engine, [f"PRAGMA busy_timeout = {int(busy_timeout_ms)}", "PRAGMA query_only = ON"],
                            lambda: "BEGIN")
    return engine


def add_engine(app: Flask, name: str, engine: Engine) -> None:
    app.extensions.setdefault(OWN_ENGINES, {})[name] = engine


def engines() -> list[Engine]:
    """Every engine of the current app: the models' and the ones made here (to dispose of them
    after a fork or at the end of a test)."""
    return [*db.engines.values(), *current_app.extensions.get(OWN_ENGINES, {}).values()]


def replica_engine() -> Engine | None:
    return current_app.extensions.get(OWN_ENGINES, {}).get(REPLICA)


def has_replica() -> bool:
    return replica_engine() is not None


def read_session() -> Session:
    """The session for heavy read-only queries — dashboards, statistics, exports.

    With HONGFAN_REPLICA_DATABASE_URL set it reads from the replica (read-only transactions, a
    session of its own per app context, closed when the context ends); otherwise it is
    the request's own `db.session()`, so nothing changes on a single database. Use it for SELECTs whose
    results are shown, never for rows that are then changed and committed: a replica may lag the
    primary by a moment, and its objects belong to another session.
    """
    engine = replica_engine()
    if engine is None:
        return db.session()
    session = g.get("hongfan_replica_session")
    if session is None:
        session = g.hongfan_replica_session = Session(bind=engine, autoflush=False, expire_on_commit=False)
    return session
