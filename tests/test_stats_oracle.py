"""Dashboard numbers against an independent oracle: plain Python over the raw rows of a random
tree, before and after a subtree moves to another parent (through the real move operation,
which rewrites paths and shifts the top levels' per-course roll-ups).

The random trees reach depth 9, so the viewed node is sometimes one that reads its courses
from the roll-ups (depth ≤ rollups.ROLLUP_DEPTH) and sometimes one that reads the completions;
the roll-ups themselves must equal their recomputation from the credits after every change."""
from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import g
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from learning.catalog.models import Course
from learning.extensions import db
from learning.meetings.models import OfflineAttendance, OfflineSession
from learning.orgs.models import Member, Organization, RoleGrant
from learning.orgs.operations import move_org
from learning.stats.queries import Figures, Period, child_rows, member_rows, summary
from learning.stats.tables import Context, build
from learning.study import rollups
from learning.study.models import AnnualTarget, CourseCompletion, MemberYear

ZONE = ZoneInfo("Asia/Shanghai")
YEAR = 2025
ACTIVE = {None: None, "jun": datetime(YEAR, 6, 1), "dec": datetime(YEAR, 12, 20, 3), "jan": datetime(YEAR + 1, 1, 5)}

world = st.fixed_dictionaries({
    "parents": st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=9),
    # home, active, secretary, birth year, hours, has a counter row, last activity, kind
    "members": st.lists(st.tuples(st.integers(0, 50), st.booleans(), st.booleans(),
                                  st.sampled_from([None, 1960, 1980, 1990, 2000]),
                                  st.sampled_from([0.0, 3.0, 31.5, 32.0, 40.0, 56.0, 60.0]), st.booleans(),
                                  st.sampled_from(sorted(ACTIVE, key=str)), st.sampled_from(["full", "full", "masses"])),
                        max_size=18),
    "credits": st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(0, 2),
                                  st.integers(-3, 370), st.sampled_from([0.5, 1.0, 2.0])), max_size=30),
    "offline": st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(0, 364)), max_size=6),
    "months": st.tuples(st.integers(1, 12), st.integers(1, 12)).map(sorted),
    "viewed": st.integers(0, 50),
    "move": st.tuples(st.integers(0, 50), st.integers(0, 50)),
    "today": st.sampled_from([date(YEAR, 12, 31), date(YEAR, 6, 20), date(YEAR + 1, 1, 20)]),
    # (member, secretary) targets of the year: the usual, a locality's lower one for secretaries, equal
    "targets": st.sampled_from([(32.0, 56.0), (40.0, 24.0), (32.0, 32.0)]),
})


def _reset() -> None:
    """Every table emptied (hypothesis runs many examples inside one test's database)."""
    db.session.execute(update(Organization).values(parent_id=None))
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    g.pop("stats_targets", None)  # the request cache of the year's targets: examples share the app context


