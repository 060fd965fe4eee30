"""POST /api/v1/events: the completion rules, idempotency, ordering and per-event rejection."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from helpers import AuthActions, csrf_from, post_events, study_event
from learning.extensions import db
from learning.study.models import CourseCompletion, LessonProgress, MemberYear, StudyEvent

BEIJING = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int = 10, minute: int = 0, month: int = 3, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING)


@pytest.fixture
def member_client(app, city):
    client = app.test_client()
    assert AuthActions(client).login(city["member"].phone).status_code == 302
    db.session.rollback()  # the test's read snapshot predates the login's write
    return client


def _send(client, events):
    response = post_events(client, events)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _progress(member, lesson) -> LessonProgress | None:
    db.session.rollback()  # read what the requests committed
    return db.session.get(LessonProgress, (member.id, lesson.id))


def _year(member, year: int) -> MemberYear | None:
    db.session.rollback()
    return db.session.get(MemberYear, (member.id, year))


def test_text_lesson_completes_at_the_end_after_the_minimum_dwell(member_client, city, make_course):
    course = make_course(lessons=("text",), hours=2)  # min_dwell_s = 120
    lesson = course.lessons[0]
    first = study_event(lesson.id, progress=1.0, position=1.0, time_spent_s=60, at=at(2))
    assert _send(member_client, [first])["accepted"] == [first["id"]]
    row = _progress(city["member"], lesson)
    assert row.progress == 1.0 and row.completed_at is None  # the end, but only one minute in
    _send(member_client, [study_event(lesson.id, time_spent_s=70, at=at(2, 10, 2))])
    row = _progress(city["member"], lesson)
    assert row.time_spent_s == 130 and row.completed_at == datetime(2026, 3, 2, 2, 2)
    assert _year(city["member"], 2026).hours == 2


def test_text_lesson_needs_the_end_not_only_time(member_client, city, make_course):
    lesson = make_course(lessons=("text",)).lessons[0]
    _send(member_client, [study_event(lesson.id, progress=0.5, time_spent_s=900, at=at(2))])
    assert _progress(city["member"], lesson).completed_at is None
    _send(member_client, [study_event(lesson.id, "complete", at=at(2, 11))])
    assert _progress(city["member"], lesson).completed_at == datetime(2026, 3, 2, 3)


@pytest.mark.parametrize("kind", ["video", "audio"])
def test_media_completes_at_ninety_percent_and_never_moves_back(member_client, city, make_course, kind):
    lesson = make_course(lessons=(kind,)).lessons[0]
    _send(member_client, [study_event(lesson.id, progress=0.89, position=267, time_spent_s=267, at=at(3))])
    assert _progress(city["member"], lesson).completed_at is None
    late = study_event(lesson.id, progress=0.2, position=60, time_spent_s=0, at=at(3, 9))  # sent late
    watched = study_event(lesson.id, progress=0.9, position=270, time_spent_s=3, at=at(3, 10, 1))
    _send(member_client, [watched, late])
    row = _progress(city["member"], lesson)
    assert row.completed_at == datetime(2026, 3, 3, 2, 1)
    assert row.progress == 1.0 and row.position == 270
    again = study_event(lesson.id, progress=0.1, position=5, at=at(4))  # rewatching the start
    _send(member_client, [again])
    row = _progress(city["member"], lesson)
    assert row.position == 270 and row.completed_at == datetime(2026, 3, 3, 2, 1)


def test_events_apply_in_occurred_at_order_per_lesson(member_client, city, make_course):
    lesson = make_course(lessons=("text",)).lessons[0]
    done = study_event(lesson.id, "complete", time_spent_s=100, at=at(5, 10, 30))
    early = study_event(lesson.id, progress=0.4, time_spent_s=100, at=at(5, 10, 0))
    _send(member_client, [done, early])  # the batch arrives out of order
    # Applied in time order: the completion comes with the second event, once both minutes counted.
    assert _progress(city["member"], lesson).completed_at == datetime(2026, 3, 5, 2, 30)


def test_quiz_completes_when_passed_and_keeps_the_best_score(member_client, city, make_course):
    course = make_course(lessons=("quiz",), hours=1)
    quiz = course.lessons[0]
    _send(member_client, [study_event(quiz.id, "answer", answers=[[1], [0]], at=at(6))])
    row = _progress(city["member"], quiz)
    assert row.best_score == 0 and row.completed_at is None
    _send(member_client, [study_event(quiz.id, "answer", answers=[[0], [0]], at=at(6, 10, 1)),
                          study_event(quiz.id, "answer", answers=[[0], [1]], at=at(6, 10, 2))])
    row = _progress(city["member"], quiz)
    # 50 % does not pass (the mark is 60); 100 % does, a minute later
    assert row.best_score == 100 and row.completed_at == datetime(2026, 3, 6, 2, 2)
    assert _year(city["member"], 2026).courses_done == 1


def test_course_completes_when_all_required_lessons_do_and_credits_once(member_client, city, make_course):
    course = make_course(lessons=("text", "video", "quiz"), hours=1.5)
    text, video, quiz = course.lessons
    _send(member_client, [study_event(text.id, "complete", time_spent_s=200, at=at(7)),
                          study_event(video.id, progress=0.95, at=at(7, 10, 5))])
    assert _year(city["member"], 2026).hours == 0
    _send(member_client, [study_event(quiz.id, "answer", answers=[[0], [1]], at=at(7, 10, 9))])
    counters = _year(city["member"], 2026)
    assert counters.hours == 1.5 and counters.courses_done == 1
    # once more, with new event ids: still one credit this year
    _send(member_client, [study_event(text.id, "complete", time_spent_s=200, at=at(8)),
                          study_event(quiz.id, "answer", answers=[[0], [1]], at=at(8))])
    assert _year(city["member"], 2026).hours == 1.5
    assert db.session.scalar(select(func.count()).select_from(CourseCompletion)) == 1


def test_the_last_minute_of_the_year_counts_for_that_year(member_client, city, make_course):
    lesson = make_course(lessons=("text",), hours=3).lessons[0]
    _send(member_client, [study_event(lesson.id, "complete", time_spent_s=300,
                                      at=datetime(2025, 12, 31, 23, 59, tzinfo=BEIJING))])
    db.session.rollback()
    completion = db.session.scalar(select(CourseCompletion))
    assert completion.year == 2025 and completion.completed_at == datetime(2025, 12, 31, 15, 59)
    assert _year(city["member"], 2025).hours == 3 and _year(city["member"], 2026) is None


def test_a_repeated_batch_changes_nothing(member_client, city, make_course):
    """A retry after a lost response: the server stored the batch, the phone never heard."""
    lesson = make_course(lessons=("text",), hours=2).lessons[0]
    batch = [study_event(lesson.id, progress=0.5, time_spent_s=100, at=at(9)),
             study_event(lesson.id, "complete", time_spent_s=100, at=at(9, 10, 4))]
    first = _send(member_client, batch)
    assert first == {"accepted": [e["id"] for e in batch], "duplicates": [], "rejected": []}
    before = _progress(city["member"], lesson).time_spent_s, _year(city["member"], 2026).points
    again = _send(member_client, {"events": batch})  # the other accepted envelope
    assert again == {"accepted": [], "duplicates": [e["id"] for e in batch], "rejected": []}
    assert (_progress(city["member"], lesson).time_spent_s, _year(city["member"], 2026).points) == before
    assert _year(city["member"], 2026).hours == 2
    assert db.session.scalar(select(func.count()).select_from(StudyEvent)) == 2


def test_an_id_reused_with_another_body_is_rejected(member_client, city, make_course, app):
    lesson = make_course(lessons=("text",)).lessons[0]
    event = study_event(lesson.id, progress=0.3, time_spent_s=10, at=at(10))
    _send(member_client, [event])
    changed = {**event, "progress": 0.9}
    result = _send(member_client, [changed])
    assert result["accepted"] == [] and result["rejected"][0]["id"] == event["id"]
    assert "已用于另一个事件" in result["rejected"][0]["error"]
    # the same id inside one batch, with two bodies: the first applies, the second is refused
    twin = study_event(lesson.id, progress=0.4, at=at(10, 11))
    result = _send(member_client, [twin, {**twin, "position": 0.5}, twin])
    assert result["accepted"] == [twin["id"]] and result["duplicates"] == [twin["id"]]
    assert len(result["rejected"]) == 1
    # nor can another member reuse someone else's id
    other = app.test_client()
    AuthActions(other).login(city["other"].phone)
    assert _send(other, [event])["rejected"][0]["id"] == event["id"]
    assert _progress(city["member"], lesson).progress == 0.4


def test_a_malformed_event_is_rejected_alone(member_client, city, make_course, make_member):
    course = make_course(lessons=("text", "quiz"))
    text, quiz = course.lessons
    good = study_event(text.id, progress=0.5, time_spent_s=30, at=at(11))
    future = datetime.now(BEIJING) + timedelta(hours=2)
    bad = {
        "progress": study_event(text.id, progress=1.5),
        "negative time": study_event(text.id, time_spent_s=-3),
        "not a number": study_event(text.id, position="far"),
        "future": study_event(text.id, at=future),
        "naive": {**study_event(text.id), "occurred_at": "2026-03-11T10:00:00"},
        "garbage time": {**study_event(text.id), "occurred_at": "yesterday"},
        "kind": study_event(text.id, "jump"),
        "lesson": study_event(999_999),
        "answer on text": study_event(text.id, "answer", answers=[[0]]),
        "complete a quiz": study_event(quiz.id, "complete"),
        "answers count": study_event(quiz.id, "answer", answers=[[0]]),
        "answers option": study_event(quiz.id, "answer", answers=[[0], [7]]),
        "answers shape": study_event(quiz.id, "answer", answers="A,B"),
        "id": {**study_event(text.id), "id": "not-a-uuid"},
    }
    items = [good, *bad.values(), "not an object", 17]
    result = _send(member_client, items)
    assert result["accepted"] == [good["id"]] and result["duplicates"] == []
    assert len(result["rejected"]) == len(bad) + 2
    assert all(r["error"] for r in result["rejected"])
    assert {r["id"] for r in result["rejected"]} >= {e["id"] for e in bad.values()}
    assert _progress(city["member"], text).progress == 0.5
    assert db.session.scalar(select(func.count()).select_from(StudyEvent)) == 1


def test_a_draft_course_is_not_studied(member_client, city, make_course):
    draft = make_course(status="draft", lessons=("text",))
    result = _send(member_client, [study_event(draft.lessons[0].id, progress=0.5)])
    assert result["accepted"] == [] and "不能学习" in result["rejected"][0]["error"]


def test_errors_speak_the_members_language(member_client, make_course):
    lesson = make_course(lessons=("text",)).lessons[0]
    token = csrf_from(member_client.get("/login").get_data(as_text=True))
    response = member_client.post("/api/v1/events?lang=en", json=[study_event(lesson.id, progress=2)],
                                  headers={"X-CSRFToken": token})
    assert "between 0 and 1" in response.get_json()["rejected"][0]["error"]


@pytest.mark.parametrize("body, content_type", [
    (b"{not json", "application/json"),
    (b'{"id": 1}', "application/json"),
    (b'"events"', "application/json"),
    (b"[" + b",".join([b"{}"] * 101) + b"]", "application/json"),
])
def test_a_bad_body_is_a_json_400(member_client, body, content_type):
    token = csrf_from(member_client.get("/login").get_data(as_text=True))
    response = member_client.post("/api/v1/events", data=body, content_type=content_type,
                                  headers={"X-CSRFToken": token})
    assert response.status_code == 400 and response.get_json()["error"]


def test_cookie_calls_need_the_csrf_header_and_a_login(app, member_client, make_course):
    lesson = make_course(lessons=("text",)).lessons[0]
    assert member_client.post("/api/v1/events", json=[study_event(lesson.id)]).status_code == 400
    anonymous = app.test_client()
    token = csrf_from(anonymous.get("/login").get_data(as_text=True))
    response = anonymous.post("/api/v1/events", json=[], headers={"X-CSRFToken": token})
    assert response.status_code == 401 and response.get_json()["error"]


def test_the_same_batch_from_two_clients_at_once_is_stored_once(app, city, make_course):
    course = make_course(lessons=("text", "text"), hours=2)
    batch = [study_event(lesson.id, "complete", time_spent_s=300, at=at(12, 10, n))
             for n, lesson in enumerate(course.lessons)]
    batch += [study_event(course.lessons[0].id, progress=0.5, time_spent_s=5, at=at(12, 11, n)) for n in range(18)]
    clients = []
    for _ in range(2):
        client = app.test_client()
        AuthActions(client).login(city["member"].phone)
        clients.append((client, csrf_from(client.get("/login").get_data(as_text=True))))
    barrier = threading.Barrier(2)
    results: list = []

    def send(client, token):
        barrier.wait()
        response = client.post("/api/v1/events", json=batch, headers={"X-CSRFToken": token})
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=send, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(status for status, _ in results) == [200, 200]
    ids = [e["id"] for e in batch]
    outcomes = sorted((sorted(body["accepted"]), sorted(body["duplicates"])) for _, body in results)
    assert outcomes == [([], sorted(ids)), (sorted(ids), [])]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(StudyEvent)) == len(batch)
    assert _progress(city["member"], course.lessons[0]).time_spent_s == 300 + 18 * 5
    assert _year(city["member"], 2026).hours == 2
    assert db.session.scalar(select(func.count()).select_from(CourseCompletion)) == 1


def test_the_form_button_goes_through_the_same_rules(member_client, city, make_course):
    course = make_course(lessons=("text",), hours=1)
    lesson = course.lessons[0]
    token = csrf_from(member_client.get("/login").get_data(as_text=True))
    member_client.post(f"/lessons/{lesson.id}/complete", data={"csrf_token": token})
    assert _progress(city["member"], lesson).completed_at is None
    _send(member_client, [study_event(lesson.id, time_spent_s=150)])
    member_client.post(f"/lessons/{lesson.id}/complete", data={"csrf_token": token})
    assert _progress(city["member"], lesson).completed_at is not None
    db.session.rollback()
    kinds = sorted(db.session.scalars(select(StudyEvent.kind)))
    assert kinds == ["complete", "complete", "progress"]  # the form presses are in the log too
    assert uuid.UUID(str(db.session.scalar(select(StudyEvent.id).limit(1))))


def test_the_route_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/events"]["post"]
    assert set(operation["responses"]) >= {"200", "400", "401"}
    event = document["components"]["schemas"]["StudyEvent"]
    assert event["required"] == ["id", "lesson_id", "kind", "occurred_at"]
    assert "StudyEventResult" in document["components"]["schemas"]
