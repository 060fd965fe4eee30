"""积分: rules stored as data and the ledger that applies them.

Points are a motivation layer, never a substitute for 学时. An award pays only once per
(member, behaviour, reference), only after the rule's minimum dwell, and only up to the rule's
daily cap; its day and year are those of the study moment in local time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from learning.extensions import db
from learning.study.counters import member_year
from learning.study.models import PointsEntry, PointsRule
from learning.timeutil import to_local

FIRST_STUDY_OF_DAY = "first_study_of_day"
LESSON_COMPLETE = "lesson_complete"
COURSE_COMPLETE = "course_complete"
QUIZ_PASS = "quiz_pass"  # noqa: S105 -- a points behaviour ("passed a quiz"), not a password
QUIZ_FULL_MARKS = "quiz_full_marks"
STREAK_7 = "streak_7"
REFLECTION_APPROVED = "reflection_approved"  # a 学习心得 approved by the secretary

# Fragmented time on a courier's day: early morning, lunch, evening.
BONUS_PERIODS = [["06:00", "08:30"], ["12:00", "14:00"], ["20:00", "22:30"]]


@dataclass(frozen=True)
class RuleDefault:
    behaviour: str
    points: int
    daily_cap: int
    min_dwell_s: int = 0
    bonus_periods: tuple[tuple[str, str], ...] = ()
    bonus_points: int = 0


DEFAULT_RULES = (
    RuleDefault(FIRST_STUDY_OF_DAY, points=1, daily_cap=1, min_dwell_s=60),
    RuleDefault(LESSON_COMPLETE, points=2, daily_cap=20, min_dwell_s=60,
                bonus_periods=tuple(tuple(p) for p in BONUS_PERIODS), bonus_points=1),
    RuleDefault(COURSE_COMPLETE, points=5, daily_cap=20),
    RuleDefault(QUIZ_PASS, points=2, daily_cap=10),
    RuleDefault(QUIZ_FULL_MARKS, points=3, daily_cap=9),
    RuleDefault(STREAK_7, points=5, daily_cap=5),
    RuleDefault(REFLECTION_APPROVED, points=5, daily_cap=10),
)


def rules() -> dict[str, PointsRule]:
    """The rules, seeded with the defaults on first use (a fresh database has none)."""
    found = {rule.behaviour: rule for rule in db.session.scalars(select(PointsRule))}
    if not found:
        try:
            with db.session.begin_nested():
                for d in DEFAULT_RULES:
                    db.session.add(PointsRule(
                        behaviour=d.behaviour, points=d.points, daily_cap=d.daily_cap,
                        min_dwell_s=d.min_dwell_s, bonus_periods=[list(p) for p in d.bonus_periods],
                        bonus_points=d.bonus_points, active=True))
        except IntegrityError:
            pass  # another request seeded them at the same moment; read theirs
        found = {rule.behaviour: rule for rule in db.session.scalars(select(PointsRule))}
    return found


def in_bonus_period(rule: PointsRule, local_moment: datetime) -> bool:
    clock = local_moment.time()
    for start, end in rule.bonus_periods or ():
        if time.fromisoformat(start) <= clock < time.fromisoformat(end):
            return True
    return False


class Ledger:
    """Awards for one member within one transaction. Caches what it has read, so a batch of
    events costs a handful of queries, not several per event."""

    def __init__(self, member_id: int) -> None:
        self.member_id = member_id
        self._rules: dict[str, PointsRule] | None = None
        self._paid: set[tuple[str, str]] = set()
        self._day_totals: dict[tuple[str, date], int] = {}

    @property
    def rules(self) -> dict[str, PointsRule]:
        if self._rules is None:
            self._rules = rules()
        return self._rules

    def award(self, behaviour: str, reference: str, at: datetime, *, dwell_s: int = 0) -> int:
        """Pay `behaviour` for `reference` at study moment `at`; returns the points paid (0 when
        the rule is off, the dwell too short, the reference already paid or the cap reached)."""
        rule = self.rules.get(behaviour)
        if rule is None or not rule.active or dwell_s < rule.min_dwell_s:
            return 0
        key = (behaviour, reference)
        if key in self._paid:
            return 0
        paid = db.session.scalar(select(PointsEntry.id).where(
            PointsEntry.member_id == self.member_id, PointsEntry.behaviour == behaviour,
            PointsEntry.reference == reference))
        if paid is not None:
            self._paid.add(key)
            return 0
        local = to_local(at)
        points = rule.points + (rule.bonus_points if in_bonus_period(rule, local) else 0)
        if rule.daily_cap:
            points = min(points, rule.daily_cap - self._day_total(behaviour, local.date()))
        if points <= 0:
            return 0
        db.session.add(PointsEntry(member_id=self.member_id, behaviour=behaviour, reference=reference,
                                   day=local.date(), year=local.year, points=points, awarded_at=at))
        self._paid.add(key)
        self._day_totals[(behaviour, local.date())] += points
        member_year(self.member_id, local.year).points += points
        return points

    def _day_total(self, behaviour: str, day: date) -> int:
        key = (behaviour, day)
        if key not in self._day_totals:
            self._day_totals[key] = db.session.scalar(
                select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                    PointsEntry.member_id == self.member_id, PointsEntry.behaviour == behaviour,
                    PointsEntry.day == day))
        return self._day_totals[key]
