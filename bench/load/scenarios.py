"""What members and secretaries do, written once for locust and for the tests.

Every step goes through a small `Http` adapter (`request(method, path, name=…, expect=…)` → the
body as text, raising `StepFailed` on any other status), so the same functions drive the app
through locust's HTTP client under load (bench/load/locustfile.py) and through Flask's test
client in tests/test_load_scenarios.py. Nothing here imports locust or gevent.

Members follow what the phone does: log in with the form, open the home page (their plan, the
lessons in progress), the plan as JSON, continue a lesson found on the home page, send the
lesson's progress as study events (`POST /api/v1/events`, CSRF header, client-made ids), take a
quiz (read the form, answer every question). Secretaries log in, open their branch's dashboard
and export its member table to Excel.
"""
from __future__ import annotations

import json
import random
import re
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlencode

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LESSON_LINK = re.compile(r'href="(/courses/[^"/?#]+/lessons/[^"/?#]+)"')
COURSE_LINK = re.compile(r'class="row-link" href="(/courses/[^"/?#]+)"')
LESSON_ID = re.compile(r'data-lesson-id="(\d+)"')
LESSON_KIND = re.compile(r'data-kind="([a-z]+)"')
QUIZ_ACTION = re.compile(r'action="(/lessons/\d+/quiz)"')
QUIZ_OPTION = re.compile(r'<input type="(radio|checkbox)" name="(q\d+)" value="(\d+)"')
EVENT_BATCH = 10


class StepFailed(Exception):
    """A step got an answer a real client would treat as an error."""


class Http(Protocol):
    def request(self, method: str, path: str, *, name: str, expect: tuple[int, ...] = (200,),
                data: dict[str, Any] | list[tuple[str, str]] | None = None, json_body: Any = None,
                headers: dict[str, str] | None = None) -> str: ...


def _find(pattern: re.Pattern[str], text: str, what: str) -> str:
    match = pattern.search(text)
    if match is None:
        raise StepFailed(f"no {what} on the page")
    return match.group(1)


def form_body(fields: dict[str, Any] | list[tuple[str, str]]) -> bytes:
    return urlencode(fields).encode()


def log_in(http: Http, phone: str, password: str) -> None:
    """The login form, as a browser sends it; the adapter keeps the session cookie."""
    page = http.request("GET", "/login", name="GET /login")
    http.request("POST", "/login", name="POST /login", expect=(302,),
                 data={"csrf_token": _find(CSRF_FIELD, page, "CSRF field"), "phone": phone,
                       "password": password, "remember": "y", "next": ""})


class MemberFlow:
    """One member's phone: session cookie in the adapter, the CSRF token and what the pages showed."""

    def __init__(self, http: Http, phone: str, password: str, quiz_paths: list[str],
                 rng: random.Random | None = None) -> None:
        self.http = http
        self.phone = phone
        self.password = password
        self.quiz_paths = quiz_paths
        self.rng = rng or random.Random()
        self.csrf = ""
        self.lesson_paths: list[str] = []
        self.course_paths: list[str] = []
        self.lesson: tuple[int, str] | None = None  # (id, kind) of the lesson being studied
        self.position = 0

    def login(self) -> None:
        log_in(self.http, self.phone, self.password)
        self.home()

    def home(self) -> None:
        page = self.http.request("GET", "/", name="GET / (member home)")
        self.csrf = _find(CSRF_META, page, "CSRF meta tag")
        self.lesson_paths = LESSON_LINK.findall(page)
        self.course_paths = COURSE_LINK.findall(page)

    def plan(self) -> None:
        body = json.loads(self.http.request("GET", "/api/v1/plan", name="GET /api/v1/plan"))
        if "items" not in body:
            raise StepFailed(f"plan without items: {sorted(body)}")

    def continue_lesson(self) -> None:
        """The lesson the home page offers ("继续学习"), else the first lesson of a planned course."""
        if self.lesson_paths:
            path = self.rng.choice(self.lesson_paths)
        elif self.course_paths:
            course = self.http.request("GET", self.rng.choice(self.course_paths), name="GET /courses/<slug>")
            links = LESSON_LINK.findall(course)
            if not links:
                return
            path = links[0]
        else:
            return
        page = self.http.request("GET", path, name="GET /courses/<slug>/lessons/<lesson>")
        kind = _find(LESSON_KIND, page, "lesson kind")
        self.lesson = (int(_find(LESSON_ID, page, "lesson id")), kind)
        self.csrf = _find(CSRF_META, page, "CSRF meta tag")
        self.position = 0

    def send_events(self) -> None:
        """A batch of progress events for the lesson on screen, as the lesson page's script sends."""
        if self.lesson is None or self.lesson[1] == "quiz":
            self.continue_lesson()
        if self.lesson is None or self.lesson[1] == "quiz":
            return
        now = datetime.now(UTC).isoformat()
        batch = []
        for _ in range(EVENT_BATCH):
            self.position = min(self.position + 1, 100)
            batch.append({"id": str(uuid.uuid4()), "lesson_id": self.lesson[0], "kind": "progress",
                          "progress": self.position / 100, "position": self.position / 100,
                          "time_spent_s": 5, "occurred_at": now})
        body = json.loads(self.http.request(
            "POST", "/api/v1/events", name="POST /api/v1/events", json_body=batch,
            headers={"X-CSRFToken": self.csrf}))
        if body.get("rejected") or len(body.get("accepted", [])) + len(body.get("duplicates", [])) != len(batch):
            raise StepFailed(f"events not all acknowledged: {body.get('rejected')}")

    def take_quiz(self) -> None:
        if not self.quiz_paths:
            return
        page = self.http.request("GET", self.rng.choice(self.quiz_paths), name="GET quiz lesson")
        action = _find(QUIZ_ACTION, page, "quiz form")
        options: dict[str, list[tuple[str, str]]] = {}
        for kind, question, value in QUIZ_OPTION.findall(page):
            options.setdefault(question, []).append((kind, value))
        answers: list[tuple[str, str]] = [("csrf_token", _find(CSRF_FIELD, page, "CSRF field"))]
        for question, choices in options.items():
            picked = choices if choices[0][0] == "checkbox" and self.rng.random() < 0.5 else [self.rng.choice(choices)]
            answers += [(question, value) for _, value in picked]
        self.http.request("POST", action, name="POST /lessons/<id>/quiz", data=answers)


class SecretaryFlow:
    """A branch secretary at a desk: the dashboard, then the member table as .xlsx."""

    def __init__(self, http: Http, phone: str, password: str, org_code: str) -> None:
        self.http = http
        self.phone = phone
        self.password = password
        self.org_code = org_code

    def login(self) -> None:
        log_in(self.http, self.phone, self.password)

    def dashboard(self) -> None:
        self.http.request("GET", f"/orgs/{self.org_code}/dashboard", name="GET /orgs/<code>/dashboard")

    def export(self) -> None:
        self.http.request("GET", f"/orgs/{self.org_code}/dashboard/export?table=members&format=xlsx",
                          name="GET /orgs/<code>/dashboard/export")
