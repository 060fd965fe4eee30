"""A member's 学习心得 on one course and its review."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.catalog.models import Course
from learning.extensions import db
from learning.orgs.models import Member
from learning.timeutil import utcnow


class ReflectionStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting for the secretary
    RETURNED = "returned"  # sent back with a comment; the member edits and resubmits
    APPROVED = "approved"  # final: earns points once, may be featured on the branch page


class Reflection(db.Model):
    __tablename__ = "reflection"
    __table_args__ = (
        UniqueConstraint("member_id", "course_id"),
        Index("ix_reflection_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=ReflectionStatus.SUBMITTED)
    review_comment: Mapped[str] = mapped_column(String(500), default="")
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    submissions: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))

    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    course: Mapped[Course] = relationship()
    reviewed_by: Mapped[Member | None] = relationship(foreign_keys=[reviewed_by_id])
