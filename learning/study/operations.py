"""Study writes: the progress rules applied to study events, quiz attempts and the 学时 credit
of a finished course.

Everything a member does is first an event in the append-only log (StudyEvent); the rules
below turn events into the per-lesson summary (LessonProgress), completions, 积分 and the
MemberYear counters, all in the caller's transaction. The phone's events and the web forms go
through the same `MemberStudy.apply`.

Rules (issue 4):
- resume position, watched fraction and time spent only ever grow: positions and progress are
  merged by maximum, time spent is a sum of per-event deltas (a duplicate event is never applied);
- text and PDF lessons complete when the end is reached after the lesson's minimum dwell;
- video and audio complete at ≥ 90 % watched;
- a quiz completes when an attempt passes; the best score is kept;
- a course completes when all its required lessons are complete, crediting its 学时 once per
  local calendar year — the year of the moment the member studied (occurred_at), not of the
  moment the server heard about it.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from content import QuestionSpec, grade
from learning.catalog.models import Course, Lesson
from learning.extensions import db
from learning.orgs.models import Member
from learning.study import points, rollups
from learning.study.counters import add_hours, member_year, touch
from learning.study.models import CourseCompletion, LessonProgress, MemberYear, StudyDay, StudyEvent
from learning.timeutil import local_year, to_local, utcnow

TEXT_END = 0.98  # a scroll fraction this close to 1 is the end of the page
MEDIA_WATCHED = 0.9
STREAK_DAYS = 7


def lock_member(member: Member) -> None:
    """Serialize one member's study writes. PostgreSQL: a row lock; SQLite: the request's
    BEGIN IMMEDIATE already serializes writers, and FOR UPDATE compiles to nothing."""
    db.session.execute(select(Member.id).where(Member.id == member.id).with_for_update())


def lesson_progress(member: Member, lesson: Lesson) -> LessonProgress:
    row = db.session.get(LessonProgress, (member.id, lesson.id))
    if row is None:
        row = LessonProgress(member_id=member.id, lesson_id=lesson.id, progress=0.0, position=0.0,
                             time_spent_s=0)
        db.session.add(row)
    return row


def payload_of(position: float | None, progress: float | None, time_spent_s: int,
               answers: tuple[tuple[int, ...], ...] | None) -> dict[str, Any]:
    """What StudyEvent.payload stores."""
    return {"position": position, "progress": progress, "time_spent_s": time_spent_s,
            "answers": [list(a) for a in answers] if answers is not None else None}


def body_hash(lesson_id: int, kind: str, occurred_at: datetime, payload: dict[str, Any]) -> str:
    """Fingerprint of everything but the id: the same id with another body is refused."""
    body = {"lesson_id": lesson_id, "kind": kind, "occurred_at": occurred_at.isoformat(timespec="microseconds"),
            **payload}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Event:
    """A study event as the rules see it (already validated)."""

    id: uuid.UUID
    lesson: Lesson
    kind: str  # progress | complete | answer
    occurred_at: datetime  # naive UTC
    position: float | None = None
    progress: float | None = None
    time_spent_s: int = 0
    answers: tuple[tuple[int, ...], ...] | None = None

    def payload(self) -> dict[str, Any]:
        return payload_of(self.position, self.progress, self.time_spent_s, self.answers)

    def body_hash(self) -> str:
        return body_hash(self.lesson.id, self.kind, self.occurred_at, self.payload())

    def values(self, member_id: int, received_at: datetime) -> dict[str, Any]:
        """The StudyEvent row."""
        return {"id": self.id, "member_id": member_id, "lesson_id": self.lesson.id, "kind": self.kind,
                "payload": self.payload(), "body_hash": self.body_hash(), "occurred_at": self.occurred_at,
                "received_at": received_at}


@dataclass(frozen=True)
class QuizResult:
    score: int  # percent
    correct: tuple[bool, ...]
    passed: bool


@dataclass
class Outcome:
    lesson_completed: bool = False
    completion: CourseCompletion | None = None
    quiz: QuizResult | None = None


class LessonNotFinished(ValueError):
    """A completion asked for before the rules allow it (e.g. before the minimum dwell)."""

    def __init__(self, message: Any) -> None:  # a lazy string: raised outside requests too
        super().__init__(message)
        self._message = message

    @property
    def message(self) -> str:
        return str(self._message)


def grade_answers(lesson: Lesson, answers: tuple[tuple[int, ...], ...]) -> QuizResult:
    questions = [QuestionSpec(**{**q, "options": tuple(q["options"]), "answer": tuple(q["answer"])})
                 for q in lesson.questions]
    score, correct = grade(questions, [list(a) for a in answers])
    return QuizResult(score=score, correct=correct, passed=score >= (lesson.pass_score or 0))


def lesson_finished(lesson: Lesson, row: LessonProgress) -> bool:
    if lesson.kind == "quiz":
        return row.best_score is not None and row.best_score >= (lesson.pass_score or 0)
    if lesson.kind in ("video", "audio"):
        return row.progress >= MEDIA_WATCHED
    return row.progress >= TEXT_END and row.time_spent_s >= lesson.min_dwell_s


def media_watched(member: Member, lesson: Lesson, seconds_on_page: int) -> bool:
    """Whether the "我已学完本课" form may finish a video or audio lesson: the player reported
    90 % watched, or a page without script (learning/study/reading.py) stayed open for 90 % of
    the recording's length. Pressing the button is no substitute for watching."""
    row = db.session.scalar(select(LessonProgress).where(LessonProgress.member_id == member.id,
                                                         LessonProgress.lesson_id == lesson.id))
    if row is not None and row.progress >= MEDIA_WATCHED:
        return True
    return seconds_on_page >= max(MEDIA_WATCHED * (lesson.duration_s or 0), lesson.min_dwell_s or 0)


