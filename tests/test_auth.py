from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from helpers import PASSWORD, csrf_from
from learning import create_app
from learning.audit.models import AuditEvent
from learning.extensions import db


def test_login_shows_my_study(city, auth, client):
    response = auth.login("13800000002")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "骑手小王" in page and "学时" in page


def test_login_accepts_spaces_and_full_width_digits(city, auth, client):
    assert auth.login("１３８ 0000 0002").status_code == 302


def test_wrong_password_is_refused_with_a_message(city, auth):
    response = auth.login("13800000002", "wrong password")
    assert response.status_code == 401
    assert "手机号或密码不正确" in response.get_data(as_text=True)


def test_english_on_request(city, client):
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert "Log in" in page or "Password" in page


def test_login_requires_csrf(city, client):
    response = client.post("/login", data={"phone": "13800000002", "password": PASSWORD})
    assert response.status_code == 400


def test_remember_me_keeps_the_phone_logged_in_for_30_days(city, auth, client):
    response = auth.login("13800000002", remember=True)
    cookies = [SimpleCookie(h) for h in response.headers.getlist("Set-Cookie")]
    remember = next(c["remember_token"] for c in cookies if "remember_token" in c)
    assert int(remember["max-age"] or 0) >= 30 * 24 * 3600 - 60 or "expires" in remember
    assert remember["httponly"]
    # Without the session cookie, the remember cookie alone logs the member back in.
    client.delete_cookie("session")
    assert client.get("/").status_code == 200


def _cookie_values(client) -> dict[str, str]:
    return {c.key: c.value for c in client._cookies.values()}


def _restore(client, saved: dict[str, str]) -> None:
    for key, value in saved.items():
        client.set_cookie(key, value)


def test_logout_revokes_copies_of_old_cookies(city, auth, client):
    auth.login("13800000002", remember=True)
    saved = _cookie_values(client)
    assert client.get("/").status_code == 200
    auth.logout()
    _restore(client, saved)  # an attacker replays the cookies copied before logout
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_password_change_ends_other_sessions(city, app, auth):
    phone_a = app.test_client()
    phone_b = app.test_client()
    from helpers import AuthActions

    AuthActions(phone_a).login("13800000002")
    AuthActions(phone_b).login("13800000002")
    page = phone_a.get("/account/password").get_data(as_text=True)
    response = phone_a.post("/account/password", data={
        "csrf_token": csrf_from(page), "current": PASSWORD, "new": "a new long passphrase",
        "confirm": "a new long passphrase"})
    assert response.status_code == 302
    assert phone_a.get("/").status_code == 200  # this device stays logged in
    assert phone_b.get("/").status_code == 302  # the other phone must log in again


@pytest.mark.parametrize("new, ok", [("short7!", False), ("x" * 8, True), ("长" * 64, True), ("y" * 129, False)])
def test_password_length_rules(city, auth, client, new, ok):
    auth.login("13800000002")
    page = client.get("/account/password").get_data(as_text=True)
    response = client.post("/account/password", data={
        "csrf_token": csrf_from(page), "current": PASSWORD, "new": new, "confirm": new})
    assert (response.status_code == 302) is ok


def test_failed_logins_are_limited_per_account(city, auth):
    for _ in range(5):
        assert auth.login("13800000002", "wrong password").status_code == 401
    response = auth.login("13800000002")  # even the right password now waits
    assert response.status_code == 429
    assert "尝试次数过多" in response.get_data(as_text=True)
    # Another account from the same address is not affected by this account's limit.
    assert auth.login("13800000005").status_code == 302


def test_failed_login_limit_holds_across_server_processes(city, app):
    """Two app instances on the same database stand for two server processes."""
    from helpers import AuthActions

    other = create_app({"TESTING": True, "INSTANCE_PATH": app.instance_path,
                        "DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": "x" * 32})
    clients = [AuthActions(app.test_client()), AuthActions(other.test_client())]
    for attempt in range(5):
        assert clients[attempt % 2].login("13800000002", "wrong password").status_code == 401
    assert clients[0].login("13800000002").status_code == 429
    assert clients[1].login("13800000002").status_code == 429
    with other.app_context():
        db.engine.dispose()


