"""Helpers shared by test modules (importable as `helpers`: pytest puts tests/ on sys.path)."""
from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from flask.testing import FlaskClient

PASSWORD = "correct horse battery"
PG_URL = os.environ.get("HONGFAN_TEST_DATABASE_URL")
CHROMIUM = os.environ.get("HONGFAN_CHROMIUM", "/usr/bin/chromium")
# Headless Chromium as root, on a machine without network: no sandbox, no calls home.
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync")


@contextmanager
def empty_database(tmp_path: Path, name: str) -> Iterator[str]:
    """The URL of an empty database of its own (no schema): a SQLite file, or a new PostgreSQL
    database beside HONGFAN_TEST_DATABASE_URL's, dropped afterwards."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    database = f"hongfan_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield make_url(PG_URL).set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, phone: str, password: str = PASSWORD, remember: bool = True, next: str = ""):
        page = self.client.get("/login")
        data = {"csrf_token": csrf_from(page.get_data(as_text=True)), "phone": phone,
                "password": password, "next": next}
        if remember:
            data["remember"] = "y"
        return self.client.post("/login", data=data)

    def logout(self):
        page = self.client.get("/")
        return self.client.post("/logout", data={"csrf_token": csrf_from(page.get_data(as_text=True))})


def study_event(lesson_id: int, kind: str = "progress", *, at: datetime | None = None, **fields) -> dict:
    """One event as the phone sends it to POST /api/v1/events."""
    moment = at if at is not None else datetime.now(UTC)
    return {"id": str(uuid.uuid4()), "lesson_id": lesson_id, "kind": kind,
            "occurred_at": moment.isoformat(), **fields}


def post_events(client: FlaskClient, events: list[dict] | dict):
    """POST a batch with the session cookie and the CSRF header, as the lesson page's script does."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/api/v1/events", json=events, headers={"X-CSRFToken": token})


def study_for(client: FlaskClient, lesson_id: int, seconds: int = 300):
    """Report reading time on a lesson (enough for the minimum dwell before 我已学完本课 counts)."""
    response = post_events(client, [study_event(lesson_id, time_spent_s=seconds)])
    assert response.status_code == 200 and len(response.get_json()["accepted"]) == 1, response.get_json()
    return response


def api_token(client: FlaskClient, phone: str, password: str = PASSWORD, name: str | None = None) -> str:
    """A bearer token from POST /api/v1/tokens."""
    body = {"phone": phone, "password": password, **({"name": name} if name else {})}
    response = client.post("/api/v1/tokens", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def finish_lesson(member, lesson, at: datetime) -> None:
    """Complete one lesson the way the rules allow: a quiz answered correctly, any other lesson
    after its minimum dwell time."""
    from learning.study import operations

    if lesson.kind == "quiz":
        operations.submit_quiz(member, lesson, [list(q["answer"]) for q in lesson.questions], at)
    else:
        operations.complete_lesson(member, lesson, at, time_spent_s=lesson.min_dwell_s)
def finish_course(member, course, at: datetime) -> None:
    """Finish every required lesson of a course (the completion follows)."""
    for lesson in course.required_lessons:
        finish_lesson(member, lesson, at)


def browser_login(page, base: str, phone: str, password: str = PASSWORD) -> None:
    """Log in through the login page of a Playwright page."""
    page.goto(f"{base}/login")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
