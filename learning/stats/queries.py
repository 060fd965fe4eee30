"""Dashboard reads over one organization subtree, every aggregate computed in SQL.

Attribution (DESIGN §6): people are counted by their *current* home branch (Member.home_org_id);
credits — course completions and confirmed offline attendances — by the branch they were earned
in (their org_id), so a transfer moves the person but not the history. Member-level figures
(target, average, median, behind) are year-to-date from MemberYear, because the target is
annual; the month range narrows the credits, the course table and the trend.

Every query filters the subtree with `subtree_condition` (an indexed path range), so a branch
page costs the same however large the academy is.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import g, has_app_context
from sqlalchemy import (Float, Select, and_, case, cast, exists, func, union_all, literal, null, or_, select)
from sqlalchemy.orm import aliased

from learning.assignments.models import Assignment
from learning.assignments.queries import ancestor_paths
from learning.catalog.models import Course
from learning.extensions import db
from learning.meetings.models import OfflineAttendance, OfflineSession
from learning.orgs.models import Member, MemberKind, Organization, RoleGrant
from learning.orgs.queries import MANAGING_ROLES, subtree_condition
from learning.study.models import CourseCompletion, MemberYear
from learning.study.targets import target_hours, target_kinds
from learning.timeutil import academy_zone, utcnow

ACTIVE_DAYS = 30
AGE_BANDS = ((None, 30, "30岁以下"), (30, 40, "30–39岁"), (40, 50, "40–49岁"), (50, None, "50岁及以上"))
UNKNOWN_AGE = "年龄未知"


@dataclass(frozen=True)
class Period:
    """A calendar year narrowed to a range of months (local time)."""

    year: int
    month_from: int = 1
    month_to: int = 12

    def __post_init__(self) -> None:
        if not (1 <= self.month_from <= self.month_to <= 12) or not (2000 <= self.year <= 2100):
            raise ValueError("invalid period")

    @property
    def first_day(self) -> date:
        return date(self.year, self.month_from, 1)

    @property
    def end_day(self) -> date:
        """The day after the period."""
        return date(self.year + 1, 1, 1) if self.month_to == 12 else date(self.year, self.month_to + 1, 1)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as naive UTC, the way completion moments are stored."""
        zone = academy_zone()

        def utc(day: date) -> datetime:
            local = datetime(day.year, day.month, day.day, tzinfo=zone)
            return (local - local.utcoffset()).replace(tzinfo=None)

        return utc(self.first_day), utc(self.end_day)

    @property
    def months(self) -> list[int]:
        return list(range(self.month_from, self.month_to + 1))

    @property
    def slug(self) -> str:
        return f"{self.year}" if (self.month_from, self.month_to) == (1, 12) else \
            f"{self.year}-{self.month_from:02d}-{self.month_to:02d}"


# --- building blocks ----------------------------------------------------------------------------

def subtree_org_ids(org: Organization) -> Select:
    return select(Organization.id).where(subtree_condition(Organization.path, org.path))


def _targets(year: int) -> tuple[float, float]:
    """(member, secretary) targets, read once per request: every dashboard query needs them."""
    cache = g.setdefault("stats_targets", {}) if has_app_context() else {}
    if year not in cache:
        cache[year] = (target_hours("member", year), target_hours("secretary", year))
    return cache[year]


def target_case(member, t_member: float, t_secretary: float):
    """A member's annual target in SQL: NULL for learner kinds without one (they are never
    counted as meeting or missing it), the higher one for secretaries."""
    secretaries = select(RoleGrant.member_id).where(RoleGrant.role.in_(MANAGING_ROLES))
    return case((member.member_kind.not_in(target_kinds()), null()),
                (member.id.in_(secretaries), literal(t_secretary, Float)), else_=literal(t_member, Float))


def member_hours(org: Organization, year: int, *, kind: str | None = None) -> Select:
    """One row per active learner whose current home branch lies in org's subtree: year-to-date
    hours, points, last activity, learner kind and their annual target (secretaries carry the
    higher one; learners who are not Party members none); `kind` keeps one learner kind."""
    t_member, t_secretary = _targets(year)
    query = (
        select(Member.id.label("member_id"), Member.name, Member.phone, Member.occupation,
               Member.birth_year, Organization.name.label("branch"),
               func.coalesce(MemberYear.hours, 0.0).label("hours"),
               func.coalesce(MemberYear.points, 0).label("points"),
               func.coalesce(MemberYear.courses_done, 0).label("courses_done"),
               MemberYear.last_active_at,
               Member.member_kind,
               target_case(Member, t_member, t_secretary).label("target"))
        .join(Organization, Member.home_org_id == Organization.id)
        .outerjoin(MemberYear, and_(MemberYear.member_id == Member.id, MemberYear.year == year))
        .where(subtree_condition(Organization.path, org.path), Member.active.is_(True))
    )
    return query.where(Member.member_kind == kind) if kind else query


