"""`hongfan stats reconcile`: counters equal a recomputation from the raw rows."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from learning.catalog.models import Lesson
from learning.extensions import db
from learning.meetings.models import OfflineAttendance, OfflineSession
from learning.study import events
from learning.study.counters import add_hours
from learning.study.models import (CourseCompletion, LessonProgress, MemberYear, PointsEntry, StudyDay,
                                   StudyEvent)
from learning.study.reconcile import differences, year_bounds


def test_year_bounds_are_local():
    start, end = year_bounds(2026)
    assert start == datetime(2025, 12, 31, 16) and end == datetime(2026, 12, 31, 16)


def _study(member, lesson, n: int = 0) -> None:
    moment = datetime(2026, 6, 1, 2, n, tzinfo=UTC)
    item = {"id": str(uuid.uuid4()), "lesson_id": lesson.id, "kind": "complete", "time_spent_s": 300,
            "occurred_at": moment.isoformat()}
    with_request = events.ingest(member, [item], datetime.now(UTC).replace(tzinfo=None))
    assert with_request.accepted


def test_clean_counters_exit_zero_and_tampered_ones_are_reported_and_fixed(app, city, make_course, runner):
    course = make_course(lessons=("text",), hours=2)
    with app.test_request_context():
        _study(city["member"], course.lessons[0])
    db.session.commit()
    result = runner.invoke(args=["stats", "reconcile"])
    assert result.exit_code == 0 and "no differences" in result.output

    counters = db.session.get(MemberYear, (city["member"].id, 2026))
    counters.hours, counters.points = 9.5, 999
    db.session.commit()
    result = runner.invoke(args=["stats", "reconcile"])
    assert result.exit_code == 1
    assert f"member {city['member'].id} year 2026: hours stored 9.5, recomputed 2.0" in result.output
    assert "points stored 999" in result.output

    result = runner.invoke(args=["stats", "reconcile", "--fix"])
    assert result.exit_code == 0 and "repaired 2" in result.output
    db.session.expire_all()
    assert runner.invoke(args=["stats", "reconcile"]).exit_code == 0
    assert db.session.get(MemberYear, (city["member"].id, 2026)).hours == 2


def test_offline_attendance_counts_in_every_recomputation(app, city, runner):
    member = city["member"]
    session = OfflineSession(org_id=member.home_org_id, title="集中学习", kind="集中学习", held_on=date(2026, 7, 1),
                             hours=4, category="理论学习")
    db.session.add(session)
    db.session.flush()
    db.session.add(OfflineAttendance(session_id=session.id, member_id=member.id, org_id=member.home_org_id,
                                     year=2026, hours=4, category="理论学习"))
    db.session.commit()
    assert [(d.field, d.expected) for d in differences()] == [("hours", 4.0)]  # a credit without its counter
    assert runner.invoke(args=["stats", "reconcile", "--fix"]).exit_code == 0
    db.session.expire_all()
    assert differences() == []
    add_hours(member.id, 2026, 1.5)  # how a confirmed attendance keeps the counter in step
    assert [(d.field, d.stored, d.expected) for d in differences()] == [("hours", 5.5, 4.0)]
    db.session.rollback()


def test_a_missing_counter_row_is_a_difference(app, city, make_course):
    course = make_course(lessons=("text",), hours=1)
    with app.test_request_context():
        _study(city["member"], course.lessons[0])
    db.session.execute(delete(MemberYear))
    db.session.commit()
    found = {d.field for d in differences()}
    assert found == {"hours", "points", "courses_done", "last_active_at"}


EVENT = st.fixed_dictionaries({
    "lesson": st.integers(0, 4),
    "kind": st.sampled_from(["progress", "progress", "complete", "answer"]),
    "progress": st.one_of(st.none(), st.floats(0, 1)),
    "position": st.one_of(st.none(), st.floats(0, 600)),
    "time_spent_s": st.integers(0, 200),
    "answers": st.lists(st.lists(st.integers(0, 1), max_size=2), min_size=2, max_size=2),
    "minutes": st.integers(0, 60 * 24 * 20),  # across three weeks, around a new year
    "repeat": st.booleans(),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stream=st.lists(st.lists(EVENT, min_size=1, max_size=12), min_size=1, max_size=6))
def test_counters_equal_a_recomputation_after_any_event_stream(app, city, make_course, stream):
    for table in (PointsEntry, CourseCompletion, StudyDay, LessonProgress, StudyEvent, MemberYear):
        db.session.execute(delete(table))
    db.session.commit()
    lessons = _lessons(make_course)
    member = city["member"]
    start = datetime(2025, 12, 20, tzinfo=UTC)
    sent: list[dict] = []
    with app.test_request_context():
        for batch in stream:
            items = []
            for e in batch:
                if e["repeat"] and sent:
                    items.append(sent[len(sent) // 2])
                    continue
                lesson = lessons[e["lesson"]]
                item = {"id": str(uuid.uuid4()), "lesson_id": lesson.id,
                        "kind": "answer" if lesson.kind == "quiz" else ("progress" if e["kind"] == "answer"
                                                                         else e["kind"]),
                        "progress": e["progress"], "position": e["position"], "time_spent_s": e["time_spent_s"],
                        "occurred_at": (start + timedelta(minutes=e["minutes"])).isoformat()}
                if lesson.kind == "quiz":
                    item["answers"] = e["answers"]
                items.append(item)
                sent.append(item)
            events.ingest(member, items, datetime(2026, 6, 1))
            db.session.commit()
    assert differences() == []
    stored = db.session.scalar(select(db.func.count()).select_from(StudyEvent))
    assert stored == len({item["id"] for item in sent})


def _lessons(make_course) -> list[Lesson]:
    """Two courses (text+video, quiz+audio+text), made once per test database."""
    lessons = list(db.session.scalars(select(Lesson).order_by(Lesson.id)))
    if len(lessons) < 5:
        first = make_course(lessons=("text", "video"), hours=1)
        second = make_course(lessons=("quiz", "audio", "text"), hours=2, category="党史")
        lessons = [*first.lessons, *second.lessons]
    return lessons
