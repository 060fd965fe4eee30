"""Kept pages answered whole before Flask (learning/pagecache/responses.py), and the session
cookies they rest on (learning/auth/sessions.py): the same answer as Flask's, never to a cookie
Flask would refuse, never after the page changed."""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager

import brotli
import pytest
from flask import request_started
from sqlalchemy import create_engine, text

from helpers import AuthActions, post_events, study_event, study_for
from learning.auth import sessions
from learning.orgs.models import Member
from learning.pagecache.responses import MemberRows

_PER_REQUEST = {"date", "x-request-id"}


@contextmanager
def flask_requests(app):
    """The requests Flask itself handled inside the block."""
    seen = []

    def count(_sender, **_extra):
        seen.append(1)

    request_started.connect(count, app)
    try:
        yield seen
    finally:
        request_started.disconnect(count, app)


def _get(client, path="/", **headers):
    return client.get(path, headers={"Accept-Encoding": "br", **headers})


def _same_headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower() not in _PER_REQUEST}


@pytest.fixture
def member_client(app, city, make_course):
    make_course(title="道路交通安全")
    client = app.test_client()
    assert AuthActions(client).login("13800000002").status_code == 302
    return client


def _warm(client, **headers):
    """The first answer teaches the worker the path, the second is kept whole."""
    for _ in range(2):
        assert _get(client, **headers).status_code == 200


def test_an_unchanged_page_is_answered_before_flask_with_flasks_answer(app, member_client):
    flasks = _get(member_client)
    _get(member_client)
    with flask_requests(app) as handled:
        kept = _get(member_client)
    assert handled == []
    assert kept.status_code == 200 and kept.data == flasks.data
    assert _same_headers(kept) == _same_headers(flasks)
    assert kept.headers["Content-Encoding"] == "br" and "骑手小王" in brotli.decompress(kept.data).decode()
    assert "no-store" in kept.headers["Cache-Control"] and "'none'" in kept.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in kept.headers and kept.headers["X-Request-ID"] != flasks.headers["X-Request-ID"]


def test_study_and_other_writers_replace_the_kept_answer(app, db, city, member_client, make_course):
    course = make_course(title="骑手交通安全")
    _warm(member_client)
    before = brotli.decompress(_get(member_client).data).decode()
    assert "下一课：第2课" not in before
    study_for(member_client, course.lessons[0].id)
    post_events(member_client, [study_event(course.lessons[0].id, "complete", position=1.0, progress=1.0)])
    with flask_requests(app) as handled:
        after = brotli.decompress(_get(member_client).data).decode()
    assert handled == [1] and "下一课：第2课 · 1/3" in after
    db.session.rollback()  # a fresh transaction, as an administrator's edit would have
    db.session.get(Member, city["member"].id).name = "骑手老王"
    db.session.commit()
    assert "骑手老王" in brotli.decompress(_get(member_client).data).decode()


def test_encodings_and_languages_are_kept_apart(member_client):
    _warm(member_client)
    _warm(member_client, **{"Accept-Encoding": "identity"})
    _warm(member_client, **{"Accept-Language": "en-US,en;q=0.9"})
    chinese = brotli.decompress(_get(member_client).data).decode()
    plain = _get(member_client, **{"Accept-Encoding": "identity"})
    english = brotli.decompress(_get(member_client, **{"Accept-Language": "en-US,en;q=0.9"}).data).decode()
    assert "Content-Encoding" not in plain.headers and plain.get_data(as_text=True) == chinese
    assert "Points this year" in english and "Points this year" not in chinese


def _copy(app, client):
    """Another client holding a copy of `client`'s cookies (a stolen or saved cookie)."""
    copy = app.test_client()
    for name in ("session", "remember_token"):
        cookie = client.get_cookie(name)
        if cookie is not None:
            copy.set_cookie(name, cookie.value)
    return copy


def test_a_cookie_from_before_logout_gets_no_kept_page(app, member_client):
    _warm(member_client)
    saved = _copy(app, member_client)
    assert _get(saved).status_code == 200
    assert AuthActions(member_client).logout().status_code == 302
    answer = _get(saved)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


@pytest.mark.parametrize("change, goes_to", [
    ("active = :no", "/login"),  # an account closed
    ("must_change_password = :yes", "/password"),
    ("session_version = session_version + 1", "/login"),  # logged out everywhere
])
def test_an_account_changed_outside_the_app_gets_no_kept_page(app, city, member_client, change, goes_to):
    """By SQL from outside the app (psql, a script): no page version moves, and the check of the
    member's row before any kept answer still turns the request away."""
    _warm(member_client)
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.begin() as connection:
            connection.execute(text(f"UPDATE member SET {change} WHERE id = :id"),  # noqa: S608 -- fixed texts
                               {"id": city["member"].id, "yes": True, "no": False})
    finally:
        engine.dispose()
    answer = _get(member_client)
    assert answer.status_code == 302 and goes_to in answer.headers["Location"]


def test_a_flashed_message_is_never_answered_from_memory(member_client):
    _warm(member_client)
    with member_client.session_transaction() as session:
        session["_flashes"] = [("success", "一条只显示一次的消息")]
    assert "一条只显示一次的消息" in brotli.decompress(_get(member_client).data).decode()
    assert "一条只显示一次的消息" not in brotli.decompress(_get(member_client).data).decode()


def test_a_database_error_leaves_the_request_to_flask(app, member_client, monkeypatch):
    _warm(member_client)

    def broken(self, member_id):
        raise OSError("the database went away")

    monkeypatch.setattr(MemberRows, "read", broken)
    with flask_requests(app) as handled:
        answer = _get(member_client)
    assert answer.status_code == 200 and handled == [1]


def test_the_request_log_has_a_line_for_a_kept_answer(app, city, member_client, caplog):
    _warm(member_client)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="learning.request"), flask_requests(app) as handled:
        _get(member_client)
    assert handled == []
    lines = [r.hongfan_fields for r in caplog.records if r.name == "learning.request"]
    assert len(lines) == 1
    assert {k: lines[0][k] for k in ("status", "path", "endpoint", "member_id")} == {
        "status": 200, "path": "/", "endpoint": "study.home", "member_id": city["member"].id}


# --- session cookies ---------------------------------------------------------------------------

def _later(monkeypatch, seconds: float) -> None:
    """The sessions' clock (only theirs: cookies are still signed, and kept, at the real time)."""
    monkeypatch.setattr(sessions, "_now", lambda: time.time() + seconds)


def _holding(app, cookie: str):
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def test_a_remembered_session_is_renewed_once_it_is_a_day_old(member_client, monkeypatch):
    _warm(member_client)
    assert "Set-Cookie" not in _get(member_client).headers
    _later(monkeypatch, sessions.RENEW_AFTER_S + 60)
    renewed = _get(member_client)
    assert renewed.status_code == 200 and "session=" in renewed.headers["Set-Cookie"]


def test_a_forged_session_or_one_past_its_lifetime_is_refused(app, member_client, monkeypatch):
    _warm(member_client)
    cookie = member_client.get_cookie("session").value
    assert _get(_holding(app, cookie)).status_code == 200
    forged = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    assert _get(_holding(app, forged)).status_code == 302
    _later(monkeypatch, app.permanent_session_lifetime.total_seconds() + 60)
    answer = _get(_holding(app, cookie))
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
