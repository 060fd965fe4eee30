"""Session cookies: each one's signature checked once per worker, renewed once a day.

Flask keeps the session in a signed cookie (itsdangerous). Members who stay logged in on their
phone ("在这台手机上保持登录", a permanent session) would get that cookie re-signed and re-sent
with every answer, to slide its expiry forward. Here it is renewed only once it is a day old:
the expiry still slides (30 days after the last day of use, give or take a day), but most
answers carry no Set-Cookie — and an answer without one can be kept whole and replayed
(learning/pagecache/responses.py).

A worker remembers the cookies it has checked (a bounded map from the cookie's exact text to
its contents and signing time), so a member's cookie is verified once, not on every request.
The age limit is still applied on every request; a changed or forged cookie is a different
text and is checked afresh.
"""
from __future__ import annotations

import copy
import time
from functools import lru_cache
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

RENEW_AFTER_S = 24 * 3600
REMEMBERED = 4096  # checked cookies kept per worker (about 1 MB)


def _now() -> float:
    return time.time()


class CookieSession(SecureCookieSession):
    """A session that knows when the cookie it was read from was signed."""

    signed_at: float | None = None


class SessionCookies(SecureCookieSessionInterface):
    session_class = CookieSession

    def __init__(self) -> None:
        self._checked = lru_cache(maxsize=REMEMBERED)(self._check)

    def _check(self, app: Flask, cookie: str) -> tuple[dict[str, Any], float] | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        try:
            data, signed = serializer.loads(cookie, return_timestamp=True)
        except BadSignature:
            return None
        return data, signed.timestamp()

    def contents(self, app: Flask, cookie: str | None) -> tuple[dict[str, Any], float] | None:
        """The session a cookie holds and when it was signed; None when it holds none (absent,
        forged, signed with another key, or older than the session lifetime). The dict is
        shared: read it, never change it."""
        if not cookie:
            return None
        checked = self._checked(app, cookie)
        if checked is None or _now() - checked[1] > app.permanent_session_lifetime.total_seconds():
            return None
        return checked

    @staticmethod
    def renewal_due(data: dict[str, Any], signed_at: float | None) -> bool:
        return bool(data.get("_permanent")) and (signed_at is None or _now() - signed_at >= RENEW_AFTER_S)

    def open_session(self, app: Flask, request: Request) -> CookieSession | None:
        if self.get_signing_serializer(app) is None:
            return None  # no secret key: Flask reports it when the session is written
        checked = self.contents(app, request.cookies.get(self.get_cookie_name(app)))
        if checked is None:
            return self.session_class()
        data, signed_at = checked
        session = self.session_class(copy.deepcopy(data))  # flash() appends to a list in place
        session.signed_at = signed_at
        return session

    def should_set_cookie(self, app: Flask, session: SecureCookieSession) -> bool:
        if session.modified:
            return True
        return app.config["SESSION_REFRESH_EACH_REQUEST"] and self.renewal_due(
            session, getattr(session, "signed_at", None))


def init_app(app: Flask) -> None:
    app.session_interface = SessionCookies()
