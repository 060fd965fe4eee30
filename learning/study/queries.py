"""Reads about one member's study."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, load_only, selectinload

from learning.catalog.models import Course, Lesson
from learning.extensions import db
from learning.meetings.models import OfflineAttendance, OfflineSession
from learning.orgs.models import Member, Organization
from learning.study.models import CourseCompletion, LessonProgress, MemberYear, StudyDay


@dataclass(frozen=True)
class CourseState:
    course: Course
    done: int
    total: int
    next_lesson: Lesson | None
    # The lesson the member last worked on and has not finished: where 继续学习 reopens.
    last_open: Lesson | None = None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def resume_lesson(self) -> Lesson | None:
        return self.last_open or self.next_lesson


def year_counters(member: Member, year: int) -> MemberYear | None:
    return db.session.get(MemberYear, (member.id, year))


def progress_by_lesson(member: Member, lesson_ids: list[int]) -> dict[int, LessonProgress]:
    if not lesson_ids:
        return {}
    rows = db.session.scalars(
        select(LessonProgress).where(LessonProgress.member_id == member.id,
                                     LessonProgress.lesson_id.in_(lesson_ids))
    )
    return {row.lesson_id: row for row in rows}


def course_state(member: Member, course: Course,
                 progress: dict[int, LessonProgress] | None = None) -> CourseState:
    """Where the member stands in a course; `progress` (by lesson id) when the caller already
    loaded it for several courses at once."""
    current = [lesson for lesson in course.lessons if not lesson.retired]
    if progress is None:
        progress = progress_by_lesson(member, [lesson.id for lesson in current])
    lessons = course.required_lessons
    done = sum(1 for lesson in lessons if progress.get(lesson.id) and progress[lesson.id].completed_at)
    upcoming = next((lesson for lesson in lessons
                     if not (progress.get(lesson.id) and progress[lesson.id].completed_at)), None)
    open_rows = [(progress[lesson.id].updated_at, lesson.position, lesson) for lesson in current
                 if lesson.id in progress and progress[lesson.id].completed_at is None]
    last_open = max(open_rows, key=lambda row: (row[0], row[1]))[2] if open_rows else None
    return CourseState(course=course, done=done, total=len(lessons), next_lesson=upcoming,
                       last_open=last_open)


# What a list of courses in progress needs of each lesson: not its body, media or questions.
_LESSON_OUTLINE = load_only(Lesson.id, Lesson.course_id, Lesson.slug, Lesson.position, Lesson.title, Lesson.kind,
                            Lesson.optional, Lesson.retired)


def courses_in_progress(member: Member) -> list[CourseState]:
    """Courses with some lesson started but not yet credited this member, latest first.

    Five statements whatever the number of courses (the member home page runs this on every
    visit): started lessons' courses, completed courses, the open courses with their lesson
    outlines, and the member's progress in those lessons."""
    started = db.session.execute(
        select(Lesson.course_id, LessonProgress.updated_at)
        .join(LessonProgress, LessonProgress.lesson_id == Lesson.id)
        .where(LessonProgress.member_id == member.id)
        .order_by(LessonProgress.updated_at.desc())
    ).all()
    completed = set(db.session.scalars(
        select(CourseCompletion.course_id).where(CourseCompletion.member_id == member.id)
    ))
    order: list[int] = []
    for course_id, _ in started:
        if course_id not in completed and course_id not in order:
            order.append(course_id)
    if not order:
        return []
    courses = {course.id: course for course in db.session.scalars(
        select(Course).where(Course.id.in_(order)).options(selectinload(Course.lessons).options(_LESSON_OUTLINE)))}
    progress = progress_by_lesson(member, [lesson.id for course in courses.values() for lesson in course.lessons
                                           if not lesson.retired])
    states = [course_state(member, courses[cid], progress) for cid in order if cid in courses]
    return [s for s in states if s.next_lesson is not None]


def completions(member: Member, year: int | None = None) -> list[CourseCompletion]:
    query = (select(CourseCompletion).where(CourseCompletion.member_id == member.id)
             .options(joinedload(CourseCompletion.course)))  # every row shows its course
    if year is not None:
        query = query.where(CourseCompletion.year == year)
    return list(db.session.scalars(query.order_by(CourseCompletion.completed_at.desc())))


