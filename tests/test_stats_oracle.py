"""Dashboard numbers against an independent oracle: plain Python over the raw rows of a random
tree, before and after a branch moves to another parent."""
from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from learning.catalog.models import Course
from learning.extensions import db
from learning.meetings.models import OfflineAttendance, OfflineSession
from learning.orgs.models import Member, Organization, RoleGrant
from learning.stats.queries import Period, child_rows, summary
from learning.study.models import CourseCompletion, MemberYear

ZONE = ZoneInfo("Asia/Shanghai")
YEAR = 2025


def move_subtree(org: Organization, new_parent: Organization) -> None:
    """Test-local move: re-parent org and rewrite the paths of its whole subtree in SQL."""
    old, new = org.path, f"{new_parent.path}{org.id}/"
    shift = new_parent.depth + 1 - org.depth
    db.session.execute(
        update(Organization).where(Organization.path.startswith(old, autoescape=True))
        .values(path=func_concat(new, Organization.path, len(old)), depth=Organization.depth + shift),
        execution_options={"synchronize_session": False})
    db.session.execute(update(Organization).where(Organization.id == org.id).values(parent_id=new_parent.id))
    db.session.commit()
    db.session.expire_all()


def func_concat(prefix: str, column, cut: int):
    from sqlalchemy import func, literal

    return literal(prefix) + func.substr(column, cut + 1)


world = st.fixed_dictionaries({
    "parents": st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=9),
    "members": st.lists(st.tuples(st.integers(0, 50), st.booleans(), st.booleans(),
                                  st.sampled_from([None, 1960, 1980, 1990, 2000]),
                                  st.sampled_from([0.0, 3.0, 31.5, 32.0, 40.0, 56.0, 60.0]), st.booleans()),
                        max_size=18),
    "credits": st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(0, 2),
                                  st.integers(-3, 370), st.sampled_from([0.5, 1.0, 2.0])), max_size=30),
    "offline": st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(0, 364)), max_size=6),
    "months": st.tuples(st.integers(1, 12), st.integers(1, 12)).map(sorted),
    "viewed": st.integers(0, 50),
    "move": st.tuples(st.integers(0, 50), st.integers(0, 50)),
})


def _reset() -> None:
    """Every table emptied (hypothesis runs many examples inside one test's database)."""
    db.session.execute(update(Organization).values(parent_id=None))
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def _build(w) -> tuple[list[Organization], list[Member]]:
    from learning.orgs.operations import create_member, create_org

    orgs: list[Organization] = []
    for i, p in enumerate([0] + w["parents"]):
        parent = orgs[p % len(orgs)] if orgs else None
        orgs.append(create_org(code=f"O{i}", name=f"组织{i}", kind="branch", parent=parent))
    courses = [Course(slug=f"c{i}", version="1", title=f"课{i}", summary="", category="安全", hours=1.0,
                      audience=[], tags=[], status="published") for i in range(3)]
    db.session.add_all(courses)
    members = []
    for i, (home, active, secretary, birth, hours, has_row) in enumerate(w["members"]):
        m = create_member(name=f"人{i}", phone=f"139{i:08d}", home_org=orgs[home % len(orgs)], password_hash=None,
                          birth_year=birth, occupation="快递员" if i % 2 else "外卖骑手", member_kind="full",
                          joined_at=None, since=date(2020, 1, 1))
        m.active = active
        members.append(m)
        if secretary:
            db.session.add(RoleGrant(member=m, org=m.home_org, role="secretary"))
        if has_row:
            db.session.add(MemberYear(member_id=m.id, year=YEAR, hours=hours, points=i, courses_done=0,
                                      last_active_at=datetime(YEAR, 6, 1)))
    db.session.flush()
    if members:
        seen = set()
        for who, where, course, day, hours in w["credits"]:
            m = members[who % len(members)]
            at = datetime(YEAR, 1, 1) + timedelta(days=day, hours=(day * 7) % 24)
            key = (m.id, course, at.year)
            if key in seen:
                continue
            seen.add(key)
            db.session.add(CourseCompletion(member_id=m.id, course_id=courses[course].id,
                                            org_id=orgs[where % len(orgs)].id, year=at.year, completed_at=at,
                                            hours=hours, category="安全", source="online"))
        for i, (where, who, day) in enumerate(w["offline"]):
            s = OfflineSession(org_id=orgs[where % len(orgs)].id, title="t", kind="study",
                               held_on=date(YEAR, 1, 1) + timedelta(days=day), hours=1.5, category="安全")
            db.session.add(s)
            db.session.flush()
            m = members[who % len(members)]
            db.session.add(OfflineAttendance(session_id=s.id, member_id=m.id, org_id=orgs[(where + i) % len(orgs)].id,
                                             year=YEAR, hours=1.5, category="安全"))
    db.session.commit()
    return orgs, members


def _oracle(node: Organization, period: Period) -> dict:
    """Pure Python over every raw row: nothing shared with the SQL under test but the rows."""
    paths = {o.id: o.path for o in db.session.scalars(select(Organization))}
    inside = {oid for oid, path in paths.items() if path.startswith(node.path)}
    secretaries = {g.member_id for g in db.session.scalars(select(RoleGrant))}
    counters = {r.member_id: r.hours for r in db.session.scalars(select(MemberYear).where(MemberYear.year == period.year))}
    people = [m for m in db.session.scalars(select(Member)) if m.active and m.home_org_id in inside]
    hours = sorted(counters.get(m.id, 0.0) for m in people)
    meeting = sum(1 for m in people if counters.get(m.id, 0.0) >= (56.0 if m.id in secretaries else 32.0))

    def in_period(local: date) -> bool:
        return local.year == period.year and period.month_from <= local.month <= period.month_to

    credited, completions = 0.0, 0
    for c in db.session.scalars(select(CourseCompletion)):
        local = c.completed_at.replace(tzinfo=UTC).astimezone(ZONE).date()
        if c.org_id in inside and c.year == period.year and in_period(local):
            credited += c.hours
            completions += 1
    for a in db.session.scalars(select(OfflineAttendance)):
        if a.org_id in inside and a.year == period.year and in_period(a.session.held_on):
            credited += a.hours
    return {"members": len(people), "meeting": meeting, "credited": round(credited, 2), "completions": completions,
            "average": round(sum(hours) / len(hours), 2) if hours else 0.0,
            "median": round(statistics.median(hours), 2) if hours else 0.0}


def _check(node: Organization, period: Period) -> None:
    want = _oracle(node, period)
    got = summary(node, period, today=date(YEAR, 12, 31))
    assert (got.members, got.meeting_target, got.hours, got.completions, got.average_hours, got.median_hours) == (
        want["members"], want["meeting"], want["credited"], want["completions"], want["average"], want["median"])
    for row in child_rows(node, period):
        child = _oracle(row.org, period)
        assert (row.members, row.meeting_target, row.hours, row.completions) == (
            child["members"], child["meeting"], child["credited"], child["completions"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(w=world)
def test_dashboard_equals_oracle_on_random_trees(app, w):
    _reset()
    orgs, _members = _build(w)
    period = Period(YEAR, *w["months"])
    node = orgs[w["viewed"] % len(orgs)]
    _check(node, period)
    _check(orgs[0], period)
    mover, target = orgs[w["move"][0] % len(orgs)], orgs[w["move"][1] % len(orgs)]
    if mover.parent_id is not None and not target.path.startswith(mover.path):
        move_subtree(mover, target)
        for org in (orgs[0], target, mover, node):
            db.session.refresh(org)
            _check(org, period)
