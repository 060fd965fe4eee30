"""Concurrent writers on SQLite queue on BEGIN IMMEDIATE instead of failing with 'database is locked'."""
from __future__ import annotations

import threading

from sqlalchemy import select

from helpers import AuthActions, csrf_from
from learning.extensions import db
from learning.study.models import LessonProgress, MemberYear


def test_concurrent_completions_never_fail(app, city, make_member, make_course):
    courses = [make_course(lessons=("text",), hours=1) for _ in range(6)]
    members = [make_member(city["a1"], phone=f"1370000{i:04d}") for i in range(8)]
    clients = []
    for member in members:
        client = app.test_client()
        assert AuthActions(client).login(member.phone).status_code == 302
        token = csrf_from(client.get("/").get_data(as_text=True))
        clients.append((client, token))
    lesson_ids = [course.lessons[0].id for course in courses]
    member_ids = [m.id for m in members]
    # Everyone has read every lesson long enough (the minimum dwell) before pressing 学完.
    db.session.rollback()
    db.session.add_all(LessonProgress(member_id=m, lesson_id=lesson, time_spent_s=300)
                       for m in member_ids for lesson in lesson_ids)
    db.session.commit()
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(clients))

    def work(client, token):
        barrier.wait()
        for lesson_id in lesson_ids:
            response = client.post(f"/lessons/{lesson_id}/complete", data={"csrf_token": token})
            with lock:
                statuses.append(response.status_code)

    threads = [threading.Thread(target=work, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [302] * (len(members) * len(courses))
    db.session.rollback()  # end the test's own snapshot to read what the requests committed
    hours = {row.member_id: row.hours for row in db.session.scalars(select(MemberYear))}
    assert all(hours[m] == 6 for m in member_ids)
