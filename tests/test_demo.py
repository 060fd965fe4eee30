"""`hongfan demo` builds a realistic city, idempotently."""
from __future__ import annotations

import hashlib

from sqlalchemy import func, select, text

from learning.extensions import db
from learning.orgs.models import Member, Organization, OrgKind, Role, RoleGrant
from learning.study.models import CourseCompletion, MemberYear


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        if table.name in {"audit_event", "login_throttle"}:
            continue
        order = [c for c in table.primary_key.columns]
        cols = [c for c in table.columns if c.name not in {"created_at", "received_at", "password_hash"}]
        for row in db.session.execute(select(*cols).order_by(*order)):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def test_demo_twice_leaves_the_same_data(empty_app):
    first = empty_app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    for phone in ("13800000000", "13800000001", "13800000002"):
        assert phone in first.output
    before = _fingerprint()
    second = empty_app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert second.exit_code == 0, second.output
    db.session.expire_all()
    assert _fingerprint() == before


def test_demo_city_is_realistic(empty_app):
    assert empty_app.test_cli_runner().invoke(args=["demo", "--no-serve"]).exit_code == 0
    committees = db.session.scalar(select(func.count()).where(Organization.kind == OrgKind.COMMITTEE,
                                                              Organization.depth == 1))
    branches = db.session.scalar(select(func.count()).where(Organization.kind == OrgKind.BRANCH))
    members = list(db.session.scalars(select(Member)))
    assert committees >= 3 and branches >= 12 and len(members) >= 200
    assert {m.occupation for m in members} >= {"快递员", "外卖骑手", "货车司机", "网约车司机", "主播", "平台企业员工"}
    ages = [2026 - m.birth_year for m in members]
    assert min(ages) >= 19 and max(ages) <= 61
    # every branch has a secretary
    with_secretary = set(db.session.scalars(select(RoleGrant.org_id).where(RoleGrant.role == Role.SECRETARY)))
    branch_ids = set(db.session.scalars(select(Organization.id).where(Organization.kind == OrgKind.BRANCH)))
    assert branch_ids <= with_secretary
    # the three logins and their relation
    admin, secretary, member = (db.session.scalar(select(Member).where(Member.phone == p))
                                for p in ("13800000000", "13800000001", "13800000002"))
    assert any(g.role == Role.ACADEMY_ADMIN for g in admin.roles)
    branch = next(g.org for g in secretary.roles if g.role == Role.SECRETARY)
    assert member.home_org_id == branch.id
    # a year of history, and counters that match the completions
    assert db.session.scalar(select(func.count()).select_from(CourseCompletion)) > 200
    mismatches = db.session.execute(text(
        "SELECT my.member_id FROM member_year my LEFT JOIN (SELECT member_id, year, SUM(hours) h, COUNT(*) n "
        "FROM course_completion GROUP BY member_id, year) c ON c.member_id = my.member_id AND c.year = my.year "
        "LEFT JOIN (SELECT member_id, year, SUM(hours) h FROM offline_attendance GROUP BY member_id, year) o "
        "ON o.member_id = my.member_id AND o.year = my.year "
        "WHERE ABS(my.hours - COALESCE(c.h, 0) - COALESCE(o.h, 0)) > 0.001 OR my.courses_done != COALESCE(c.n, 0)")).all()
    assert mismatches == []
    assert db.session.scalar(select(func.count()).select_from(MemberYear)) > 150


def test_demo_member_can_finish_a_course_with_one_lesson(empty_app):
    """The README's tour: the demo member is one text lesson short of finishing a course."""
    from learning.study.queries import courses_in_progress

    assert empty_app.test_cli_runner().invoke(args=["demo", "--no-serve"]).exit_code == 0
    member = db.session.scalar(select(Member).where(Member.phone == "13800000002"))
    states = courses_in_progress(member)
    assert any(s.total - s.done == 1 and s.next_lesson.kind == "text" for s in states)
