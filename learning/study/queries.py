"""Reads about one member's study."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from learning.catalog.models import Course, Lesson
from learning.extensions import db
from learning.orgs.models import Member
from learning.study.models import CourseCompletion, LessonProgress, MemberYear


@dataclass(frozen=True)
class CourseState:
    course: Course
    done: int
    total: int
    next_lesson: Lesson | None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


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


def course_state(member: Member, course: Course) -> CourseState:
    lessons = course.required_lessons
    progress = progress_by_lesson(member, [lesson.id for lesson in lessons])
    done = sum(1 for lesson in lessons if progress.get(lesson.id) and progress[lesson.id].completed_at)
    upcoming = next((lesson for lesson in lessons
                     if not (progress.get(lesson.id) and progress[lesson.id].completed_at)), None)
    return CourseState(course=course, done=done, total=len(lessons), next_lesson=upcoming)


def courses_in_progress(member: Member) -> list[CourseState]:
    """Courses with some lesson started but not yet credited this member, latest first."""
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
    states = [course_state(member, db.session.get(Course, cid)) for cid in order]
    return [s for s in states if s.next_lesson is not None]


def completions(member: Member, year: int | None = None) -> list[CourseCompletion]:
    query = select(CourseCompletion).where(CourseCompletion.member_id == member.id)
    if year is not None:
        query = query.where(CourseCompletion.year == year)
    return list(db.session.scalars(query.order_by(CourseCompletion.completed_at.desc())))
