"""Kept pages answered whole, before Flask.

A kept page (learning/pagecache) still costs a full pass through Flask — the session, the
member, the request hooks, compression, the security headers, a transaction — several times
what the page itself costs once it comes from memory. This WSGI middleware answers a request
that comes again unchanged before Flask sees it.

When Flask has answered a GET whose view kept its page (`cached_page` marks the request) with
200 and no Set-Cookie, the whole answer — status, headers, compressed body — is stored under a
key naming everything it was made from: the path and query, scheme and host, the session
cookie's exact text (the member, their CSRF secret, their chosen language), Accept-Language and
Accept-Encoding, the member's page version and the academy's page epoch as read before Flask
ran, the day, and the newest recommender model. A request with the same key is answered from
memory after one read of the member's row — a single statement on a connection of its own, in
autocommit: one round trip — which also checks what Flask-Login and the account rules would:
the account active, the session's version still the member's, no new password owed.

Everything else goes to Flask: other methods, paths never kept, no or an invalid session
cookie, a session due for renewal (learning/auth/sessions.py) or holding flashed messages, a
database error. The request log (learning/ops/logs.py) still writes a line for every answer.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import Engine, bindparam, select
from werkzeug.http import parse_cookie

from learning.ops.logs import ENVIRON_ENDPOINT, ENVIRON_MEMBER, ENVIRON_PATH

KEEPABLE = "hongfan.page_kept"  # environ flag: the view answered with a kept page
_KEY = "hongfan.response_key"
_MAX_PATHS = 1024  # kept paths remembered per worker (the member home page is one)
_DROPPED_HEADERS = frozenset({"date", "set-cookie"})  # the server adds its own Date


@dataclass(frozen=True, slots=True)
class KeptResponse:
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    endpoint: str | None
    log_path: str | None

    def __len__(self) -> int:  # its size in memory, give or take, for the store's bound
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 200


class MemberRows:
    """The logged-in member's row and the page epoch, in one statement."""

    def __init__(self, engine: Engine) -> None:
        from learning.orgs.models import Member
        from learning.pagecache.models import PageEpoch

        self.engine = engine
        statement = (select(Member.active, Member.session_version, Member.must_change_password,
                            Member.page_version, PageEpoch.version)
                     .where(Member.id == bindparam("member_id"), PageEpoch.id == bindparam("epoch_id")))
        compiled = statement.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        self.order = compiled.positiontup if compiled.positional else None

    def read(self, member_id: int) -> tuple | None:
        params: dict[str, Any] = {"member_id": member_id, "epoch_id": 1}
        args = tuple(params[name] for name in self.order) if self.order is not None else params
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self.sql, args)
                return cursor.fetchone()
            finally:
                cursor.close()
        except Exception:
            connection.invalidate()  # a broken connection is not given to the next request
            raise
        finally:
            connection.close()


class KeptResponses:
    """WSGI middleware around Flask's own wsgi_app, inside the request log and ProxyFix."""

    def __init__(self, app: Flask, store, rows: MemberRows) -> None:
        self.app = app
        self.wsgi_app: Callable = app.wsgi_app
        self.store = store
        self.rows = rows
        self.paths: set[str] = set()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        key = None
        if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO") in self.paths:
            key, member_id = self._key(environ)
            if key is not None:
                kept = self.store.get(key)
                if kept is not None:
                    environ[ENVIRON_MEMBER] = member_id
                    environ[ENVIRON_ENDPOINT] = kept.endpoint
                    environ[ENVIRON_PATH] = kept.log_path
                    start_response(kept.status, list(kept.headers))
                    return [kept.body]
        answer: list = []

        def _start(status: str, headers: list, exc_info=None):
            answer[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, _start)
        if not environ.get(KEEPABLE) or not answer or not answer[0].startswith("200 "):
            return body
        status, headers = answer
        if any(name.lower() == "set-cookie" for name, _ in headers):
            return body
        if len(self.paths) < _MAX_PATHS:
            self.paths.add(environ.get("PATH_INFO", ""))
        if key is None:
            return body  # the first answer on this path: its versions were not read beforehand
        try:
            content = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        self.store.set(key, KeptResponse(
            status, tuple((k, v) for k, v in headers if k.lower() not in _DROPPED_HEADERS), content,
            environ.get(ENVIRON_ENDPOINT), environ.get(ENVIRON_PATH)))
        return [content]

    def _key(self, environ: dict) -> tuple[str | None, int | None]:
        """The key of this request's answer and the member's id; (None, None) when Flask must
        answer (the reasons are in the module's docstring)."""
        from learning.auth import admits, login_id
        from learning.auth.sessions import SessionCookies

        interface = self.app.session_interface
        if not isinstance(interface, SessionCookies):
            return None, None
        cookie = parse_cookie(environ).get(interface.get_cookie_name(self.app))
        contents = interface.contents(self.app, cookie)
        if contents is None:
            return None, None
        session, signed_at = contents
        login = login_id(session.get("_user_id"))
        if login is None or interface.renewal_due(session, signed_at):
            return None, None
        try:
            row = self.rows.read(login[0])
        except Exception:
            return None, None  # Flask will meet (and report) the same trouble
        if row is None or row[4] is None or not admits(row[0], row[1], login[1]) or row[2]:
            return None, None
        with self.app.app_context():
            from learning.plans.models_store import newest_model_path
            from learning.timeutil import local_today

            model = newest_model_path()
            today = local_today().isoformat()
        parts = (environ.get("SCRIPT_NAME"), environ.get("PATH_INFO"), environ.get("QUERY_STRING"),
                 environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"), cookie,
                 environ.get("HTTP_ACCEPT_LANGUAGE"), environ.get("HTTP_ACCEPT_ENCODING"),
                 row[3], row[4], today, model.name if model else "")
        return "response;" + hashlib.sha256(repr(parts).encode()).hexdigest(), login[0]


def reader_engine(app: Flask) -> Engine | None:
    """The engine the middleware reads members with; None for an in-memory SQLite database,
    which another engine could not see."""
    from sqlalchemy.engine import make_url

    from learning.database import read_only_engine

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return read_only_engine(str(url.render_as_string(hide_password=False)), app.config["SQLITE_BUSY_TIMEOUT_MS"],
                            autocommit=True)


def install(app: Flask, store) -> None:
    from learning.database import add_engine

    engine = reader_engine(app)
    if engine is None:
        return
    add_engine(app, "page_reader", engine)
    app.wsgi_app = KeptResponses(app, store, MemberRows(engine))  # type: ignore[method-assign]

