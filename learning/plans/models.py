"""A member's stored learning plan and the courses they marked 不感兴趣."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.catalog.models import Course
from learning.extensions import db
from learning.timeutil import utcnow


class Dismissal(db.Model):
    """A course the member does not want recommended again; training learns from it too."""

    __tablename__ = "dismissal"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), primary_key=True, index=True)
    dismissed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    course: Mapped[Course] = relationship()


class LearningPlan(db.Model):
    """The member's current plan. `basis` fingerprints what it was built from (history,
    dismissals, assignments, model, week …): while it matches, the stored plan is served as is;
    when it changes, the plan is rebuilt with this one as `previous`, so it does not reshuffle."""

    __tablename__ = "learning_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    model_version: Mapped[str | None] = mapped_column(String(80))  # None: built from the rules
    basis: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    items: Mapped[list[PlannedCourse]] = relationship(
        back_populates="plan", order_by="PlannedCourse.position", cascade="all, delete-orphan")


class PlannedCourse(db.Model):
    """One item of a plan; the reason is stored as a code and parameters so it reads in the
    member's language."""

    __tablename__ = "plan_item"

    plan_id: Mapped[int] = mapped_column(ForeignKey("learning_plan.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    due_week: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(12))  # required | recommended
    reason_code: Mapped[str] = mapped_column(String(40))
    reason_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    plan: Mapped[LearningPlan] = relationship(back_populates="items")
    course: Mapped[Course] = relationship()
