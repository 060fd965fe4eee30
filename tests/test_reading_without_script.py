"""A text lesson finished in a browser without script: the page's signed note of when it was
served counts as reading time (learning/study/reading.py), once, within bounds, and only for the
member and lesson it was made for."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from helpers import AuthActions, csrf_from, post_events, study_event
from learning.study import reading, views
from learning.study.models import LessonProgress, StudyEvent
from learning.timeutil import utcnow


@pytest.fixture
def later(monkeypatch):
    """Move the clock the completion form is judged by forward by some seconds."""
    def move(seconds: float) -> None:
        start = utcnow()
        monkeypatch.setattr(views, "utcnow", lambda: start + timedelta(seconds=seconds))
    return move


def _member(app, phone="13800000002"):
    client = app.test_client()
    assert AuthActions(client).login(phone).status_code == 302
    return client


def _open(client, course, lesson) -> tuple[str, str]:
    """The lesson page as a browser without script gets it: (csrf token, opened note)."""
    html = client.get(f"/courses/{course.slug}/lessons/{lesson.slug}").get_data(as_text=True)
    note = re.search(r'name="opened" value="([^"]+)"', html)
    assert note, "the completion form carries the page's note"
    return csrf_from(html), note.group(1)


def _finish(client, lesson, csrf, note):
    return client.post(f"/lessons/{lesson.id}/complete", data={"csrf_token": csrf, "opened": note})


def _row(db, member, lesson) -> LessonProgress:
    db.session.rollback()
    return db.session.scalar(select(LessonProgress).where(LessonProgress.member_id == member.id,
                                                          LessonProgress.lesson_id == lesson.id))


def test_reading_time_of_a_page_without_script_completes_the_lesson(app, db, city, make_course, later):
    course = make_course(lessons=("text",))
    lesson = course.lessons[0]  # min_dwell_s 120
    client = _member(app)
    csrf, note = _open(client, course, lesson)
    early = _finish(client, lesson, csrf, note)  # pressed at once: refused, says how long is left
    assert early.status_code == 302 and "学习时间还不够" in client.get(early.location).get_data(as_text=True)
    assert _row(db, city["member"], lesson).completed_at is None

    csrf, note = _open(client, course, lesson)  # the page it was sent back to
    later(130)
    done = _finish(client, lesson, csrf, note)
    assert done.status_code == 302 and done.location.endswith(f"/courses/{course.slug}")
    row = _row(db, city["member"], lesson)
    assert row.completed_at is not None and 130 <= row.time_spent_s <= 140  # and the few seconds of requests
    # The same form sent again (back button, double tap) adds no time and no second event of its id.
    later(400)
    _finish(client, lesson, csrf, note)
    assert _row(db, city["member"], lesson).time_spent_s == row.time_spent_s
    assert len(db.session.scalars(select(StudyEvent).where(StudyEvent.lesson_id == lesson.id)).all()) == 3


def test_a_page_left_open_counts_at_most_twice_the_lesson(app, db, city, make_course, later):
    course = make_course(lessons=("text",))
    lesson = course.lessons[0]  # duration 300 s, min_dwell 120 s
    client = _member(app)
    csrf, note = _open(client, course, lesson)
    later(3 * 3600)
    _finish(client, lesson, csrf, note)
    assert _row(db, city["member"], lesson).time_spent_s == reading.credit_cap(lesson) == 600


@pytest.mark.parametrize("case", ["other member", "other lesson", "forged", "garbled", "day old"])
def test_notes_that_are_not_this_pages_count_nothing(app, db, city, make_course, later, case):
    course = make_course(lessons=("text", "text"))
    lesson, sibling = course.lessons
    client = _member(app)
    csrf, note = _open(client, course, lesson)
    if case == "other member":
        _, note = _open(_member(app, "13800000005"), course, lesson)
    elif case == "other lesson":
        _, note = _open(client, course, sibling)
    elif case == "forged":
        note = note[:-3] + ("AAA" if not note.endswith("AAA") else "BBB")
    elif case == "garbled":
        note = "不是签名\x00" * 3
    later(reading.MAX_AGE_S + 60 if case == "day old" else 200)
    response = _finish(client, lesson, csrf, note)
    assert response.status_code == 302
    assert "学习时间还不够" in client.get(response.location).get_data(as_text=True)
    row = _row(db, city["member"], lesson)
    assert row.completed_at is None and row.time_spent_s == 0


def test_a_completed_lesson_page_has_no_form_and_no_note(app, db, city, make_course, later):
    course = make_course(lessons=("text", "text"))
    lesson = course.lessons[0]
    client = _member(app)
    csrf, note = _open(client, course, lesson)
    later(200)
    _finish(client, lesson, csrf, note)
    html = client.get(f"/courses/{course.slug}/lessons/{lesson.slug}").get_data(as_text=True)
    assert "本课已学完" in html and 'name="opened"' not in html


@pytest.mark.parametrize("kind", ["video", "audio"])
def test_a_recording_is_not_finished_by_the_button_alone(app, db, city, make_course, later, kind):
    course = make_course(lessons=(kind,))
    lesson = course.lessons[0]  # duration 300 s
    client = _member(app)
    csrf, note = _open(client, course, lesson)
    later(60)  # a minute into a five-minute recording
    pressed = _finish(client, lesson, csrf, note)
    assert pressed.status_code == 302
    assert "九成以上" in client.get(pressed.location).get_data(as_text=True)
    row = _row(db, city["member"], lesson)
    assert row is None or row.completed_at is None
    # Without script: the page open for 90 % of the recording finishes it.
    csrf, note = _open(client, course, lesson)
    later(275)
    _finish(client, lesson, csrf, note)
    assert _row(db, city["member"], lesson).completed_at is not None


def test_a_recording_the_player_reported_watched_may_be_marked(app, db, city, make_course):
    course = make_course(lessons=("video", "text"))
    lesson = course.lessons[0]
    client = _member(app)
    post_events(client, [study_event(lesson.id, position=200.0, progress=0.6, time_spent_s=200)])
    csrf, _note = _open(client, course, lesson)
    _finish(client, lesson, csrf, "")
    assert _row(db, city["member"], lesson).completed_at is None
    post_events(client, [study_event(lesson.id, position=280.0, progress=0.93, time_spent_s=80)])
    assert _row(db, city["member"], lesson).completed_at is not None  # the player's report finishes it
    # and the button after it is harmless: no second credit
    _finish(client, lesson, csrf, "")
    db.session.rollback()
    assert len(db.session.scalars(select(StudyEvent).where(StudyEvent.kind == "complete")).all()) == 1
