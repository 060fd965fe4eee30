"""The dashboards' roll-ups (learning/study/rollups.py) follow every writer of credits — lesson
completion, offline sessions — through transfers and subtree moves; `hongfan stats reconcile`
finds and repairs drift; the migration backfills them; a rolled-back transaction leaves none;
concurrent transactions crediting the same courses in opposite orders do not deadlock."""
from __future__ import annotations

import os
import threading
from datetime import date, datetime, timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text, update

from learning import create_app
from learning.extensions import db
from learning.meetings.operations import record_session
from learning.orgs.models import OrgKind
from learning.orgs.operations import decide_transfer, move_org, request_transfer
from learning.stats.queries import Figures, Period
from learning.study import operations as study, rollups
from learning.study.models import OrgCreditMonth, SubtreeCourseMonth
from learning.study.reconcile import rollup_differences
from learning.timeutil import local_today

PG_URL = os.environ.get("HONGFAN_TEST_DATABASE_URL")


def _complete(member, course, at: datetime) -> None:
    """Finish every lesson of the course the way the member's button does."""
    for lesson in course.lessons:
        if lesson.kind == "quiz":
            study.submit_quiz(member, lesson, [[0], [1]], at)
        else:
            study.complete_lesson(member, lesson, at, time_spent_s=600)


def test_writers_transfers_and_moves_keep_the_rollups_exact(app, city, make_org, make_member, make_course):
    year = local_today().year
    safety, law = make_course(title="安全", hours=2.0), make_course(title="法规", hours=1.5, lessons=("text",))
    at = datetime(year, 3, 10, 2)
    with app.test_request_context():
        _complete(city["member"], safety, at)
        _complete(city["other"], law, at)
        record_session(actor=None, org=city["a1"], title="集中学习", kind="study", held_on=date(year, 3, 12),
                       hours=2.5, category="理论学习", attendees=[city["member"], city["secretary"]])
        db.session.commit()
        assert rollup_differences() == []
        credits = db.session.get(OrgCreditMonth, (city["a1"].id, year, 3))
        assert (credits.course_hours, credits.completions, credits.offline_hours, credits.offline) == (2.0, 1, 5.0, 2)

        # a transfer: later credits go to the new branch, earlier ones stay where they were earned
        transfer = request_transfer(city["member"], city["a2"], date(year, 4, 1), actor=city["sibling"])
        decide_transfer(transfer, approve=True, actor=city["sibling"], today=date(year, 4, 1))
        db.session.commit()
        _complete(city["member"], law, datetime(year, 5, 2, 3))
        db.session.commit()
        assert rollup_differences() == []
        assert db.session.get(OrgCreditMonth, (city["a2"].id, year, 5)).completions == 1
        assert db.session.get(OrgCreditMonth, (city["a1"].id, year, 3)).completions == 1

        # moves: a branch to another committee, then the committee to the top level
        other = make_org("快递行业党委", parent=city["root"], kind=OrgKind.COMMITTEE, code="CB")
        move_org(city["a2"], other, actor=None)
        db.session.commit()
        assert rollup_differences() == []
        courses = {r.title: r.completions for r in Figures(other, Period(year)).courses}
        assert courses == {"法规": 2}  # both completions credited in 城南配送站, now under 快递行业党委
        deep = make_org("基层党委", parent=city["a1"].parent, kind=OrgKind.COMMITTEE, code="CA-X")
        move_org(city["a1"], deep, actor=None)  # one level deeper: below the rolled-up levels
        move_org(deep, other, actor=None)
        db.session.commit()
        assert rollup_differences() == []
        assert {r.title: r.completions for r in Figures(other, Period(year)).courses} == {"法规": 2, "安全": 1}


def test_reconcile_reports_and_repairs_rollup_drift(app, city, make_course, runner):
    year = local_today().year
    course = make_course(lessons=("text",), hours=1.0)
    with app.test_request_context():
        _complete(city["member"], course, datetime(year, 2, 1, 4))
        db.session.commit()
    assert runner.invoke(args=["stats", "reconcile"]).exit_code == 0
    db.session.execute(update(SubtreeCourseMonth).values(completions=7))
    db.session.execute(update(OrgCreditMonth).values(course_hours=9.0))
    db.session.commit()
    result = runner.invoke(args=["stats", "reconcile"])
    assert result.exit_code == 1
    assert f"org_credit_month ({city['a1'].id}, {year}, 2): stored (9.0, 1, 0.0, 0), recomputed (1.0, 1, 0.0, 0)" \
        in result.output
    assert f"subtree_course_month ({city['root'].id}, {year}, 2, {course.id}): stored 7, recomputed 1" in result.output
    assert runner.invoke(args=["stats", "reconcile", "--fix"]).exit_code == 0
    db.session.expire_all()
    assert rollup_differences() == []
    assert runner.invoke(args=["stats", "reconcile"]).exit_code == 0


