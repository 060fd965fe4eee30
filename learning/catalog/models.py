"""Courses and lessons as stored rows (imported from content packages)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.extensions import db
from learning.timeutil import utcnow


class CourseStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Course(db.Model):
    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(20), index=True)
    hours: Mapped[float] = mapped_column(Float)
    audience: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Learner kinds (orgs.models.MemberKind) who may take the course; empty = everyone.
    allowed_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Slugs of courses to study first, as the package wrote them; one naming no published course
    # is ignored by plans and the course page (the administrator's edit page lists it).
    prerequisites: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    cover: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(12), default=CourseStatus.DRAFT, index=True)
    # Folder under instance/media holding this version's files (one folder per import, so a
    # new version is published by switching this value in the same transaction).
    media_dir: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)

    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="course", order_by="Lesson.position", cascade="all, delete-orphan"
    )

    @property
    def required_lessons(self) -> list[Lesson]:
        return [lesson for lesson in self.lessons if not lesson.optional and not lesson.retired]


class Lesson(db.Model):
    __tablename__ = "lesson"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # text | video | audio | pdf | quiz
    body_html: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[str | None] = mapped_column(String(255))
    duration_s: Mapped[int] = mapped_column(Integer)
    min_dwell_s: Mapped[int] = mapped_column(Integer)
    pass_score: Mapped[int | None] = mapped_column(Integer)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    requires: Mapped[list[str]] = mapped_column(JSON, default=list)
    optional: Mapped[bool] = mapped_column(Boolean, default=False)
    digest: Mapped[str] = mapped_column(String(64))
    # A lesson dropped by a newer version keeps its row (progress points at it) but no longer counts.
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_in: Mapped[str | None] = mapped_column(String(32))
    # When the lesson last changed: a member who completed it before then sees it marked updated.
    changed_at: Mapped[datetime | None] = mapped_column(DateTime)

    course: Mapped[Course] = relationship(back_populates="lessons")
