"""Required-course assignments."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.catalog.models import Course
from learning.extensions import db
from learning.orgs.models import Member, Organization
from learning.timeutil import utcnow


class Assignment(db.Model):
    """A course every member of `org`'s subtree must finish by `due_on` (local date).

    Members see it first in their plan; dashboards show its completion and who is overdue.
    Withdrawn assignments keep their row (withdrawn_at) so history stays explainable."""

    __tablename__ = "assignment"
    __table_args__ = (Index("ix_assignment_org_due", "org_id", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(200))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)

    org: Mapped[Organization] = relationship()
    course: Mapped[Course] = relationship()
    assigned_by: Mapped[Member | None] = relationship()
