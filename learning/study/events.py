"""Idempotent ingestion of the phone's study events (POST /api/v1/events).

A batch is checked event by event before anything is written, so a malformed event is
rejected on its own while the others apply. Then, under the member's lock: ids already stored
are duplicates (same body) or refused (another body); the new events are logged and applied in
`occurred_at` order. Everything the answer calls "accepted" is committed with the request.
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, selectinload

from learning.api.jsonio import InvalidInput, parse_datetime
from learning.catalog.models import Lesson
from learning.catalog.queries import can_view_course
from learning.extensions import db
from learning.orgs.models import Member
from learning.study.models import StudyEvent
from learning.study.operations import Event, MemberStudy, body_hash, payload_of

MAX_BATCH = 100
KINDS = ("progress", "complete", "answer")
MAX_SECONDS = 86_400  # no lesson is longer than a day (content/FORMAT.md)
EARLIEST = datetime(2000, 1, 1)


class BatchInvalid(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EventInvalid(ValueError):
    pass


@dataclass
class IngestResult:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, event_id: Any, error: str) -> None:
        self.rejected.append({"id": event_id if isinstance(event_id, str) else None, "error": error})

    def as_json(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


@dataclass(frozen=True)
class Draft:
    """A well-formed event whose lesson has not been looked up yet."""

    raw_id: str
    id: uuid.UUID
    lesson_id: int
    kind: str
    occurred_at: datetime
    position: float | None
    progress: float | None
    time_spent_s: int
    answers: tuple[tuple[int, ...], ...] | None

    @cached_property
    def body_hash(self) -> str:
        return body_hash(self.lesson_id, self.kind, self.occurred_at,
                         payload_of(self.position, self.progress, self.time_spent_s, self.answers))

    def event(self, lesson: Lesson) -> Event:
        return Event(id=self.id, lesson=lesson, kind=self.kind, occurred_at=self.occurred_at,
                     position=self.position, progress=self.progress, time_spent_s=self.time_spent_s,
                     answers=self.answers)


def parse_batch(body: Any) -> list[Any]:
    """The request body: a JSON list of events, or {"events": [...]}."""
    if isinstance(body, dict) and set(body) == {"events"}:
        body = body["events"]
    if not isinstance(body, list):
        raise BatchInvalid(_('请求体必须是 JSON：事件列表，或 {"events": [...]}。'))
    if len(body) > MAX_BATCH:
        raise BatchInvalid(_("一次最多提交 %(n)s 个事件。", n=MAX_BATCH))
    return body


def _number(value: Any, low: float, high: float, message: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not low <= value <= high:
        raise EventInvalid(str(message))
    return float(value)


def _moment(value: Any, latest: datetime) -> datetime:
    if not isinstance(value, str):
        raise EventInvalid(_("发生时间必须是带时区的 ISO 8601 时间。"))
    try:
        moment = parse_datetime(value, "occurred_at")
    except InvalidInput as problem:
        raise EventInvalid(problem.message) from None
    if moment > latest:
        raise EventInvalid(_("发生时间晚于现在，请检查手机时间。"))
    if moment < EARLIEST:
        raise EventInvalid(_("发生时间不合理。"))
    return moment


def _answers(value: Any, kind: str) -> tuple[tuple[int, ...], ...] | None:
    if kind != "answer":
        if value is not None:
            raise EventInvalid(_("只有答题事件才能带答案。"))
        return None
    if not isinstance(value, list) or len(value) > 500 or not all(
            isinstance(chosen, list) and len(chosen) <= 50
            and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 50 for i in chosen)
            for chosen in value):
        raise EventInvalid(_("答案必须是每题所选选项序号的列表，例如 [[0], [1, 2]]。"))
    return tuple(tuple(sorted(set(chosen))) for chosen in value)


def latest_moment(now: datetime) -> datetime:
    """The latest occurred_at accepted: phone clocks run a little ahead of the server's."""
    return now + timedelta(seconds=current_app.config["EVENT_CLOCK_SKEW_S"])


def draft(item: Any, latest: datetime) -> Draft:
    """Check one event's shape and values (not yet its lesson); raises EventInvalid."""
    if not isinstance(item, dict):
        raise EventInvalid(_("每个事件必须是 JSON 对象。"))
    raw_id = item.get("id")
    try:
        event_id = uuid.UUID(raw_id) if isinstance(raw_id, str) and len(raw_id) <= 64 else None
    except ValueError:
        event_id = None
    if event_id is None:
        raise EventInvalid(_("事件编号（id）必须是 UUID。"))
    lesson_id = item.get("lesson_id")
    if isinstance(lesson_id, bool) or not isinstance(lesson_id, int) or not 0 < lesson_id < 2**31:
        raise EventInvalid(_("课时编号（lesson_id）必须是正整数。"))
    kind = item.get("kind")
    if kind not in KINDS:
        raise EventInvalid(_("事件类型（kind）必须是 progress、complete 或 answer。"))
    seconds = _number(item.get("time_spent_s"), 0, MAX_SECONDS, _l("学习时长（time_spent_s）必须是 0 到 86400 之间的秒数。"))
    return Draft(
        raw_id=raw_id, id=event_id, lesson_id=lesson_id, kind=kind,
        occurred_at=_moment(item.get("occurred_at"), latest),
        position=_number(item.get("position"), 0, MAX_SECONDS, _l("位置（position）必须是 0 到 86400 之间的数。")),
        progress=_number(item.get("progress"), 0, 1, _l("进度（progress）必须是 0 到 1 之间的数。")),
        time_spent_s=int(seconds or 0),
        answers=_answers(item.get("answers"), kind),
    )


