"""Kill the server with SIGKILL while a phone streams events with retries: every acknowledged
event is stored exactly once, applied exactly once, no completion is doubled, counters reconcile."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from faultkit import Phone
from helpers import PASSWORD
from learning.extensions import db
from learning.study.models import CourseCompletion, LessonProgress, MemberYear, StudyEvent
from learning.study.reconcile import differences

ROOT = Path(__file__).resolve().parent.parent
KILLS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn (one gthread worker) in its own process group, so SIGKILL takes master and worker."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "gthread", "--threads", "4",
             "--bind", f"127.0.0.1:{self.port}", "--log-level", "error", "learning:create_app()"],
            cwd=ROOT, env=self.env, start_new_session=True, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/login", timeout=2):
                    return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def _stream(course, start: datetime) -> list[list[dict]]:
    """A morning of study in batches of 10: reading both text lessons, the video, then the quiz."""
    text1, text2, video, quiz = course.lessons
    events = []
    for n in range(120):
        lesson = (text1, text2, video)[n // 40]
        events.append({"id": str(uuid.uuid4()), "lesson_id": lesson.id, "kind": "progress",
                       "progress": round((n % 40 + 1) / 40, 3), "position": n % 40 + 1, "time_spent_s": 4,
                       "occurred_at": (start + timedelta(seconds=10 * n)).isoformat()})
    for n, answers in enumerate(([[1], [0]], [[0], [1]], [[0], [1]])):
        events.append({"id": str(uuid.uuid4()), "lesson_id": quiz.id, "kind": "answer", "answers": answers,
                       "occurred_at": (start + timedelta(seconds=1300 + n)).isoformat()})
    return [events[i:i + 7] for i in range(0, len(events), 7)]


def test_sigkill_while_streaming_loses_and_doubles_nothing(app, city, make_course, tmp_path):
    course = make_course(lessons=("text", "text", "video", "quiz"), hours=2)
    member_id = city["member"].id
    db.session.commit()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("HONGFAN_")},
           "HONGFAN_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "HONGFAN_INSTANCE_PATH": str(tmp_path / "server-instance"), "HONGFAN_SECRET_KEY": "fault-test-secret",
           # plain http on loopback: a Secure cookie would never come back from the phone's jar
           "HONGFAN_SESSION_COOKIE_SECURE": "false"}
    server = Server(env)
    server.start()
    phone = Phone(f"http://127.0.0.1:{server.port}")
    phone.login(city["member"].phone, PASSWORD)
    batches = _stream(course, datetime.now(UTC) - timedelta(hours=2))
    acknowledged: set[str] = set()
    retries = [0]
    done = threading.Event()

    def stream() -> None:
        for batch in batches:
            for attempt in range(200):
                try:
                    # every batch twice over: the second send is the retry of a lost response
                    result = phone.send(batch)
                    assert not result["rejected"], result
                    acknowledged.update(result["accepted"], result["duplicates"])
                    again = phone.send(batch)
                    assert again["accepted"] == [] and sorted(again["duplicates"]) == sorted(e["id"] for e in batch)
                    time.sleep(0.25)  # a phone sends every few seconds; the kills land mid-stream
                    break
                except (OSError, urllib.error.URLError, http.client.HTTPException):
                    retries[0] += 1
                    time.sleep(0.2)
            else:
                raise AssertionError("a batch was never acknowledged")
        done.set()

    streamer = threading.Thread(target=stream)
    streamer.start()
    try:
        for _ in range(KILLS):
            time.sleep(0.6)
            server.kill()
            time.sleep(0.3)  # the phone retries against a dead port meanwhile
            server.start()
        streamer.join(timeout=120)
    finally:
        done.wait(timeout=1)
        server.kill()
    assert done.is_set() and retries[0] > 0, "the stream finished, and met at least one dead server"

    sent = {e["id"]: e for batch in batches for e in batch}
    assert acknowledged == set(sent)
    db.session.rollback()
    stored = list(db.session.scalars(select(StudyEvent).where(StudyEvent.member_id == member_id)))
    assert sorted(str(e.id) for e in stored) == sorted(sent)  # every one, each once
    for lesson in course.lessons[:3]:  # each event's study time counted exactly once
        row = db.session.get(LessonProgress, (member_id, lesson.id))
        assert row.time_spent_s == sum(e.get("time_spent_s", 0) for e in sent.values() if e["lesson_id"] == lesson.id)
        assert row.completed_at is not None
    assert db.session.scalar(select(func.count()).select_from(CourseCompletion)) == 1
    year = db.session.scalar(select(CourseCompletion.year))
    assert db.session.get(MemberYear, (member_id, year)).hours == 2
    assert differences() == []