@dataclass(frozen=True)
class Credits:
    hours: float
    completions: int
    offline: int


def credit_totals(org: Organization, period: Period) -> Credits:
    start, end = period.utc_bounds()
    ids = subtree_org_ids(org)
    hours, completions = db.session.execute(
        select(func.coalesce(func.sum(CourseCompletion.hours), 0.0), func.count()).where(
            CourseCompletion.org_id.in_(ids), CourseCompletion.year == period.year,
            CourseCompletion.completed_at >= start, CourseCompletion.completed_at < end)).one()
    off_hours, offline = db.session.execute(
        select(func.coalesce(func.sum(OfflineAttendance.hours), 0.0), func.count())
        .join(OfflineSession, OfflineSession.id == OfflineAttendance.session_id)
        .where(OfflineAttendance.org_id.in_(ids), OfflineAttendance.year == period.year,
               OfflineSession.held_on >= period.first_day, OfflineSession.held_on < period.end_day)).one()
    return Credits(hours=round(float(hours) + float(off_hours), 2), completions=completions, offline=offline)


# --- the summary ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Summary:
    members: int  # every active learner (Party members and others)
    active: int
    meeting_target: int
    with_target: int  # learners who carry an annual target (Party members): the rate's base
    average_hours: float
    median_hours: float
    hours: float  # credits earned in the subtree during the period (online + confirmed)
    completions: int
    offline: int

    @property
    def meeting_rate(self) -> float:
        return self.meeting_target / self.with_target if self.with_target else 0.0

    @property
    def behind(self) -> int:
        return self.with_target - self.meeting_target


def summary(org: Organization, period: Period, *, today: date | None = None) -> Summary:
    m = member_hours(org, period.year).subquery()
    count, meeting, with_target, average = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((m.c.hours >= m.c.target, 1), else_=0)), 0),
               func.count(m.c.target), func.coalesce(func.avg(m.c.hours), 0.0))).one()
    credits = credit_totals(org, period)
    return Summary(members=count, active=active_members(org, today=today), meeting_target=int(meeting),
                   with_target=int(with_target),
                   average_hours=round(float(average), 2), median_hours=median_hours(org, period.year, count),
                   hours=credits.hours, completions=credits.completions, offline=credits.offline)


