"""The load benchmark's scenarios (bench/load) drive real routes and do what they claim.

The steps run through Flask's test client here and check what they left in the database; the
locustfile itself runs for a few seconds against gunicorn when locust is installed (the `bench`
extra). Nothing here measures time: the figures live in bench/README.md.
"""
from __future__ import annotations

import csv
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from helpers import PASSWORD
from learning.extensions import db
from learning.study.models import LessonProgress, StudyEvent

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench" / "load"))
from scenarios import MemberFlow, SecretaryFlow, StepFailed  # noqa: E402


class FlaskClientHttp:
    """scenarios.Http over Flask's test client; remembers every call."""

    def __init__(self, client) -> None:
        self.client = client
        self.calls: list[tuple[str, int]] = []
        self.last: bytes = b""

    def request(self, method, path, *, name, expect=(200,), data=None, json_body=None, headers=None) -> str:
        if isinstance(data, list):  # repeated fields (a multiple-choice answer)
            data = MultiDict(data)
        response = self.client.open(path, method=method, data=data, json=json_body, headers=headers or {})
        self.calls.append((name, response.status_code))
        if response.status_code not in expect:
            raise StepFailed(f"{name}: HTTP {response.status_code}")
        self.last = response.get_data()
        return self.last.decode("utf-8", "replace")


def test_member_steps_log_in_study_send_events_and_take_a_quiz(app, client, city, make_course):
    course = make_course(lessons=("text", "text", "quiz"))
    quiz = course.lessons[2]
    member_id = city["member"].id
    http = FlaskClientHttp(client)
    flow = MemberFlow(http, city["member"].phone, PASSWORD, [f"/courses/{course.slug}/lessons/{quiz.slug}"])

    flow.login()
    assert flow.csrf and flow.lesson_paths == []  # nothing started yet
    flow.plan()
    flow.send_events()  # opens the planned course's first lesson, then sends its progress
    assert flow.lesson == (course.lessons[0].id, "text")
    flow.send_events()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(StudyEvent)
                             .where(StudyEvent.member_id == member_id)) == 20
    assert db.session.get(LessonProgress, (member_id, course.lessons[0].id)).time_spent_s == 100

    flow.home()  # the lesson now waits under 继续学习
    assert flow.lesson_paths == [f"/courses/{course.slug}/lessons/{course.lessons[0].slug}"]
    flow.continue_lesson()
    assert flow.lesson == (course.lessons[0].id, "text")

    flow.take_quiz()
    db.session.rollback()
    assert db.session.get(LessonProgress, (member_id, quiz.id)).best_score is not None
    names = {name for name, _ in http.calls}
    assert {"POST /login", "GET / (member home)", "GET /api/v1/plan", "GET /courses/<slug>",
            "GET /courses/<slug>/lessons/<lesson>", "POST /api/v1/events", "GET quiz lesson",
            "POST /lessons/<id>/quiz"} <= names
    assert all(status in (200, 302) for _, status in http.calls)


def test_secretary_steps_open_the_dashboard_and_export_it(app, client, city):
    http = FlaskClientHttp(client)
    flow = SecretaryFlow(http, city["secretary"].phone, PASSWORD, city["a1"].code)
    flow.login()
    flow.dashboard()
    assert city["member"].name in http.last.decode()
    flow.export()
    assert http.last[:2] == b"PK"  # an .xlsx (zip) file


def test_a_step_that_gets_an_error_fails(app, client, city):
    flow = MemberFlow(FlaskClientHttp(client), city["member"].phone, "wrong password", [])
    with pytest.raises(StepFailed, match="POST /login: HTTP 401"):
        flow.login()
    other = SecretaryFlow(FlaskClientHttp(app.test_client()), city["secretary"].phone, PASSWORD, city["a2"].code)
    other.login()
    with pytest.raises(StepFailed, match="404|403"):
        other.dashboard()  # another branch's dashboard is not this secretary's


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(importlib.util.find_spec("locust") is None,
                    reason="locust is not installed (pip install -e '.[bench]')")
def test_the_locustfile_runs_every_user_class_against_gunicorn(app, city, make_course, tmp_path):
    course = make_course(lessons=("text", "text", "quiz"))
    db.session.commit()
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps({
        "password": PASSWORD, "members": [city["member"].phone, city["other"].phone],
        "secretaries": [[city["secretary"].phone, city["a1"].code]],
        "quiz_paths": [f"/courses/{course.slug}/lessons/{course.lessons[2].slug}"]}))
    port = _free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("HONGFAN_")},
           "HONGFAN_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "HONGFAN_INSTANCE_PATH": str(tmp_path / "server-instance"), "HONGFAN_SECRET_KEY": "load-test-secret",
           "HONGFAN_SESSION_COOKIE_SECURE": "false",  # plain http: locust's jar drops Secure cookies
           "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", "1", "--threads", "4",
         "--bind", f"127.0.0.1:{port}", "--log-level", "error", "learning:create_app()"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).close()
                break
            except (OSError, urllib.error.URLError):
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.2)
        seen: dict[str, tuple[int, int]] = {}
        # one class at a time: each alone, so the run checks routes, not contention
        for classes, users in ((["MemberUser"], 2), (["SecretaryUser"], 1), (["HomePageUser"], 2),
                               (["LoginStormUser"], 2)):
            prefix = tmp_path / classes[0]
            subprocess.run(
                [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "load" / "locustfile.py"), "--headless",
                 "--host", f"http://127.0.0.1:{port}", "-u", str(users), "-r", str(users), "-t", "8s",
                 "--csv", str(prefix), "--only-summary", "--loglevel", "ERROR", *classes],
                cwd=ROOT, env={**env, "HONGFAN_LOAD_TARGETS": str(targets), "HONGFAN_LOAD_NO_PAUSE": "1",
                               "HONGFAN_LOAD_RESULT": str(tmp_path / "storm.json")},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)
            with open(f"{prefix}_stats.csv", newline="") as fh:
                for row in csv.DictReader(fh):
                    before = seen.get(row["Name"], (0, 0))  # summed over the runs: no failure hidden
                    seen[row["Name"]] = (before[0] + int(row["Request Count"]), before[1] + int(row["Failure Count"]))
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    expected = {"POST /login", "GET / (member home)", "GET /api/v1/plan", "GET /courses/<slug>/lessons/<lesson>",
                "POST /api/v1/events", "GET quiz lesson", "POST /lessons/<id>/quiz", "GET /orgs/<code>/dashboard",
                "GET /orgs/<code>/dashboard/export"}
    assert expected <= set(seen), sorted(seen)
    assert {name: counts for name, counts in seen.items() if counts[1]} == {}
    assert all(seen[name][0] > 0 for name in expected)
    storm = json.loads((tmp_path / "storm.json").read_text())
    assert storm["served"] == 2 and storm["failed"] == 0 and len(storm["latencies_ms"]) == 2
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(StudyEvent)) > 0