def completed_among(member: Member, courses: list[Course]) -> set[int]:
    """Ids of those courses the member has completed (in any year)."""
    if not courses:
        return set()
    return set(db.session.scalars(select(CourseCompletion.course_id).where(
        CourseCompletion.member_id == member.id, CourseCompletion.course_id.in_([c.id for c in courses]))))


def streak_days(member: Member, today: date) -> int:
    """连续学习天数: consecutive local days with study, ending today or (not yet studied
    today) yesterday. Reads the latest few weeks first (the home page asks on every visit) and
    the whole history only when the streak is longer than those."""
    query = (select(StudyDay.day).where(StudyDay.member_id == member.id, StudyDay.day <= today)
             .order_by(StudyDay.day.desc()))
    first = list(db.session.scalars(query.limit(_STREAK_PAGE)))
    count = _run_length(first, today)
    if count < _STREAK_PAGE:
        return count
    return _run_length(list(db.session.scalars(query)), today)


_STREAK_PAGE = 40


def _run_length(days: list[date], today: date) -> int:
    """How many of `days` (newest first) run back day by day from today, or from yesterday."""
    expected = today
    count = 0
    for day in days:
        if count == 0 and day == today - timedelta(days=1):
            expected = day
        if day != expected:
            break
        count += 1
        expected = day - timedelta(days=1)
    return count


@dataclass(frozen=True)
class OfflineCredit:
    title: str
    kind: str
    held_on: date
    hours: float
    category: str
    branch: str


@dataclass(frozen=True)
class YearRecord:
    """A member's proof of 学时 for one calendar year: every credit, with totals by category."""

    year: int
    completions: list[CourseCompletion]
    offline: list[OfflineCredit]

    @property
    def by_category(self) -> list[tuple[str, float]]:
        totals: dict[str, float] = {}
        credits = [(c.category, c.hours) for c in self.completions]
        credits += [(o.category, o.hours) for o in self.offline]
        for category, hours in credits:
            totals[category] = round(totals.get(category, 0.0) + hours, 2)
        return sorted(totals.items(), key=lambda item: (-item[1], item[0]))

    @property
    def total(self) -> float:
        return round(sum(hours for _, hours in self.by_category), 2)


def year_record(member: Member, year: int) -> YearRecord:
    offline = db.session.execute(
        select(OfflineSession.title, OfflineSession.kind, OfflineSession.held_on, OfflineAttendance.hours,
               OfflineAttendance.category, OfflineSession.org_id)
        .join(OfflineSession, OfflineSession.id == OfflineAttendance.session_id)
        .where(OfflineAttendance.member_id == member.id, OfflineAttendance.year == year)
        .order_by(OfflineSession.held_on, OfflineSession.id)
    ).all()
    names = dict(db.session.execute(
        select(Organization.id, Organization.name).where(Organization.id.in_({row.org_id for row in offline}))
    ).all()) if offline else {}
    return YearRecord(
        year=year,
        completions=sorted(completions(member, year), key=lambda c: c.completed_at),
        offline=[OfflineCredit(title=r.title, kind=r.kind, held_on=r.held_on, hours=r.hours,
                               category=r.category, branch=names.get(r.org_id, "")) for r in offline],
    )


def record_years(member: Member, current: int) -> list[int]:
    """Years with any credit for the member, and the current year, newest first."""
    online = db.session.scalars(select(CourseCompletion.year).distinct()
                                .where(CourseCompletion.member_id == member.id))
    offline = db.session.scalars(select(OfflineAttendance.year).distinct()
                                 .where(OfflineAttendance.member_id == member.id))
    return sorted({current, *online, *offline}, reverse=True)


def progress_rows(member: Member, since: datetime | None = None) -> Select[tuple[LessonProgress, int]]:
    """The member's lesson progress with each lesson's course id, oldest change first."""
    query = (select(LessonProgress, Lesson.course_id).join(Lesson, Lesson.id == LessonProgress.lesson_id)
             .where(LessonProgress.member_id == member.id))
    if since is not None:
        query = query.where(LessonProgress.updated_at >= since)
    return query.order_by(LessonProgress.updated_at, LessonProgress.lesson_id)
