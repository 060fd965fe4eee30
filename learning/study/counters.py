"""MemberYear counters: changed in the same transaction as the rows they count (completions,
offline attendances, points), and recomputed from those rows by `hongfan stats reconcile`."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import inspect

from learning.extensions import db
from learning.study.models import MemberYear
from learning.timeutil import local_year


def member_year(member_id: int, year: int) -> MemberYear:
    # Held in the session's info: the identity map keeps unmodified rows only weakly, and a
    # batch touches the same row for every event.
    held = db.session.info.setdefault("hongfan_member_years", {})
    row = held.get((member_id, year))
    if row is not None and (inspect(row).persistent or inspect(row).pending):
        return row
    row = db.session.get(MemberYear, (member_id, year))
    if row is None:
        row = MemberYear(member_id=member_id, year=year, hours=0.0, points=0, courses_done=0)
        db.session.add(row)
    held[(member_id, year)] = row
    return row


def touch(member_id: int, at: datetime, row: MemberYear | None = None) -> MemberYear:
    """Record study activity at `at` (the latest moment wins, whatever order events arrive in);
    `row`, when given, is that year's counter row already at hand."""
    row = row or member_year(member_id, local_year(at))
    if row.last_active_at is None or row.last_active_at < at:
        row.last_active_at = at
    return row


def add_hours(member_id: int, year: int, hours: float, *, course: bool = False) -> None:
    """Credit 学时 to the year's counter: a course completion (course=True) or an offline
    attendance (OfflineAttendance, credited by the branch)."""
    row = member_year(member_id, year)
    row.hours = round(row.hours + hours, 2)
    if course:
        row.courses_done += 1
