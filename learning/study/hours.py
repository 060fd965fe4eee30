"""学时 per member, year and category, and which of them count toward the annual target
(the TARGET_CATEGORIES setting; empty = every category). Read from the credit rows themselves:
course completions and confirmed offline attendances."""
from __future__ import annotations

from collections import defaultdict

from flask import current_app
from sqlalchemy import func, select

from learning.extensions import db
from learning.meetings.models import OfflineAttendance
from learning.study.models import CourseCompletion


def target_categories() -> frozenset[str]:
    """The categories that count toward the target; empty means all of them."""
    return frozenset(c for c in current_app.config.get("TARGET_CATEGORIES") or () if c)


def counts_toward_target(category: str) -> bool:
    counted = target_categories()
    return not counted or category in counted


def hours_by_category(member_id: int, year: int) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for model in (CourseCompletion, OfflineAttendance):
        for category, hours in db.session.execute(
                select(model.category, func.sum(model.hours))
                .where(model.member_id == member_id, model.year == year).group_by(model.category)):
            totals[category] += hours
    return {category: round(hours, 2) for category, hours in sorted(totals.items())}


def hours_toward_target(member_id: int, year: int) -> float:
    """The year's 学时 in the categories that count (MemberYear.hours holds every category)."""
    return round(sum(h for c, h in hours_by_category(member_id, year).items() if counts_toward_target(c)), 2)
