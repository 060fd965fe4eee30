"""One member's record for the secretaries allowed to see it (and for the member)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from learning.catalog.models import Course, Lesson
from learning.database import read_session
from learning.extensions import db
from learning.meetings.models import OfflineAttendance, OfflineSession
from learning.orgs.models import Member
from learning.stats.queries import Period, month_bucket
from learning.study.models import CourseCompletion, LessonProgress, MemberYear
from learning.timeutil import to_local


@dataclass(frozen=True)
class Credit:
    when: date  # local day
    title: str
    category: str
    hours: float
    source: str  # online | confirmed


def credits(member: Member, year: int) -> list[Credit]:
    """Every 学时 credit of the year, online and confirmed, newest first."""
    courses = read_session().execute(
        select(CourseCompletion.completed_at, Course.title, CourseCompletion.category, CourseCompletion.hours,
               CourseCompletion.source)
        .join(Course, Course.id == CourseCompletion.course_id)
        .where(CourseCompletion.member_id == member.id, CourseCompletion.year == year)).all()
    offline = read_session().execute(
        select(OfflineSession.held_on, OfflineSession.title, OfflineAttendance.category, OfflineAttendance.hours)
        .join(OfflineSession, OfflineSession.id == OfflineAttendance.session_id)
        .where(OfflineAttendance.member_id == member.id, OfflineAttendance.year == year)).all()
    rows = [Credit(to_local(at).date(), *rest) for at, *rest in courses]
    rows += [Credit(*r, source="confirmed") for r in offline]
    return sorted(rows, key=lambda c: c.when, reverse=True)


def hours_by_category(member: Member, year: int) -> list[tuple[str, float]]:
    totals: dict[str, float] = {}
    for cat, h in read_session().execute(
            select(CourseCompletion.category, func.sum(CourseCompletion.hours))
            .where(CourseCompletion.member_id == member.id, CourseCompletion.year == year)
            .group_by(CourseCompletion.category)):
        totals[cat] = totals.get(cat, 0.0) + float(h)
    for cat, h in read_session().execute(
            select(OfflineAttendance.category, func.sum(OfflineAttendance.hours))
            .where(OfflineAttendance.member_id == member.id, OfflineAttendance.year == year)
            .group_by(OfflineAttendance.category)):
        totals[cat] = totals.get(cat, 0.0) + float(h)
    return sorted(((c, round(h, 2)) for c, h in totals.items()), key=lambda x: -x[1])


def hours_by_month(member: Member, year: int) -> list[tuple[int, float]]:
    month = month_bucket(CourseCompletion.completed_at, year)
    totals = {m: float(h) for m, h in read_session().execute(
        select(month, func.sum(CourseCompletion.hours))
        .where(CourseCompletion.member_id == member.id, CourseCompletion.year == year).group_by(month))}
    for held_on, h in read_session().execute(
            select(OfflineSession.held_on, OfflineAttendance.hours)
            .join(OfflineSession, OfflineSession.id == OfflineAttendance.session_id)
            .where(OfflineAttendance.member_id == member.id, OfflineAttendance.year == year)):
        totals[held_on.month] = totals.get(held_on.month, 0.0) + float(h)
    return [(m, round(totals.get(m, 0.0), 2)) for m in Period(year).months]


def quiz_results(member: Member) -> list:
    return list(read_session().execute(
        select(Course.title.label("course"), Lesson.title.label("lesson"), LessonProgress.best_score,
               Lesson.pass_score, LessonProgress.updated_at)
        .join(Lesson, Lesson.id == LessonProgress.lesson_id).join(Course, Course.id == Lesson.course_id)
        .where(LessonProgress.member_id == member.id, Lesson.kind == "quiz", LessonProgress.best_score.is_not(None))
        .order_by(LessonProgress.updated_at.desc())).all())


def counters(member: Member, year: int) -> MemberYear | None:
    return db.session.get(MemberYear, (member.id, year))