def _build(w) -> tuple[list[Organization], list[Member]]:
    """The world, written as the app writes it: every credit goes through the roll-up writer
    (in any branch, as if the member had transferred since)."""
    from learning.orgs.operations import create_member, create_org

    orgs: list[Organization] = []
    for i, p in enumerate([0] + w["parents"]):
        parent = orgs[p % len(orgs)] if orgs else None
        orgs.append(create_org(code=f"O{i}", name=f"组织{i}", kind="committee", parent=parent))
    courses = [Course(slug=f"c{i}", version="1", title=f"课{i}", summary="", category="安全", hours=1.0,
                      audience=[], tags=[], status="published") for i in range(3)]
    db.session.add_all(courses)
    db.session.add_all([AnnualTarget(year=YEAR, role="member", hours=w["targets"][0]),
                        AnnualTarget(year=YEAR, role="secretary", hours=w["targets"][1])])
    members = []
    for i, (home, active, secretary, birth, hours, has_row, last, kind) in enumerate(w["members"]):
        m = create_member(name=f"人{i}", phone=f"139{i:08d}", home_org=orgs[home % len(orgs)], password_hash=None,
                          birth_year=birth, occupation="快递员" if i % 2 else "外卖骑手", member_kind=kind,
                          joined_at=None, since=date(2020, 1, 1))
        m.active = active
        members.append(m)
        if secretary:
            db.session.add(RoleGrant(member=m, org=m.home_org, role="secretary"))
        if has_row:
            moment = ACTIVE[last]
            db.session.add(MemberYear(member_id=m.id, year=YEAR, hours=hours, points=i, courses_done=0,
                                      last_active_at=moment if moment and moment.year == YEAR else None))
            if moment and moment.year == YEAR + 1:
                db.session.add(MemberYear(member_id=m.id, year=YEAR + 1, hours=0.0, points=0, courses_done=0,
                                          last_active_at=moment))
    db.session.flush()
    if members:
        seen = set()
        for who, where, course, day, hours in w["credits"]:
            m = members[who % len(members)]
            at = datetime(YEAR, 1, 1) + timedelta(days=day, hours=(day * 7) % 24)
            year = at.replace(tzinfo=UTC).astimezone(ZONE).year
            key = (m.id, course, year)
            if key in seen:
                continue
            seen.add(key)
            org = orgs[where % len(orgs)]
            db.session.add(CourseCompletion(member_id=m.id, course_id=courses[course].id, org_id=org.id, year=year,
                                            completed_at=at, hours=hours, category="安全", source="online"))
            rollups.add_course_credit(org.id, at, courses[course].id, hours)
        for i, (where, who, day) in enumerate(w["offline"]):
            s = OfflineSession(org_id=orgs[where % len(orgs)].id, title="t", kind="study",
                               held_on=date(YEAR, 1, 1) + timedelta(days=day), hours=1.5, category="安全")
            db.session.add(s)
            db.session.flush()
            m = members[who % len(members)]
            org = orgs[(where + i) % len(orgs)]
            db.session.add(OfflineAttendance(session_id=s.id, member_id=m.id, org_id=org.id,
                                             year=YEAR, hours=1.5, category="安全"))
            rollups.add_offline_credit(org.id, s.held_on, 1.5)
    db.session.commit()
    return orgs, members


def _oracle(node: Organization, period: Period, today: date) -> dict:
    """Pure Python over every raw row: nothing shared with the SQL under test but the rows."""
    goals = {t.role: t.hours for t in db.session.scalars(select(AnnualTarget).where(AnnualTarget.year == period.year))}
    paths = {o.id: o.path for o in db.session.scalars(select(Organization))}
    inside = {oid for oid, path in paths.items() if path.startswith(node.path)}
    secretaries = {g.member_id for g in db.session.scalars(select(RoleGrant))}
    rows = list(db.session.scalars(select(MemberYear)))
    counters = {r.member_id: r.hours for r in rows if r.year == period.year}
    last = {r.member_id: r.last_active_at for r in rows if r.year == period.year}
    cutoff = datetime.combine(today - timedelta(days=30), datetime.min.time())
    recent = {r.member_id for r in rows if r.year in (cutoff.year, cutoff.year + 1)
              and r.last_active_at is not None and r.last_active_at >= cutoff}
    people = [m for m in db.session.scalars(select(Member)) if m.active and m.home_org_id in inside]
    party = [m for m in people if m.member_kind == "full"]
    hours = sorted(counters.get(m.id, 0.0) for m in people)

    def target(m: Member) -> float:
        return goals["secretary"] if m.id in secretaries else goals["member"]

    meeting = sum(1 for m in party if counters.get(m.id, 0.0) >= target(m))
    behind = sorted((m for m in party if counters.get(m.id, 0.0) < target(m)),
                    key=lambda m: (counters.get(m.id, 0.0), last.get(m.id) is not None,
                                   last.get(m.id) or datetime.min, m.id))

    def in_period(local: date) -> bool:
        return local.year == period.year and period.month_from <= local.month <= period.month_to

    credited, completions, offline = 0.0, 0, 0
    per_course: Counter = Counter()
    months = {m: [0.0, 0] for m in period.months}
    for c in db.session.scalars(select(CourseCompletion)):
        local = c.completed_at.replace(tzinfo=UTC).astimezone(ZONE).date()
        if c.org_id in inside and c.year == period.year and in_period(local):
            credited += c.hours
            completions += 1
            per_course[c.course.title] += 1
            months[local.month][0] += c.hours
            months[local.month][1] += 1
    for a in db.session.scalars(select(OfflineAttendance)):
        if a.org_id in inside and a.year == period.year and in_period(a.session.held_on):
            credited += a.hours
            offline += 1
            months[a.session.held_on.month][0] += a.hours
    points = {r.member_id: r.points for r in rows if r.year == period.year}
    by_hours = sorted(people, key=lambda m: (-counters.get(m.id, 0.0), m.id))
    ranked = sorted((m for m in people if points.get(m.id, 0) > 0), key=lambda m: (-points[m.id], m.id))
    return {"members": len(people), "party": len(party), "meeting": meeting, "credited": round(credited, 2),
            "by_hours": [m.id for m in by_hours], "ranking": [m.id for m in ranked][:20],
            "completions": completions, "offline": offline, "active": len({m.id for m in people} & recent),
            "average": round(sum(hours) / len(hours), 2) if hours else 0.0,
            "median": round(statistics.median(hours), 2) if hours else 0.0,
            "courses": dict(per_course), "trend": [(m, round(h, 2), n) for m, (h, n) in months.items()],
            "behind": [m.id for m in behind]}