def test_a_rolled_back_credit_leaves_no_rollup(app, city, make_course):
    course = make_course(lessons=("text",), hours=1.0)
    study.credit_course(city["member"], course, datetime(local_today().year, 2, 1, 4), source="online")
    db.session.rollback()
    make_course(title="另一门")  # a later transaction commits: nothing of the first may ride along
    assert db.session.scalars(select(OrgCreditMonth)).all() == []
    assert db.session.scalars(select(SubtreeCourseMonth)).all() == []


def test_the_migration_backfills_the_rollups(fresh_url, tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": fresh_url,
                      "SECRET_KEY": "test"})
    with app.app_context():
        upgrade(revision="9ee258e269da")
        made = "'2020-01-01 00:00:00'"
        statements = [
            f"INSERT INTO organization (id, code, name, kind, parent_id, path, depth, created_at) VALUES "
            f"(1, 'R', 'r', 'committee', NULL, '/1/', 0, {made}), (2, 'A', 'a', 'committee', 1, '/1/2/', 1, {made}), "
            f"(3, 'B', 'b', 'branch', 2, '/1/2/3/', 2, {made})",
            f"INSERT INTO member (id, name, phone, home_org_id, member_kind, occupation, active, session_version, "
            f"must_change_password, created_at) VALUES (1, 'm', '13900000001', 3, 'full', '其他', true, 1, false, {made})",
            f"INSERT INTO course (id, slug, version, title, summary, category, hours, audience, allowed_kinds, tags, "
            f"prerequisites, status, created_at) VALUES (1, 'c', '1', 'c', '', '安全', 1.0, '[]', '[]', '[]', '[]', "
            f"'published', {made}), (2, 'd', '1', 'd', '', '安全', 2.0, '[]', '[]', '[]', '[]', 'published', {made})",
            # 31 Jan 17:00 UTC is 1 February in Beijing: the local month counts
            "INSERT INTO course_completion (id, member_id, course_id, org_id, year, completed_at, hours, category, "
            "source) VALUES (1, 1, 1, 3, 2025, '2025-01-31 17:00:00.000000', 1.0, '安全', 'online'), "
            "(2, 1, 2, 3, 2025, '2025-03-02 01:00:00.000000', 2.0, '安全', 'online')",
            f"INSERT INTO offline_session (id, org_id, title, kind, held_on, hours, category, created_at) VALUES "
            f"(1, 3, 't', 'study', '2025-03-05', 2.5, '安全', {made})",
            f"INSERT INTO offline_attendance (id, session_id, member_id, org_id, year, hours, category, credited_at) "
            f"VALUES (1, 1, 1, 3, 2025, 2.5, '安全', {made})",
        ]
        with db.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
        upgrade()
        credits, courses = rollups.stored_rows()
        assert credits == {(3, 2025, 2): (1.0, 1, 0.0, 0), (3, 2025, 3): (2.0, 1, 2.5, 1)}
        assert courses == {(1, 2025, 2, 1): 1, (2, 2025, 2, 1): 1, (1, 2025, 3, 2): 1, (2, 2025, 3, 2): 1}
        assert (credits, courses) == rollups.expected_rows()
        db.session.remove()
        db.engine.dispose()


@pytest.mark.skipif(not PG_URL, reason="SQLite serializes writers (BEGIN IMMEDIATE): no row locks to order")
def test_opposite_orders_do_not_deadlock(app, city, make_member, make_course):
    """Two transactions credit courses A and B in opposite orders, each holding its first credit
    while the other makes its own: roll-up rows are locked only at commit, in key order."""
    first, second = make_course(lessons=("text",)), make_course(lessons=("text",))
    people = [make_member(city["a1"]), make_member(city["a2"])]
    at = datetime(local_today().year, 6, 1, 3)
    barrier, errors = threading.Barrier(2), []

    def credit(member_id: int, order) -> None:
        try:
            with app.app_context():
                from learning.orgs.models import Member
                from learning.catalog.models import Course

                member = db.session.get(Member, member_id)
                courses = [db.session.get(Course, c) for c in order]
                study.credit_course(member, courses[0], at, source="online")
                db.session.flush()
                barrier.wait(timeout=10)
                study.credit_course(member, courses[1], at + timedelta(minutes=1), source="online")
                db.session.commit()
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=credit, args=(people[0].id, (first.id, second.id))),
               threading.Thread(target=credit, args=(people[1].id, (second.id, first.id)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db.session.rollback()
    assert rollup_differences() == []
