"""Fixtures for the phone tests: a member signed in on a 390×844 zh-CN phone, study data read
back from the database, and the study-event endpoint the outbox sends to."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import uuid
from datetime import UTC, datetime

import pytest
from flask import jsonify, request
from sqlalchemy import func, select

from learning.api.auth import api_member
from learning.catalog.models import Lesson
from learning.extensions import db
from learning.study.models import CourseCompletion, LessonProgress, StudyEvent
from learning.study.operations import complete_lesson, lesson_progress, submit_quiz


def _fake_events():
    """TEST-ONLY stand-in for POST /api/v1/events (issue 4, built on another branch). Used only
    while the app has no such route, so the phone's outbox can be checked end to end; once the
    real endpoint is merged the tests run against it and this function can be deleted."""
    member = api_member()
    body = request.get_json(silent=True)
    events = body.get("events") if isinstance(body, dict) else body
    accepted, duplicates = [], []
    for event in events:
        event_id = uuid.UUID(event["id"])
        if db.session.get(StudyEvent, event_id) is not None:
            duplicates.append(event["id"])
            continue
        lesson = db.session.get(Lesson, event["lesson_id"])
        at = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)
        db.session.add(StudyEvent(id=event_id, member_id=member.id, lesson_id=lesson.id, kind=event["kind"],
                                  payload=event, occurred_at=at,
                                  body_hash=hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()))
        row = lesson_progress(member, lesson)
        row.time_spent_s = (row.time_spent_s or 0) + int(event.get("time_spent_s") or 0)
        if event["kind"] == "progress":
            row.position = max(row.position or 0, float(event["position"]))
            row.progress = max(row.progress or 0, float(event["progress"]))
        elif event["kind"] == "complete":
            complete_lesson(member, lesson, at)
        elif event["kind"] == "answer":
            submit_quiz(member, lesson, event["answers"], at)
        accepted.append(event["id"])
    return jsonify({"accepted": accepted, "duplicates": duplicates, "rejected": []})


@pytest.fixture
def events_api(app):
    """The real POST /api/v1/events when this branch has it, otherwise the test-only stand-in.
    Must be requested before the live server answers its first request."""
    if not any(rule.rule == "/api/v1/events" and "POST" in rule.methods for rule in app.url_map.iter_rules()):
        app.add_url_rule("/api/v1/events", "test_fake_events", _fake_events, methods=["POST"])
    return "/api/v1/events"


class Study:
    """What the server has recorded for one member, read fresh from the database."""

    def __init__(self, member_id: int) -> None:
        self.member_id = member_id

    def progress(self, lesson_id: int) -> LessonProgress | None:
        db.session.rollback()
        return db.session.get(LessonProgress, (self.member_id, lesson_id))

    def completions(self, course_id: int) -> int:
        db.session.rollback()
        return db.session.scalar(select(func.count()).select_from(CourseCompletion).where(
            CourseCompletion.member_id == self.member_id, CourseCompletion.course_id == course_id))

    def events(self, kind: str | None = None) -> list[StudyEvent]:
        db.session.rollback()
        query = select(StudyEvent).where(StudyEvent.member_id == self.member_id)
        if kind:
            query = query.where(StudyEvent.kind == kind)
        return list(db.session.scalars(query))


@pytest.fixture
def study(city):
    return Study(city["member"].id)


@pytest.fixture
def tiny_video(tmp_path):
    """A 6-second H.264 video made with ffmpeg (a few kilobytes)."""
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed: cannot make a test video")
    path = tmp_path / "talk.mp4"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "color=c=0xb3261e:size=64x36:rate=10", "-t", "6", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-preset", "ultrafast", "-movflags", "+faststart", str(path)], check=True)
    return path
