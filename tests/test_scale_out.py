"""Several application servers on one database, by configuration alone (README "Scale-out"):
two `hongfan serve` processes with their own instance folders share the secret key, the
database and Redis. A member logged in through one is logged in on the other, a page one server
keeps is renewed when the other records study, and failed logins count across both."""
from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

import servers
from helpers import PASSWORD, csrf_from, study_event

REDIS_URL = "redis://127.0.0.1:6379/14"


def _redis_or_none() -> str | None:
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        client.ping()
        client.flushdb()
        return REDIS_URL
    except Exception:  # noqa: BLE001 -- no Redis here: the counters stay in the database, shared as well
        return None


class Browser:
    """Cookies for 127.0.0.1 whatever the port, as behind one load balancer."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def open(self, url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, str]:
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def login(self, base: str, phone: str, password: str = PASSWORD) -> tuple[int, str]:
        _status, page = self.open(f"{base}/login")
        form = urlencode({"csrf_token": csrf_from(page), "phone": phone, "password": password}).encode()
        return self.open(f"{base}/login", form, {"Content-Type": "application/x-www-form-urlencoded"})


@pytest.fixture
def two_servers(app, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    env = {"HONGFAN_DATABASE_URL": url, "HONGFAN_SECRET_KEY": app.config["SECRET_KEY"],
           "HONGFAN_SESSION_COOKIE_SECURE": "false", "HONGFAN_SERVE_THREADS": "2"}
    redis_url = _redis_or_none()
    if redis_url:
        env["HONGFAN_REDIS_URL"] = redis_url
    started = []
    try:
        for name in ("a", "b"):
            started.append(servers.start(tmp_path, {**env, "HONGFAN_INSTANCE_PATH": str(tmp_path / f"instance-{name}")},
                                         "--workers", "1"))
    except RuntimeError as error:
        for server in started:
            server.stop()
        pytest.fail(str(error))
    yield started
    for server in started:
        server.stop()


def test_two_servers_share_sessions_pages_and_login_limits(app, city, make_course, two_servers):
    course = make_course(title="骑手交通安全")
    first_lesson = course.lessons[0]
    a, b = (server.base for server in two_servers)

    member = Browser()
    status, home = member.login(a, "13800000002")
    assert status == 200 and "骑手小王" in home  # logged in through A, redirected to the home page
    for _ in range(2):  # B knows the session; the second visit is B's kept page
        status, page = member.open(f"{b}/")
        assert status == 200 and "骑手小王" in page and "下一课：第2课" not in page

    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    events = [study_event(first_lesson.id, time_spent_s=300),
              study_event(first_lesson.id, "complete", position=1.0, progress=1.0)]
    status, body = member.open(f"{a}/api/v1/events", json.dumps({"events": events}).encode(),
                               {"Content-Type": "application/json", "X-CSRFToken": token})
    assert status == 200 and len(json.loads(body)["accepted"]) == 2, body
    status, page = member.open(f"{b}/")  # recorded through A, shown by B at once
    assert status == 200 and "下一课：第2课 · 1/3" in page

    stranger = Browser()
    for base in (a, b, a, b, a):  # five failures, spread over both servers
        assert stranger.login(base, "13800000005", "wrong password")[0] == 401
    assert stranger.login(b, "13800000005")[0] == 429  # the right password, too late: limited on both
    assert Browser().login(a, "13800000005")[0] == 429