def _lesson_problem(member: Member, lesson: Lesson | None, item: Draft) -> str | None:
    if lesson is None or lesson.retired or not can_view_course(member, lesson.course):
        return _("课时不存在，或你不能学习这门课。")
    if item.kind == "answer" and lesson.kind != "quiz":
        return _("只有测验课时才能提交答案。")
    if item.kind == "complete" and lesson.kind == "quiz":
        return _("测验需要提交答案，及格后才算学完。")
    if item.answers is not None and len(item.answers) != len(lesson.questions):
        return _("答案数量与题目数量不符：这个测验有 %(n)s 题。", n=len(lesson.questions))
    if item.answers is not None and any(
            any(i >= len(q["options"]) for i in chosen) for chosen, q in zip(item.answers, lesson.questions)):
        return _("答案中有不存在的选项。")
    return None


@dataclass
class Prepared:
    """A batch checked without the database: well-formed drafts and what was already refused."""

    result: IngestResult
    drafts: dict[uuid.UUID, Draft]


def prepare(items: list[Any], now: datetime) -> Prepared:
    """Everything that needs no database: each event's shape and values, ids repeated in the batch."""
    result = IngestResult()
    drafts: dict[uuid.UUID, Draft] = {}
    latest = latest_moment(now)
    for item in items:
        try:
            candidate = draft(item, latest)
        except EventInvalid as error:
            result.reject(item.get("id") if isinstance(item, dict) else None, str(error))
            continue
        seen = drafts.get(candidate.id)
        if seen is None:
            drafts[candidate.id] = candidate
        elif seen.body_hash == candidate.body_hash:
            result.duplicates.append(candidate.raw_id)
        else:
            result.reject(candidate.raw_id, _("这个事件编号已用于另一个事件。"))
    return Prepared(result, drafts)


def ingest(member: Member, items: list[Any], now: datetime) -> IngestResult:
    """Log and apply a batch of events for `member` in the current transaction."""
    return store(member, prepare(items, now))


def store(member: Member, prepared: Prepared) -> IngestResult:
    """Under the member's lock: classify ids already stored, log and apply the new events."""
    result, drafts = prepared.result, prepared.drafts
    if not drafts:
        return result

    study = MemberStudy(member)  # the lock comes before reading what is already stored
    stored = {row.id: row for row in db.session.execute(
        select(StudyEvent.id, StudyEvent.member_id, StudyEvent.body_hash).where(StudyEvent.id.in_(drafts)))}
    lessons = {lesson.id: lesson for lesson in db.session.scalars(
        select(Lesson).options(defer(Lesson.body_html), selectinload(Lesson.course))
        .where(Lesson.id.in_({d.lesson_id for d in drafts.values() if d.id not in stored})))}
    fresh: list[Event] = []
    for item in drafts.values():
        if item.id in stored:
            _classify_stored(result, member, item, stored[item.id])
            continue
        lesson = lessons.get(item.lesson_id)
        problem = _lesson_problem(member, lesson, item)
        if problem:
            result.reject(item.raw_id, problem)
        else:
            fresh.append(item.event(lesson))

    logged = _log(study, fresh, drafts, result)
    study.preload(list({e.lesson.id: e.lesson for e in logged}.values()), [e.occurred_at for e in logged])
    for event in sorted(logged, key=lambda e: (e.occurred_at, str(e.id))):
        study.apply(event)
    accepted = {e.id for e in logged}
    result.accepted = [d.raw_id for d in drafts.values() if d.id in accepted]
    return result


def _classify_stored(result: IngestResult, member: Member, item: Draft, row: Any) -> None:
    if row.member_id == member.id and row.body_hash == item.body_hash:
        result.duplicates.append(item.raw_id)
    else:
        result.reject(item.raw_id, _("这个事件编号已用于另一个事件。"))


def _log(study: MemberStudy, events: list[Event], drafts: dict[uuid.UUID, Draft],
         result: IngestResult) -> list[Event]:
    """Insert the new events; returns those stored. The member lock keeps this member's own
    retries out, but another member's request could race for the same id: then insert one by
    one so only that event is affected."""
    if not events:
        return []
    try:
        with db.session.begin_nested():
            db.session.execute(insert(StudyEvent), [study.row_values(e) for e in events])
        return events
    except IntegrityError:
        pass
    logged = []
    for event in events:
        try:
            with db.session.begin_nested():
                study.log(event)
            logged.append(event)
        except IntegrityError:
            row = db.session.execute(select(StudyEvent.id, StudyEvent.member_id, StudyEvent.body_hash)
                                     .where(StudyEvent.id == event.id)).one()
            _classify_stored(result, study.member, drafts[event.id], row)
    return logged
