"""Study progress, the event log, completions and the per-member-year counters."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, UniqueConstraint,
                        Uuid)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.catalog.models import Course, Lesson
from learning.extensions import db
from learning.timeutil import utcnow


class LessonProgress(db.Model):
    __tablename__ = "lesson_progress"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), primary_key=True, index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1
    position: Mapped[float] = mapped_column(Float, default=0.0)  # scroll fraction or media seconds
    time_spent_s: Mapped[int] = mapped_column(Integer, default=0)
    best_score: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    lesson: Mapped[Lesson] = relationship()


class StudyEvent(db.Model):
    """Append-only log of what the phone sent; the client-made id makes retries harmless."""

    __tablename__ = "study_event"
    __table_args__ = (Index("ix_study_event_member_lesson", "member_id", "lesson_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"))
    kind: Mapped[str] = mapped_column(String(12))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    body_hash: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CourseCompletion(db.Model):
    __tablename__ = "course_completion"
    __table_args__ = (
        UniqueConstraint("member_id", "course_id", "year"),
        # Covering for the dashboards' subtree aggregates (index-only scans at city scale).
        Index("ix_course_completion_org_year", "org_id", "year", "completed_at", "course_id", "member_id", "hours"),
        Index("ix_course_completion_course_year", "course_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    # The member's home branch when the credit was earned: statistics before a transfer stay
    # with the old branch.
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    year: Mapped[int] = mapped_column(Integer)
    completed_at: Mapped[datetime] = mapped_column(DateTime)
    hours: Mapped[float] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(10), default="online")  # online | confirmed

    course: Mapped[Course] = relationship()


class MemberYear(db.Model):
    """Counters kept in the same transaction as the completions, so dashboards read members,
    not millions of events."""

    __tablename__ = "member_year"
    # SQLite: clustered by (member_id, year), so the dashboards' per-member lookup reads the row
    # itself rather than an index entry and then the row.
    __table_args__ = (Index("ix_member_year_year", "year"), {"sqlite_with_rowid": False})

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    hours: Mapped[float] = mapped_column(Float, default=0.0)
    points: Mapped[int] = mapped_column(Integer, default=0)
    courses_done: Mapped[int] = mapped_column(Integer, default=0)
    last_active_at: Mapped[datetime | None] = mapped_column(DateTime)


class OrgCreditMonth(db.Model):
    """学时 credited in one organization per local calendar month: course completions and
    confirmed offline attendances, keyed like the credits themselves by the branch they were
    earned in (so a transfer leaves them where they were earned, and a subtree move, which
    changes paths but not ids, leaves them valid). Dashboards read these few thousand rows
    for totals, trends and child figures instead of millions of credits.

    Kept in the same transaction as the credits (learning/study/rollups.py); rebuilt from the
    credits and checked by `hongfan stats reconcile`."""

    __tablename__ = "org_credit_month"
    __table_args__ = {"sqlite_with_rowid": False}  # clustered by the key: a subtree read is a few range scans

    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)  # local calendar month, 1–12
    course_hours: Mapped[float] = mapped_column(Float, default=0.0)
    completions: Mapped[int] = mapped_column(Integer, default=0)
    offline_hours: Mapped[float] = mapped_column(Float, default=0.0)
    offline: Mapped[int] = mapped_column(Integer, default=0)  # confirmed attendances


class SubtreeCourseMonth(db.Model):
    """Completions of each course per local month anywhere in the subtree of a node near the
    top of the tree (depth ≤ rollups.ROLLUP_DEPTH: the academy and the level below it). Their
    course tables sum one node's rows; deeper nodes, whose subtrees are small, read their
    completions directly. Adjusted when a subtree moves (learning/orgs/operations.move_org)."""

    __tablename__ = "subtree_course_month"
    __table_args__ = {"sqlite_with_rowid": False}

    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), primary_key=True)
    completions: Mapped[int] = mapped_column(Integer, default=0)


class AnnualTarget(db.Model):
    """学时 target per year and role; absent rows fall back to the configured defaults."""

    __tablename__ = "annual_target"
    __table_args__ = (UniqueConstraint("year", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))  # member | secretary
    hours: Mapped[float] = mapped_column(Float)


class StudyDay(db.Model):
    """One row per member per local calendar day with any study: the source of streaks
    (连续学习天数) and of the "first study of the day" points rule."""

    __tablename__ = "study_day"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class PointsRule(db.Model):
    """One 积分 behaviour, as data an administrator can change: points per award, a daily cap
    (points per member per local day, 0 = none), the minimum dwell on the lesson before it
    pays, and optional bonus periods in local time ([["06:00", "08:30"], …]) that add
    `bonus_points`."""

    __tablename__ = "points_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    behaviour: Mapped[str] = mapped_column(String(32), unique=True)
    points: Mapped[int] = mapped_column(Integer)
    daily_cap: Mapped[int] = mapped_column(Integer, default=0)
    min_dwell_s: Mapped[int] = mapped_column(Integer, default=0)
    bonus_periods: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    bonus_points: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PointsEntry(db.Model):
    """The 积分 ledger: one row per award. The unique (member, behaviour, reference) — e.g.
    lesson_complete / "lesson:12" — is what makes an award impossible to collect twice."""

    __tablename__ = "points_entry"
    __table_args__ = (
        UniqueConstraint("member_id", "behaviour", "reference"),
        Index("ix_points_entry_member_day", "member_id", "day"),
        Index("ix_points_entry_member_year", "member_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    behaviour: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)  # local calendar day of the study moment
    year: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    awarded_at: Mapped[datetime] = mapped_column(DateTime)  # the study moment (naive UTC)
