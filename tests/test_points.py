"""积分: rules are data; awards respect dwell, daily caps, bonus periods and cannot be farmed."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from helpers import AuthActions, post_events, study_event
from learning.extensions import db
from learning.study import points
from learning.study.models import MemberYear, PointsEntry, PointsRule
from learning.study.reconcile import differences

BEIJING = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 5, day, hour, minute, tzinfo=BEIJING)


@pytest.fixture
def member_client(app, city):
    client = app.test_client()
    assert AuthActions(client).login(city["member"].phone).status_code == 302
    db.session.rollback()
    return client


def _send(client, events):
    response = post_events(client, events)
    assert response.status_code == 200
    body = response.get_json()
    assert not body["rejected"], body
    return body


def _ledger(member) -> dict[tuple[str, str], int]:
    db.session.rollback()
    return {(e.behaviour, e.reference): e.points
            for e in db.session.scalars(select(PointsEntry).where(PointsEntry.member_id == member.id))}


def _rule(behaviour: str, **changes) -> None:
    points.rules()  # seeded on first use
    rule = db.session.scalar(select(PointsRule).where(PointsRule.behaviour == behaviour))
    for name, value in changes.items():
        setattr(rule, name, value)
    db.session.commit()


def test_defaults_are_seeded_as_data(app):
    seeded = points.rules()
    assert set(seeded) == {d.behaviour for d in points.DEFAULT_RULES}
    assert seeded[points.LESSON_COMPLETE].bonus_periods == points.BONUS_PERIODS
    db.session.commit()
    assert len(points.rules()) == len(points.DEFAULT_RULES)  # not seeded twice


def test_first_study_of_the_day_waits_for_the_minimum_dwell(member_client, city, make_course):
    lesson = make_course(lessons=("text", "text")).lessons[0]
    _send(member_client, [study_event(lesson.id, progress=0.1, time_spent_s=30, at=at(4, 9))])
    assert _ledger(city["member"]) == {}
    _send(member_client, [study_event(lesson.id, progress=0.2, time_spent_s=40, at=at(4, 9, 1)),
                          study_event(lesson.id, progress=0.3, time_spent_s=40, at=at(4, 9, 2))])
    assert _ledger(city["member"]) == {(points.FIRST_STUDY_OF_DAY, "day:2026-05-04"): 1}


def test_finishing_pays_once_with_the_bonus_period_and_the_cap(member_client, city, make_course):
    _rule(points.LESSON_COMPLETE, daily_cap=5)
    courses = [make_course(lessons=("text",)) for _ in range(4)]
    # 07:00 is in the morning bonus period (2 + 1), 10:00 is not (2), then the cap of 5 leaves 0
    moments = [at(5, 7), at(5, 10), at(5, 10, 5), at(5, 10, 6)]
    for course, moment in zip(courses, moments):
        _send(member_client, [study_event(course.lessons[0].id, "complete", time_spent_s=200, at=moment)])
    # a duplicate completion later (new id) pays nothing more
    _send(member_client, [study_event(courses[0].lessons[0].id, "complete", time_spent_s=200, at=at(6))])
    paid = {ref: pts for (behaviour, ref), pts in _ledger(city["member"]).items() if behaviour == points.LESSON_COMPLETE}
    ids = [c.lessons[0].id for c in courses]
    assert paid == {f"lesson:{ids[0]}": 3, f"lesson:{ids[1]}": 2}
    courses_paid = [k for k in _ledger(city["member"]) if k[0] == points.COURSE_COMPLETE]
    assert len(courses_paid) == 4  # every course once (cap 20)
    assert differences() == []


def test_a_rule_dwell_longer_than_the_study_pays_nothing(member_client, city, make_course):
    _rule(points.LESSON_COMPLETE, min_dwell_s=600)
    lesson = make_course(lessons=("text",)).lessons[0]
    _send(member_client, [study_event(lesson.id, "complete", time_spent_s=300, at=at(7))])
    assert (points.LESSON_COMPLETE, f"lesson:{lesson.id}") not in _ledger(city["member"])


def test_a_switched_off_rule_pays_nothing(member_client, city, make_course):
    _rule(points.COURSE_COMPLETE, active=False)
    lesson = make_course(lessons=("text",)).lessons[0]
    _send(member_client, [study_event(lesson.id, "complete", time_spent_s=300, at=at(7))])
    assert not [k for k in _ledger(city["member"]) if k[0] == points.COURSE_COMPLETE]


def test_quiz_pass_and_full_marks(member_client, city, make_course):
    quiz = make_course(lessons=("quiz",)).lessons[0]
    _send(member_client, [study_event(quiz.id, "answer", answers=[[1], [0]], at=at(8)),
                          study_event(quiz.id, "answer", answers=[[0], [1]], at=at(8, 10, 1)),
                          study_event(quiz.id, "answer", answers=[[0], [1]], at=at(8, 10, 2))])
    ledger = _ledger(city["member"])
    assert ledger[(points.QUIZ_PASS, f"lesson:{quiz.id}")] == 2
    assert ledger[(points.QUIZ_FULL_MARKS, f"lesson:{quiz.id}")] == 3
    assert (points.LESSON_COMPLETE, f"lesson:{quiz.id}") not in ledger  # the pass is the reward


def test_seven_days_in_a_row_pay_the_streak_even_when_sent_out_of_order(member_client, city, make_course):
    lesson = make_course(lessons=("text",)).lessons[0]
    days = [1, 2, 3, 5, 6, 7]
    _send(member_client, [study_event(lesson.id, progress=0.1, at=at(d)) for d in days])
    assert not [k for k in _ledger(city["member"]) if k[0] == points.STREAK_7]
    _send(member_client, [study_event(lesson.id, progress=0.1, at=at(4))])  # the missing day, late
    assert _ledger(city["member"])[(points.STREAK_7, "streak:2026-05-07")] == 5
    counters = db.session.get(MemberYear, (city["member"].id, 2026))
    assert counters.points == sum(_ledger(city["member"]).values())


def test_points_day_and_year_are_local(member_client, city, make_course):
    lesson = make_course(lessons=("text",)).lessons[0]
    # 00:30 on 1 January in Beijing is still 31 December in UTC
    moment = datetime(2026, 1, 1, 0, 30, tzinfo=BEIJING)
    _send(member_client, [study_event(lesson.id, progress=0.2, time_spent_s=90, at=moment)])
    db.session.rollback()
    entry = db.session.scalar(select(PointsEntry))
    assert (entry.day, entry.year) == (date(2026, 1, 1), 2026)
    assert entry.awarded_at == (moment - timedelta(hours=8)).replace(tzinfo=None)