class MemberStudy:
    """One member's study writes within the current transaction. Takes the member's lock first,
    so two requests of the same member (two phones, or a retry racing its original) apply one
    after the other and the second sees the first's events."""

    def __init__(self, member: Member) -> None:
        lock_member(member)
        self.member = member
        self.ledger = points.Ledger(member.id)
        self._progress: dict[int, LessonProgress] = {}
        self._days: dict[date, bool] = {}  # local day → a StudyDay row exists
        self._years: dict[int, MemberYear] = {}

    def preload(self, lessons: list[Lesson], moments: list[datetime]) -> None:
        """Read the progress rows and study days a batch will touch in two queries."""
        ids = [lesson.id for lesson in lessons if lesson.id not in self._progress]
        if ids:
            for row in db.session.scalars(select(LessonProgress).where(
                    LessonProgress.member_id == self.member.id, LessonProgress.lesson_id.in_(ids))):
                self._progress[row.lesson_id] = row
        days = {to_local(m).date() for m in moments} - self._days.keys()
        if days:
            self._days.update(dict.fromkeys(days, False))
            self._days.update(dict.fromkeys(db.session.scalars(select(StudyDay.day).where(
                StudyDay.member_id == self.member.id, StudyDay.day.in_(days))), True))

    def progress(self, lesson: Lesson) -> LessonProgress:
        if lesson.id not in self._progress:
            self._progress[lesson.id] = lesson_progress(self.member, lesson)
        return self._progress[lesson.id]

    def row_values(self, event: Event) -> dict[str, Any]:
        return event.values(self.member.id, utcnow())

    def log(self, event: Event) -> None:
        db.session.add(StudyEvent(**self.row_values(event)))

    def apply(self, event: Event) -> Outcome:
        """Fold one (new, logged) event into the summary, completions, points and counters."""
        lesson, at = event.lesson, event.occurred_at
        row = self.progress(lesson)
        outcome = Outcome()
        row.time_spent_s += event.time_spent_s
        if event.position is not None:
            row.position = max(row.position, event.position)
        reached = 1.0 if event.kind == "complete" else event.progress
        if reached is not None and lesson.kind != "quiz":
            row.progress = max(row.progress, reached)
        if row.updated_at is None or row.updated_at < at:
            row.updated_at = at
        year = local_year(at)
        if year not in self._years:
            self._years[year] = member_year(self.member.id, year)
        touch(self.member.id, at, self._years[year])
        self._study_day(at)
        reference = f"lesson:{lesson.id}"
        self.ledger.award(points.FIRST_STUDY_OF_DAY, f"day:{to_local(at).date()}", at, dwell_s=row.time_spent_s)
        if event.kind == "answer" and event.answers is not None:
            outcome.quiz = grade_answers(lesson, event.answers)
            row.best_score = max(row.best_score or 0, outcome.quiz.score)
            if outcome.quiz.passed:
                self.ledger.award(points.QUIZ_PASS, reference, at, dwell_s=row.time_spent_s)
            if outcome.quiz.score == 100:
                self.ledger.award(points.QUIZ_FULL_MARKS, reference, at, dwell_s=row.time_spent_s)
        if row.completed_at is None and lesson_finished(lesson, row):
            row.completed_at = at
            row.progress = 1.0
            outcome.lesson_completed = True
            if lesson.kind != "quiz":  # a passed quiz has its own points
                self.ledger.award(points.LESSON_COMPLETE, reference, at, dwell_s=row.time_spent_s)
            outcome.completion = self._maybe_complete_course(lesson.course, at)
            if outcome.completion is not None:
                self.ledger.award(points.COURSE_COMPLETE, f"course:{lesson.course_id}:{outcome.completion.year}", at)
        return outcome

    def _study_day(self, at: datetime) -> None:
        day = to_local(at).date()
        if day not in self._days:
            self.preload([], [at])
        if self._days[day]:
            return
        self._days[day] = True
        db.session.add(StudyDay(member_id=self.member.id, day=day))
        for streak_day in self._streak_milestones(day):
            self.ledger.award(points.STREAK_7, f"streak:{streak_day}", at)

    def _streak_milestones(self, day: date) -> list[date]:
        """Every 7th day of the run of consecutive study days that `day` belongs to."""
        window = timedelta(days=400)
        days = set(db.session.scalars(select(StudyDay.day).where(
            StudyDay.member_id == self.member.id, StudyDay.day.between(day - window, day + window))))
        days.add(day)
        start = day
        while start - timedelta(days=1) in days:
            start -= timedelta(days=1)
        end = day
        while end + timedelta(days=1) in days:
            end += timedelta(days=1)
        length = (end - start).days + 1
        return [start + timedelta(days=n - 1) for n in range(STREAK_DAYS, length + 1, STREAK_DAYS)]

    def _maybe_complete_course(self, course: Course, at: datetime) -> CourseCompletion | None:
        required = [lesson.id for lesson in course.required_lessons]
        db.session.flush()
        done = db.session.scalar(
            select(func.count()).select_from(LessonProgress).where(
                LessonProgress.member_id == self.member.id,
                LessonProgress.lesson_id.in_(required),
                LessonProgress.completed_at.is_not(None),
            )
        )
        if done < len(required):
            return None
        return credit_course(self.member, course, at, source="online")