def _check(node: Organization, period: Period, today: date) -> None:
    want = _oracle(node, period, today)
    figures = Figures(node, period, today)
    got = figures.summary
    assert (got.members, got.with_target, got.meeting_target, got.hours, got.completions, got.offline,
            got.average_hours, got.median_hours, got.active) == (
        want["members"], want["party"], want["meeting"], want["credited"], want["completions"], want["offline"],
        want["average"], want["median"], want["active"])
    assert got == summary(node, period, today=today)
    assert {r.title: r.completions for r in figures.courses} == want["courses"]
    assert all(r.people == r.completions for r in figures.courses)
    assert figures.trend == want["trend"]
    assert [r.member_id for r in member_rows(node, period.year, behind_only=True)] == want["behind"]
    assert [r.member_id for r in figures.behind_list(1)] == want["behind"][:50]  # the page, from the one pass
    assert [r.member_id for r in figures.member_list(None, 1)] == want["by_hours"][:50]
    assert [r.member_id for r in member_rows(node, period.year)] == want["by_hours"]
    assert [r.member_id for r in figures.ranking] == want["ranking"]
    assert got.behind == len(want["behind"])
    by_kind = {r.key: (r.members, r.with_target, r.meeting) for r in figures.by_kind}
    assert sum(v[0] for v in by_kind.values()) == want["members"]
    assert sum(v[2] for v in by_kind.values()) == want["meeting"]
    for row in child_rows(node, period):
        child = _oracle(row.org, period, today)
        assert (row.members, row.with_target, row.meeting_target, row.hours, row.completions) == (
            child["members"], child["party"], child["meeting"], child["credited"], child["completions"])


def _rollups_reconcile() -> None:
    assert rollups.stored_rows() == rollups.expected_rows()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(w=world)
def test_dashboard_equals_oracle_on_random_trees(app, w):
    _reset()
    orgs, _members = _build(w)
    _rollups_reconcile()
    period = Period(YEAR, *w["months"])
    node = orgs[w["viewed"] % len(orgs)]
    with app.test_request_context():  # a request of its own: the targets are cached per request
        _check(node, period, w["today"])
        _check(orgs[0], period, w["today"])
    mover, target = orgs[w["move"][0] % len(orgs)], orgs[w["move"][1] % len(orgs)]
    if mover.parent_id is not None and not target.path.startswith(mover.path):
        move_org(mover, target, actor=None)
        db.session.commit()
        _rollups_reconcile()
        with app.test_request_context():
            for org in (orgs[0], target, mover, node):
                db.session.refresh(org)
                _check(org, period, w["today"])


