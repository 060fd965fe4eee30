"""Offline study sessions and their attendees; each attendance is a 学时 credit (source: confirmed)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.extensions import db
from learning.orgs.models import Member, Organization
from learning.timeutil import utcnow


class OfflineSession(db.Model):
    __tablename__ = "offline_session"
    __table_args__ = (Index("ix_offline_session_org_held", "org_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    title: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # 集中学习 | 主题党日 (stored as a key)
    held_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(20))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    org: Mapped[Organization] = relationship()
    attendances: Mapped[list[OfflineAttendance]] = relationship(back_populates="session")


class OfflineAttendance(db.Model):
    """One attendee's credit. Like CourseCompletion it carries the member's home branch and the
    year at the time, so statistics stay with the branch where the study happened."""

    __tablename__ = "offline_attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "member_id"),
        Index("ix_offline_attendance_org_year", "org_id", "year"),
        Index("ix_offline_attendance_member_year", "member_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("offline_session.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    year: Mapped[int] = mapped_column(Integer)
    hours: Mapped[float] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(20))
    credited_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    session: Mapped[OfflineSession] = relationship(back_populates="attendances")
    member: Mapped[Member] = relationship()
