"""Study writes: lesson completion, quiz attempts and the 学时 credit of a finished course.

All of them keep MemberYear counters in the same transaction as the rows they count.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from content import QuestionSpec, grade
from learning.catalog.models import Course, Lesson
from learning.extensions import db
from learning.orgs.models import Member
from learning.study.models import CourseCompletion, LessonProgress, MemberYear
from learning.timeutil import local_year


def lock_member(member: Member) -> None:
    """Serialize one member's study writes. PostgreSQL: a row lock; SQLite: the request's
    BEGIN IMMEDIATE already serializes writers, and FOR UPDATE compiles to nothing."""
    db.session.execute(select(Member.id).where(Member.id == member.id).with_for_update())


def member_year(member_id: int, year: int) -> MemberYear:
    row = db.session.get(MemberYear, (member_id, year))
    if row is None:
        row = MemberYear(member_id=member_id, year=year, hours=0.0, points=0, courses_done=0)
        db.session.add(row)
    return row


def lesson_progress(member: Member, lesson: Lesson) -> LessonProgress:
    row = db.session.get(LessonProgress, (member.id, lesson.id))
    if row is None:
        row = LessonProgress(member_id=member.id, lesson_id=lesson.id, progress=0.0, position=0.0,
                             time_spent_s=0)
        db.session.add(row)
    return row


def _touch(member: Member, at: datetime) -> None:
    year_row = member_year(member.id, local_year(at))
    if year_row.last_active_at is None or year_row.last_active_at < at:
        year_row.last_active_at = at


def complete_lesson(member: Member, lesson: Lesson, at: datetime) -> CourseCompletion | None:
    """Mark a lesson complete (once; a later repeat changes nothing) and credit the course
    when this was its last required lesson. Returns the new completion, if any."""
    lock_member(member)
    progress = lesson_progress(member, lesson)
    progress.progress = 1.0
    progress.updated_at = max(progress.updated_at or at, at)
    _touch(member, at)
    if progress.completed_at is not None:
        return None
    progress.completed_at = at
    return _maybe_complete_course(member, lesson.course, at)


@dataclass(frozen=True)
class QuizResult:
    score: int  # percent
    correct: tuple[bool, ...]
    passed: bool


def submit_quiz(member: Member, lesson: Lesson, answers: list[list[int]], at: datetime) -> QuizResult:
    """Grade a quiz attempt, keep the best score, complete the lesson when passed."""
    questions = [QuestionSpec(**{**q, "options": tuple(q["options"]), "answer": tuple(q["answer"])})
                 for q in lesson.questions]
    score, correct = grade(questions, answers)
    passed = score >= (lesson.pass_score or 0)
    lock_member(member)
    progress = lesson_progress(member, lesson)
    if progress.best_score is None or score > progress.best_score:
        progress.best_score = score
    _touch(member, at)
    if passed:
        complete_lesson(member, lesson, at)
    return QuizResult(score=score, correct=correct, passed=passed)


def _maybe_complete_course(member: Member, course: Course, at: datetime) -> CourseCompletion | None:
    required = [lesson.id for lesson in course.required_lessons]
    db.session.flush()
    done = db.session.scalar(
        select(func.count()).select_from(LessonProgress).where(
            LessonProgress.member_id == member.id,
            LessonProgress.lesson_id.in_(required),
            LessonProgress.completed_at.is_not(None),
        )
    )
    if done < len(required):
        return None
    return credit_course(member, course, at, source="online")


def credit_course(member: Member, course: Course, at: datetime, *, source: str) -> CourseCompletion | None:
    """Credit a course's 学时 once per calendar year (local time) and update the counters."""
    year = local_year(at)
    exists = db.session.scalar(
        select(CourseCompletion.id).where(
            CourseCompletion.member_id == member.id,
            CourseCompletion.course_id == course.id,
            CourseCompletion.year == year,
        )
    )
    if exists is not None:
        return None
    completion = CourseCompletion(member_id=member.id, course_id=course.id, org_id=member.home_org_id,
                                  year=year, completed_at=at, hours=course.hours,
                                  category=course.category, source=source)
    db.session.add(completion)
    counters = member_year(member.id, year)
    counters.hours = round(counters.hours + course.hours, 2)
    counters.courses_done += 1
    if counters.last_active_at is None or counters.last_active_at < at:
        counters.last_active_at = at
    return completion