def _record(member: Member, event: Event) -> tuple[Outcome, LessonProgress]:
    study = MemberStudy(member)
    study.log(event)
    return study.apply(event), study.progress(event.lesson)


def complete_lesson(member: Member, lesson: Lesson, at: datetime, *, time_spent_s: int = 0,
                    event_id: uuid.UUID | None = None) -> CourseCompletion | None:
    """The member says they finished a lesson (the web form's button): logged as a "complete"
    event and judged by the same rules as the phone's events. Returns the course credit this
    earned, if any; raises LessonNotFinished when the rules do not allow completion yet.

    `event_id` names the reading time `time_spent_s` measures (learning/study/reading.py): when
    an event of that id is already logged, the same form came again and its time counts once."""
    study = MemberStudy(member)  # the member's lock first: two copies of one form apply in turn
    if event_id is not None and db.session.get(StudyEvent, event_id) is not None:
        event_id, time_spent_s = None, 0
    event = Event(id=event_id or uuid.uuid4(), lesson=lesson, kind="complete", occurred_at=at,
                  time_spent_s=time_spent_s)
    study.log(event)
    outcome, row = study.apply(event), study.progress(lesson)
    if row.completed_at is None:
        if lesson.kind == "quiz":
            raise LessonNotFinished(_l("测验需要答题及格才算学完。"))
        minutes = max(1, -(-(lesson.min_dwell_s - row.time_spent_s) // 60))
        raise LessonNotFinished(_l("学习时间还不够，请再学习 %(minutes)s 分钟后再标记学完。", minutes=minutes))
    return outcome.completion


def submit_quiz(member: Member, lesson: Lesson, answers: list[list[int]], at: datetime) -> QuizResult:
    """Grade a quiz attempt (an "answer" event), keep the best score, complete the lesson when passed."""
    event = Event(id=uuid.uuid4(), lesson=lesson, kind="answer", occurred_at=at,
                  answers=tuple(tuple(sorted(set(a))) for a in answers))
    outcome, _row = _record(member, event)
    assert outcome.quiz is not None  # noqa: S101 -- an "answer" event always grades; for the type checker
    return outcome.quiz


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
    add_hours(member.id, year, course.hours, course=True)
    rollups.add_course_credit(member.home_org_id, at, course.id, course.hours)
    touch(member.id, at)
    return completion
