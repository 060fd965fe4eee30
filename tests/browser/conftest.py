"""Fixtures for the phone tests: a member signed in on a 390×844 zh-CN phone and study data read
back from the database."""
from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlalchemy import func, select

from learning.extensions import db
from learning.study.models import CourseCompletion, LessonProgress, StudyEvent


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