def test_exported_tables_equal_the_page_tables(app, city, make_course):
    """Every paged table's export (page=None) holds the page's rows, in order, and its count."""
    from learning.assignments.operations import assign
    from learning.meetings.operations import record_session
    from learning.study import operations as study

    course, required = make_course(hours=2.0), make_course(title="必修一课", hours=1.0)
    at = datetime(YEAR, 5, 1, 4)
    for who in ("member", "secretary", "other"):
        study.credit_course(city[who], course, at, source="online")
    study.credit_course(city["member"], required, at, source="online")
    assign(actor=None, org=city["a1"], course=required, due_on=date(YEAR, 6, 1))
    assign(actor=None, org=city["a1"].parent, course=required, due_on=date(YEAR, 7, 1))
    record_session(actor=None, org=city["a2"], title="集中学习", kind="study", held_on=date(YEAR, 3, 1), hours=2.0,
                   category="理论学习", attendees=[city["other"], city["sibling"]])
    db.session.commit()
    org = city["a1"].parent
    period = Period(YEAR)
    with app.test_request_context():
        for name in ("members", "behind", "courses", "overdue", "offline", "children", "trend", "ranking"):
            page = build(name, Context(org, period, date(YEAR, 12, 20), 1))
            whole = build(name, Context(org, period, date(YEAR, 12, 20)))
            assert [r.values for r in whole.rows[:50]] == [r.values for r in page.rows], name
            assert whole.count == page.count, name
            assert whole.rows or name == "ranking", name


@given(w=st.fixed_dictionaries({
    "homes": st.lists(st.tuples(st.integers(0, 4), st.booleans()), min_size=4, max_size=12),
    "done": st.lists(st.tuples(st.integers(0, 11), st.integers(0, 2), st.sampled_from([YEAR - 1, YEAR])),
                     min_size=6, max_size=24),
    "assigned": st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2)), min_size=2, max_size=5),
    "probes": st.sampled_from([0, 2_000]),
}))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_assignment_progress_equals_oracle(app, monkeypatch, w):
    """Each assignment binds the members at home in the deeper of the viewed node and the
    assigning node; done = completed its course in any year. Both ways of counting (probing
    members, reading the course's completions) are exercised."""
    from learning.orgs.operations import create_member, create_org
    from learning.stats import queries

    _reset()
    monkeypatch.setattr(queries, "MEMBER_PROBES", w["probes"])
    root = create_org(code="R", name="根", kind="committee", parent=None)
    mid = create_org(code="M", name="中", kind="committee", parent=root)
    orgs = [root, mid, create_org(code="B1", name="支一", kind="branch", parent=mid),
            create_org(code="B2", name="支二", kind="branch", parent=mid),
            create_org(code="B3", name="支三", kind="branch", parent=root)]
    courses = [Course(slug=f"c{i}", version="1", title=f"课{i}", summary="", category="安全", hours=1.0,
                      audience=[], tags=[], status="published") for i in range(3)]
    db.session.add_all(courses)
    members = []
    for i, (home, active) in enumerate(w["homes"]):
        m = create_member(name=f"人{i}", phone=f"139{i:08d}", home_org=orgs[home], password_hash=None, birth_year=None,
                          occupation="其他", member_kind="full", joined_at=None, since=date(2020, 1, 1))
        m.active = active
        members.append(m)
    db.session.flush()
    done = set()
    for who, course, year in w["done"]:
        m = members[who % len(members)]
        if (m.id, course, year) not in done:
            done.add((m.id, course, year))
            db.session.add(CourseCompletion(member_id=m.id, course_id=courses[course].id, org_id=orgs[2].id, year=year,
                                            completed_at=datetime(year, 5, 1), hours=1.0, category="安全"))
    from learning.assignments.models import Assignment
    for where, course in w["assigned"]:
        db.session.add(Assignment(org_id=orgs[where].id, course_id=courses[course].id, due_on=date(YEAR, 1, 1)))
    db.session.commit()
    finished = {(m_id, courses[c].id) for m_id, c, _y in done}
    with app.test_request_context():
        for node in orgs:
            got = {p.id: (p.members, p.done, p.overdue) for p in Figures(node, Period(YEAR), date(YEAR, 12, 1)).progress}
            want = {}
            for a in db.session.scalars(select(Assignment)):
                if not (node.path.startswith(a.org.path) or a.org.path.startswith(node.path)):
                    continue
                scope = max(node.path, a.org.path, key=len)
                bound = [m for m in members if m.active and m.home_org.path.startswith(scope)]
                n_done = sum(1 for m in bound if (m.id, a.course_id) in finished)
                want[a.id] = (len(bound), n_done, len(bound) - n_done)
            assert got == want, node.code