def test_failed_logins_are_limited_per_address(city, app):
    from helpers import AuthActions

    app.config["LOGIN_LIMIT_PER_ADDRESS"] = 3
    actions = AuthActions(app.test_client())
    for phone in ("13800000002", "13800000005", "13800000001"):
        assert actions.login(phone, "wrong password").status_code == 401
    assert actions.login("13800000004").status_code == 429


def test_failed_logins_are_audited(city, auth, app):
    auth.login("13800000002", "wrong password")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login_failed"))
    assert event is not None and event.target == "138****0002"


@pytest.mark.parametrize("target, expected", [
    ("/courses", "/courses"),
    ("//evil.example/x", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("", "/"),
])
def test_redirect_after_login_only_to_relative_paths(city, auth, target, expected):
    response = auth.login("13800000002", next=target)
    assert response.headers["Location"] == expected


def test_password_hash_is_upgraded_at_login(city, auth, app):
    member = city["member"]
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    member.password_hash = weak
    db.session.commit()
    assert auth.login("13800000002").status_code == 302
    db.session.refresh(member)
    assert member.password_hash != weak
    assert "m=19456,t=2,p=1" in member.password_hash


def test_inactive_member_cannot_log_in(city, auth):
    city["member"].active = False
    db.session.commit()
    assert auth.login("13800000002").status_code == 401


def test_failed_login_limit_in_redis_when_configured(city, app):
    """With HONGFAN_REDIS_URL the counters live in Redis (shared by several app servers)."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    redis.Redis.from_url(url).flushdb()
    from helpers import AuthActions

    app.config["REDIS_URL"] = url
    app.extensions.pop("hongfan_throttle", None)
    actions = AuthActions(app.test_client())
    for _ in range(5):
        assert actions.login("13800000002", "wrong password").status_code == 401
    assert actions.login("13800000002").status_code == 429
    assert int(redis.Redis.from_url(url).get("hongfan:login:acct:13800000002")) == 5
    redis.Redis.from_url(url).flushdb()


def test_csrf_token_does_not_expire_while_the_session_lives(city, app, auth, client, make_course, monkeypatch):
    """A member opens a quiz on the bus and submits it hours later: the answers still go in."""
    import time as time_module

    course = make_course()
    quiz = course.lessons[2]
    auth.login("13800000002")
    page = client.get(f"/courses/{course.slug}/lessons/{quiz.slug}").get_data(as_text=True)
    token = csrf_from(page)
    later = time_module.time() + 5 * 3600
    monkeypatch.setattr(time_module, "time", lambda: later)
    response = client.post(f"/lessons/{quiz.id}/quiz", data={"csrf_token": token, "q0": "0", "q1": "1"})
    assert response.status_code == 200 and "100 <small>" in response.get_data(as_text=True)


def test_the_password_is_checked_without_holding_the_sqlite_write_lock(app, client, city, monkeypatch):
    """argon2 costs tens of milliseconds by design: checked under SQLite's write lock, logins
    would be served one at a time however many cores the server has."""
    if app.config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("SQLite's database-wide write lock")
    import sqlite3

    from learning.auth import passwords

    from helpers import AuthActions

    db.session.commit()
    path = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    real_verify = passwords.verify_password
    lock_free = []

    def verify(stored, password):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails at once if the login request holds the lock
            other.execute("ROLLBACK")
            lock_free.append(True)
        except sqlite3.OperationalError:
            lock_free.append(False)
        finally:
            other.close()
        return real_verify(stored, password)

    monkeypatch.setattr(passwords, "verify_password", verify)
    assert AuthActions(client).login("13800000002").status_code == 302
    assert AuthActions(app.test_client()).login("13800000002", "wrong password!").status_code == 401
    assert lock_free == [True, True]