def median_hours(org: Organization, year: int, count: int) -> float:
    """The middle of the sorted hours (members without a counter row count as 0): an ORDER BY
    with OFFSET, which SQLite and PostgreSQL both run without a median function."""
    if count == 0:
        return 0.0
    m = member_hours(org, year).subquery()
    middle = list(db.session.scalars(
        select(m.c.hours).order_by(m.c.hours).offset((count - 1) // 2).limit(2 - count % 2)))
    return round(sum(middle) / len(middle), 2)


def active_members(org: Organization, *, today: date | None = None) -> int:
    """Members (current home in the subtree) with any study in the last 30 days."""
    cutoff = utcnow() - timedelta(days=ACTIVE_DAYS) if today is None else \
        datetime.combine(today - timedelta(days=ACTIVE_DAYS), datetime.min.time())
    recent = exists().where(MemberYear.member_id == Member.id,
                            MemberYear.year.in_({cutoff.year, cutoff.year + 1}),
                            MemberYear.last_active_at >= cutoff)
    return db.session.scalar(
        select(func.count()).select_from(Member).join(Organization, Member.home_org_id == Organization.id)
        .where(subtree_condition(Organization.path, org.path), Member.active.is_(True), recent))


# --- member lists -----------------------------------------------------------------------------------

def member_rows(org: Organization, year: int, *, behind_only: bool = False, kind: str | None = None,
                limit: int | None = None, offset: int = 0) -> list:
    """Members with their year-to-date hours; behind_only keeps those under target, fewest
    hours first (the people to remind); `kind` keeps one learner kind."""
    m = member_hours(org, year, kind=kind).subquery()
    query = select(m)
    if behind_only:
        query = query.where(m.c.hours < m.c.target).order_by(m.c.hours, m.c.last_active_at.nulls_first(), m.c.member_id)
    else:
        query = query.order_by(m.c.hours.desc(), m.c.member_id)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(db.session.execute(query).all())


def kind_totals(org: Organization, year: int, kind: str) -> tuple[int, float]:
    """(learners, their year-to-date hours) of one learner kind: the filtered list's total."""
    m = member_hours(org, year, kind=kind).subquery()
    count, hours = db.session.execute(select(func.count(), func.coalesce(func.sum(m.c.hours), 0.0))).one()
    return count, float(hours)


def behind_count(org: Organization, year: int) -> int:
    """Learners under their target (those without one are never behind)."""
    m = member_hours(org, year).subquery()
    return db.session.scalar(select(func.count()).where(m.c.hours < m.c.target))


def points_ranking(org: Organization, period: Period, limit: int | None = 20,
                   kinds: tuple[str, ...] | None = None) -> list:
    """积分晾晒: the members of the subtree with the most points; `kinds` keeps some learner
    kinds (the non-members a secretary may propose as activists).

    The one place the ranking reads points: today MemberYear.points for the year; a points
    ledger can replace the source here (summing its entries in period.month_to) alone."""
    m = member_hours(org, period.year).subquery()
    query = (select(m.c.member_id, m.c.name, m.c.phone, m.c.branch, m.c.occupation, m.c.member_kind,
                    m.c.hours, m.c.points)
             .where(m.c.points > 0).order_by(m.c.points.desc(), m.c.member_id).limit(limit))
    if kinds is not None:
        query = query.where(m.c.member_kind.in_(kinds))
    return list(db.session.execute(query).all())


# --- breakdowns ----------------------------------------------------------------------------------------

def _group_stats(m, key) -> Select:
    return select(key.label("key"), func.count().label("members"),
                  func.sum(case((m.c.hours >= m.c.target, 1), else_=0)).label("meeting"),
                  func.count(m.c.target).label("with_target"),
                  func.avg(m.c.hours).label("average")).group_by(key).order_by(func.count().desc(), key)


def by_occupation(org: Organization, year: int) -> list:
    m = member_hours(org, year).subquery()
    return list(db.session.execute(_group_stats(m, m.c.occupation)).all())


def by_kind(org: Organization, year: int) -> list:
    """Figures per learner kind, in the kinds' order (Party members first)."""
    m = member_hours(org, year).subquery()
    rows = {r.key: r for r in db.session.execute(_group_stats(m, m.c.member_kind)).all()}
    return [rows[kind] for kind in MemberKind if kind in rows] + \
        [row for key, row in rows.items() if key not in set(MemberKind)]


def age_band(birth_year_column, year: int):
    age = literal(year) - birth_year_column
    whens = []
    for low, high, label in AGE_BANDS:
        conditions = [c for c in ((age >= low) if low is not None else None,
                                  (age < high) if high is not None else None) if c is not None]
        whens.append((and_(*conditions), label))
    return case((birth_year_column.is_(None), UNKNOWN_AGE), *whens, else_=UNKNOWN_AGE)


def by_age(org: Organization, year: int) -> list:
    m = member_hours(org, year).subquery()
    rows = {r.key: r for r in db.session.execute(_group_stats(m, age_band(m.c.birth_year, year))).all()}
    order = [label for *_, label in AGE_BANDS] + [UNKNOWN_AGE]
    return [rows[label] for label in order if label in rows]


# --- courses and assignments ------------------------------------------------------------------

def relevant_assignments(org: Organization) -> Select[tuple[Assignment]]:
    """Active assignments that bind members of org: made on org, an ancestor, or a descendant."""
    ancestors = ancestor_paths(org.path)
    return (select(Assignment).join(Organization, Organization.id == Assignment.org_id)
            .where(Assignment.withdrawn_at.is_(None),
                   or_(Organization.path.in_(ancestors), subtree_condition(Organization.path, org.path)))
            .order_by(Assignment.due_on, Assignment.id))


def course_rows(org: Organization, period: Period) -> list[tuple[Course, int, int, bool]]:
    """(course, completions in the subtree during the period, distinct members, assigned),
    assigned courses first, then by completions."""
    start, end = period.utc_bounds()
    counts = {course_id: (n, people) for course_id, n, people in db.session.execute(
        select(CourseCompletion.course_id, func.count(), func.count(func.distinct(CourseCompletion.member_id)))
        .where(CourseCompletion.org_id.in_(subtree_org_ids(org)), CourseCompletion.year == period.year,
               CourseCompletion.completed_at >= start, CourseCompletion.completed_at < end)
        .group_by(CourseCompletion.course_id))}
    assigned = {a.course_id for a in db.session.scalars(relevant_assignments(org))}
    ids = set(counts) | assigned
    courses = {c.id: c for c in db.session.scalars(select(Course).where(Course.id.in_(ids)))} if ids else {}
    rows = [(courses[i], *counts.get(i, (0, 0)), i in assigned) for i in ids if i in courses]
    return sorted(rows, key=lambda r: (not r[3], -r[1], r[0].title))


@dataclass(frozen=True)
class AssignmentProgress:
    assignment: Assignment
    members: int
    done: int
    overdue: int


def _assignment_members(org: Organization, assignment: Assignment) -> Select:
    """Members bound by the assignment *and* inside the viewed subtree (the deeper of the two
    paths), with a flag telling whether they completed the course (any year, any source)."""
    scope = org if len(org.path) >= len(assignment.org.path) else assignment.org
    done = exists().where(CourseCompletion.member_id == Member.id,
                          CourseCompletion.course_id == assignment.course_id)
    return (select(Member.id.label("member_id"), Member.name, Member.phone, Organization.name.label("branch"),
                   done.label("done"))
            .join(Organization, Member.home_org_id == Organization.id)
            .where(subtree_condition(Organization.path, scope.path), Member.active.is_(True)))


def assignment_progress(org: Organization, *, today: date) -> list[AssignmentProgress]:
    rows = []
    for assignment in db.session.scalars(relevant_assignments(org)):
        m = _assignment_members(org, assignment).subquery()
        members, done = db.session.execute(
            select(func.count(), func.coalesce(func.sum(case((m.c.done, 1), else_=0)), 0))).one()
        rows.append(AssignmentProgress(assignment, members, int(done),
                                       members - int(done) if assignment.due_on < today else 0))
    return rows


def overdue_rows(org: Organization, *, today: date) -> list:
    """Who is overdue on which assignment: (assignment, member row) pairs."""
    out = []
    for assignment in db.session.scalars(relevant_assignments(org).where(Assignment.due_on < today)):
        m = _assignment_members(org, assignment).subquery()
        for row in db.session.execute(select(m).where(~m.c.done).order_by(m.c.branch, m.c.member_id)):
            out.append((assignment, row))
    return out


# --- trend and children ---------------------------------------------------------------------------

def month_bucket(column, year: int, months: list[int] | None = None):
    """The local calendar month of a naive-UTC moment, as 1 + the number of month starts (in UTC)
    it has passed: plain comparisons an index-only scan can feed, no per-row date arithmetic."""
    months = months or list(range(1, 13))
    starts = [Period(year, m, m).utc_bounds()[0] for m in months[1:]]
    expr = literal(months[0])
    for start in starts:
        expr = expr + cast(column >= start, db.Integer)
    return expr


def monthly_trend(org: Organization, period: Period) -> list[tuple[int, float, int]]:
    """(month, hours credited, course completions) for every month of the period: one range
    per month over the covering (org_id, year, completed_at, …) index, in one statement."""
    ids = subtree_org_ids(org)
    if db.engine.dialect.name != "sqlite":
        # PostgreSQL: one (parallel) pass, months from comparisons; twelve range scans would
        # each become a scan of their own once the subtree is a large share of the table.
        month = month_bucket(CourseCompletion.completed_at, period.year, period.months)
        start, end = period.utc_bounds()
        rows = db.session.execute(
            select(month, func.sum(CourseCompletion.hours), func.count())
            .where(CourseCompletion.org_id.in_(ids), CourseCompletion.year == period.year,
                   CourseCompletion.completed_at >= start, CourseCompletion.completed_at < end).group_by(month))
        return _with_offline(org, period, {mo: (h, n) for mo, h, n in rows})
    parts = []
    for m in period.months:
        start, end = Period(period.year, m, m).utc_bounds()
        parts.append(select(literal(m).label("month"), func.sum(CourseCompletion.hours).label("hours"),
                            func.count().label("n"))
                     .where(CourseCompletion.org_id.in_(ids), CourseCompletion.year == period.year,
                            CourseCompletion.completed_at >= start, CourseCompletion.completed_at < end))
    return _with_offline(org, period, {mo: (h, n) for mo, h, n in db.session.execute(union_all(*parts))})


def _with_offline(org: Organization, period: Period, online: dict) -> list[tuple[int, float, int]]:
    offline: dict[int, float] = {}
    for held_on, hours in db.session.execute(
            select(OfflineSession.held_on, func.sum(OfflineAttendance.hours))
            .join(OfflineSession, OfflineSession.id == OfflineAttendance.session_id)
            .where(OfflineAttendance.org_id.in_(subtree_org_ids(org)), OfflineAttendance.year == period.year,
                   OfflineSession.held_on >= period.first_day, OfflineSession.held_on < period.end_day)
            .group_by(OfflineSession.held_on)):
        offline[held_on.month] = offline.get(held_on.month, 0.0) + float(hours)
    return [(mo, round(float(online.get(mo, (0.0, 0))[0] or 0.0) + offline.get(mo, 0.0), 2),
             int(online.get(mo, (0.0, 0))[1])) for mo in period.months]


@dataclass(frozen=True)
class ChildRow:
    org: Organization
    members: int
    meeting_target: int
    with_target: int
    hours: float
    completions: int

    @property
    def rate(self) -> float:
        return self.meeting_target / self.with_target if self.with_target else 0.0


def _child_range(child, path_column):
    """path_column lies in child's subtree, with the child taken from a joined row."""
    upper = func.substr(child.path, 1, func.length(child.path) - 1) + "0"
    return and_(path_column >= child.path, path_column < upper)


def child_rows(org: Organization, period: Period) -> list[ChildRow]:
    """Each open child node with its subtree's figures, one GROUP BY per figure (not per child)."""
    child = aliased(Organization)
    home = aliased(Organization)
    children = list(db.session.scalars(
        select(Organization).where(Organization.parent_id == org.id, Organization.closed_at.is_(None))
        .order_by(Organization.code)))
    if not children:
        return []
    t_member, t_secretary = _targets(period.year)
    hours = func.coalesce(MemberYear.hours, 0.0)
    target = target_case(Member, t_member, t_secretary)
    people = {cid: (n, int(meeting or 0), with_target) for cid, n, meeting, with_target in db.session.execute(
        select(child.id, func.count(Member.id), func.sum(case((hours >= target, 1), else_=0)), func.count(target))
        .join(home, _child_range(child, home.path))
        .join(Member, and_(Member.home_org_id == home.id, Member.active.is_(True)))
        .outerjoin(MemberYear, and_(MemberYear.member_id == Member.id, MemberYear.year == period.year))
        .where(child.parent_id == org.id, child.closed_at.is_(None))
        .group_by(child.id))}
    start, end = period.utc_bounds()
    earned: dict[int, tuple[float, int]] = {}
    for cid, h, n in db.session.execute(
            select(child.id, func.sum(CourseCompletion.hours), func.count())
            .join(home, _child_range(child, home.path))
            .join(CourseCompletion, CourseCompletion.org_id == home.id)
            .where(child.parent_id == org.id, child.closed_at.is_(None), CourseCompletion.year == period.year,
                   CourseCompletion.completed_at >= start, CourseCompletion.completed_at < end)
            .group_by(child.id)):
        earned[cid] = (float(h or 0.0), n)
    for cid, h in db.session.execute(
            select(child.id, func.sum(OfflineAttendance.hours))
            .join(home, _child_range(child, home.path))
            .join(OfflineAttendance, OfflineAttendance.org_id == home.id)
            .join(OfflineSession, OfflineSession.id == OfflineAttendance.session_id)
            .where(child.parent_id == org.id, child.closed_at.is_(None), OfflineAttendance.year == period.year,
                   OfflineSession.held_on >= period.first_day, OfflineSession.held_on < period.end_day)
            .group_by(child.id)):
        before = earned.get(cid, (0.0, 0))
        earned[cid] = (before[0] + float(h or 0.0), before[1])
    rows = [ChildRow(c, *people.get(c.id, (0, 0, 0)), round(earned.get(c.id, (0.0, 0))[0], 2),
                     earned.get(c.id, (0.0, 0))[1]) for c in children]
    return sorted(rows, key=lambda r: (-r.rate, r.org.code))
