"""The dashboards' SQL, built once per shape and reused with named parameters.

A dashboard page runs about twenty statements; building each as a fresh SQLAlchemy
expression (and computing its cache key) cost more than running it on SQLite for a branch.
These are Core statements over the tables, built on first use (functools.cache keyed by the
few things that change their shape) and executed with a dict of parameters, so a page pays
for the SQL and little else. learning/stats/queries.py says what each figure means.

Parameters every subtree statement takes: lo, hi (the subtree's path range, see
`subtree_params`), and most take year."""
from __future__ import annotations

from functools import cache

from sqlalchemy import (Date, DateTime, Float, Integer, String, and_, bindparam, case, cast, exists, func, literal,
                        null, or_, select, true, union_all)

from learning.assignments.models import Assignment
from learning.catalog.models import Course
from learning.meetings.models import OfflineAttendance, OfflineSession
from learning.orgs.models import Member, Organization, RoleGrant
from learning.orgs.queries import MANAGING_ROLES
from learning.study.models import CourseCompletion, MemberYear, OrgCreditMonth, SubtreeCourseMonth

o = Organization.__table__
m = Member.__table__
my = MemberYear.__table__
rg = RoleGrant.__table__
cc = CourseCompletion.__table__
course = Course.__table__
ocm = OrgCreditMonth.__table__
scm = SubtreeCourseMonth.__table__
asg = Assignment.__table__
sess = OfflineSession.__table__
att = OfflineAttendance.__table__

LO, HI, YEAR = bindparam("lo"), bindparam("hi"), bindparam("year", type_=Integer)
ORG_ID = bindparam("org_id", type_=Integer)
CUTOFF = bindparam("cutoff", type_=DateTime())
KINDS = bindparam("target_kinds", expanding=True)  # learner kinds that carry a target
T_MEMBER, T_SECRETARY = bindparam("t_member", type_=Float), bindparam("t_secretary", type_=Float)
MONTH_FROM, MONTH_TO = bindparam("month_from", type_=Integer), bindparam("month_to", type_=Integer)
LIMIT, OFFSET = bindparam("limit", type_=Integer), bindparam("offset", type_=Integer)


def subtree_params(path: str) -> dict:
    """lo/hi: every descendant path starts with `path`, i.e. lies in [path, path with its final
    '/' bumped to '0') — the range an ordinary index serves (orgs.queries.subtree_condition)."""
    return {"lo": path, "hi": path[:-1] + "0"}


def in_subtree(path_column, lo=LO, hi=HI):
    return and_(path_column >= lo, path_column < hi)


def is_secretary(member_id):
    return exists().where(rg.c.member_id == member_id, rg.c.role.in_(MANAGING_ROLES)).correlate_except(rg)


def band(birth_year):
    """The index of queries.AGE_BANDS a birth year falls in (4: unknown): how many of the
    band boundaries (birth years band_1 > band_2 > band_3) it is at or before."""
    older = [cast(birth_year <= bindparam(f"band_{i}", type_=Integer), Integer) for i in (1, 2, 3)]
    return case((birth_year.is_(None), 4), else_=older[0] + older[1] + older[2])


# --- the subtree's learners ----------------------------------------------------------------------

def _scan(columns, *, recent: tuple[bool, int] = (False, 0), grants: bool = False):
    """Active learners at home in the subtree (from their secretary grants when `grants`), with
    their counter row of the year (cy). columns(hours, active, cy) gives the selected columns;
    `recent` = (whether the year's own row counts for the 30-day activity, how many other
    years' rows — params other_0, other_1 — are joined for it)."""
    cy = my.alias("cy")
    hours = func.coalesce(cy.c.hours, 0.0)
    others = [my.alias(f"oy{i}") for i in range(recent[1])]
    conditions = ([cy.c.last_active_at >= CUTOFF] if recent[0] else []) + \
        [row.c.last_active_at >= CUTOFF for row in others]
    active = case((or_(*conditions), 1), else_=0) if conditions else literal(0)
    source = (rg.join(m, m.c.id == rg.c.member_id).join(o, o.c.id == m.c.home_org_id) if grants
              else o.join(m, m.c.home_org_id == o.c.id))
    source = source.outerjoin(cy, and_(cy.c.member_id == m.c.id, cy.c.year == YEAR))
    for i, row in enumerate(others):
        source = source.outerjoin(row, and_(row.c.member_id == m.c.id,
                                            row.c.year == bindparam(f"other_{i}", type_=Integer)))
    where = [in_subtree(o.c.path), m.c.active == true()]
    if grants:
        where.append(rg.c.role.in_(MANAGING_ROLES))
    return select(*columns(hours, active, cy)).select_from(source).where(*where)


@cache
def member_pass(recent: tuple[bool, int], secretary_higher: bool | None, kind: bool):
    """Every member figure of a page from ONE pass over the subtree's learners: a materialized
    CTE (`each`) read by five parts, told apart by `part`:

    0. (kind, occupation, band, hours) → learners n, active in 30 days a (the grouped scan);
    1. home path → learners n, with a target a, meeting the member target b;
    2. the member list's page (params m_limit, m_offset; `kind` filters by learner kind): id,
       hours;
    3. the behind list's page (b_limit, b_offset): id, hours, last activity;
    4. the points ranking (r_limit): id, points as n.

    As five statements, each joining the learners with their counter rows again, PostgreSQL
    hashed every counter row of the academy five times; one pass is about three times faster
    there, a quarter faster on SQLite. Parameters as `_scan`, plus target_kinds,
    t_member, target_low/high, band_1..3 and cutoff."""
    party = m.c.member_kind.in_(KINDS)
    each = _scan(lambda hours, active, cy: [
        m.c.id.label("id"), o.c.path.label("path"), m.c.member_kind.label("kind"), m.c.occupation.label("occupation"),
        band(m.c.birth_year).label("band"), hours.label("hours"), cy.c.points.label("points"),
        cy.c.last_active_at.label("last"), active.label("active"),
        case((party, 1), else_=0).label("party"),
        case((behind(hours, secretary_higher), 1), else_=0).label("behind")], recent=recent) \
        .cte("each").prefix_with("MATERIALIZED")
    text, number, integer, moment = (cast(null(), t) for t in (String(), Float(), Integer(), DateTime()))

    def part(n: int, *, kind=text, occupation=text, band_=integer, hours=number, path=text, id_=integer, count=integer,
             a=integer, b=integer, last=moment):
        return [literal(n, Integer).label("part"), kind.label("kind"), occupation.label("occupation"),
                band_.label("band"), hours.label("hours"), path.label("path"), id_.label("id"), count.label("n"),
                a.label("a"), b.label("b"), last.label("last")]

    def page(where, order, limit, offset=None, **columns):
        chosen = select(each).where(*where).order_by(*order).limit(limit)
        chosen = (chosen.offset(offset) if offset is not None else chosen).subquery()
        return select(*part(**{k: (v if not isinstance(v, str) else chosen.c[v]) for k, v in columns.items()}))

    meeting = case((and_(each.c.party == 1, each.c.hours >= T_MEMBER), 1), else_=0)
    groups = (select(*part(0, kind=each.c.kind, occupation=each.c.occupation, band_=each.c.band, hours=each.c.hours,
                           count=func.count(), a=func.sum(each.c.active)))
              .group_by(each.c.kind, each.c.occupation, each.c.band, each.c.hours))
    homes = select(*part(1, path=each.c.path, count=func.count(), a=func.sum(each.c.party), b=func.sum(meeting))) \
        .group_by(each.c.path)
    listed = [each.c.kind == bindparam("kind")] if kind else []
    members = page(listed, (each.c.hours.desc(), each.c.id), bindparam("m_limit", type_=Integer),
                   bindparam("m_offset", type_=Integer), n=2, id_="id", hours="hours")
    behind_ = page([each.c.behind == 1], (each.c.hours, each.c.last.nulls_first(), each.c.id),
                   bindparam("b_limit", type_=Integer), bindparam("b_offset", type_=Integer),
                   n=3, id_="id", hours="hours", last="last")
    ranking_ = page([each.c.points > 0], (each.c.points.desc(), each.c.id), bindparam("r_limit", type_=Integer),
                    n=4, id_="id", count="points")
    return union_all(groups, homes, members, behind_, ranking_)


@cache
def secretaries(recent: tuple[bool, int]):
    """(member id, home path, kind, occupation, age band, hours, active) of the subtree's secretaries."""
    return _scan(lambda hours, active, cy: [m.c.id, o.c.path, m.c.member_kind, m.c.occupation,
                                            band(m.c.birth_year), hours, active], recent=recent, grants=True)


@cache
def members_by_id():
    """The listed learners' rows in full (params ids, year, target_kinds, t_member, t_secretary)."""
    return (select(*_full_columns()).select_from(_member_source())
            .where(m.c.id.in_(bindparam("ids", expanding=True))))


@cache
def any_counter_of_year():
    return select(my.c.member_id).where(my.c.year == YEAR).limit(1)


def target_case():
    """A learner's annual target: NULL for kinds without one, the higher one for secretaries."""
    return case((m.c.member_kind.not_in(KINDS), null()), (is_secretary(m.c.id), T_SECRETARY), else_=T_MEMBER)


def behind(hours, secretary_higher: bool | None):
    """hours < the learner's target, for learners who carry one; the grants are probed only
    between the two targets (params target_low, target_high), where being a secretary decides.
    secretary_higher None: both targets are equal."""
    party = m.c.member_kind.in_(KINDS)
    low, high = bindparam("target_low", type_=Float), bindparam("target_high", type_=Float)
    if secretary_higher is None:
        return and_(party, hours < low)
    decides = is_secretary(m.c.id) if secretary_higher else ~is_secretary(m.c.id)
    return and_(party, or_(hours < low, and_(hours < high, decides)))


def _member_source():
    return o.join(m, m.c.home_org_id == o.c.id).outerjoin(my, and_(my.c.member_id == m.c.id, my.c.year == YEAR))


def _full_columns():
    return [m.c.id.label("member_id"), m.c.name, m.c.phone, m.c.occupation, o.c.name.label("branch"),
            func.coalesce(my.c.hours, 0.0).label("hours"), func.coalesce(my.c.points, 0).label("points"),
            func.coalesce(my.c.courses_done, 0).label("courses_done"), my.c.last_active_at, m.c.member_kind,
            target_case().label("target")]


@cache
def member_list(*, behind_only: bool, secretary_higher: bool | None, kind: bool, paged: bool):
    """Learners with their year-to-date hours (params: lo, hi, year, target_kinds, t_member,
    t_secretary; kind when `kind`; target_low/high when `behind_only`; limit/offset when
    `paged`). A page is chosen by a narrow query (ids and sort keys, which the covering indexes
    serve) and only its rows are read in full; an export (not paged) is one query."""
    hours = func.coalesce(my.c.hours, 0.0)
    where = [in_subtree(o.c.path), m.c.active == true()]
    if kind:
        where.append(m.c.member_kind == bindparam("kind"))
    if behind_only:
        where.append(behind(hours, secretary_higher))

    def order(h, last, member_id):
        return (h, last.nulls_first(), member_id) if behind_only else (h.desc(), member_id)

    if not paged:
        full = select(*_full_columns()).select_from(_member_source()).where(*where)
        return full.order_by(*order(hours, my.c.last_active_at, m.c.id))
    keys = (select(m.c.id.label("member_id"), hours.label("hours"), my.c.last_active_at.label("last"))
            .select_from(_member_source()).where(*where)
            .order_by(*order(hours, my.c.last_active_at, m.c.id)).limit(LIMIT).offset(OFFSET).subquery("page"))
    return (select(*_full_columns()).select_from(_member_source().join(keys, keys.c.member_id == m.c.id))
            .order_by(*order(keys.c.hours, keys.c.last, keys.c.member_id)))


@cache
def ranking(*, kinds: bool, paged: bool):
    """积分: the subtree's learners with points, most first (params: lo, hi, year; kinds when
    `kinds`; limit when `paged`)."""
    where = [in_subtree(o.c.path), m.c.active == true(), my.c.points > 0]
    if kinds:
        where.append(m.c.member_kind.in_(bindparam("kinds", expanding=True)))
    keys = (select(m.c.id.label("member_id"), my.c.points.label("points"))
            .select_from(o.join(m, m.c.home_org_id == o.c.id)
                         .join(my, and_(my.c.member_id == m.c.id, my.c.year == YEAR)))
            .where(*where).order_by(my.c.points.desc(), m.c.id))
    keys = (keys.limit(LIMIT) if paged else keys).subquery("page")
    return (select(m.c.id.label("member_id"), m.c.name, m.c.phone, o.c.name.label("branch"), m.c.occupation,
                   m.c.member_kind, func.coalesce(my.c.hours, 0.0).label("hours"), my.c.points)
            .select_from(keys.join(m, m.c.id == keys.c.member_id).join(o, o.c.id == m.c.home_org_id)
                         .join(my, and_(my.c.member_id == m.c.id, my.c.year == YEAR)))
            .order_by(keys.c.points.desc(), keys.c.member_id))


# --- credits ---------------------------------------------------------------------------------------

def _credit_source():
    return ocm.join(o, o.c.id == ocm.c.org_id)


def _credit_period():
    return [in_subtree(o.c.path), ocm.c.year == YEAR, ocm.c.month >= MONTH_FROM, ocm.c.month <= MONTH_TO]


@cache
def credits_by_month():
    return (select(ocm.c.month, func.sum(ocm.c.course_hours), func.sum(ocm.c.completions),
                   func.sum(ocm.c.offline_hours), func.sum(ocm.c.offline))
            .select_from(_credit_source()).where(*_credit_period()).group_by(ocm.c.month))


@cache
def credits_by_org():
    """Per organization below the node (params as credits_by_month, and org_id)."""
    return (select(o.c.path, func.sum(ocm.c.course_hours), func.sum(ocm.c.completions), func.sum(ocm.c.offline_hours))
            .select_from(_credit_source()).where(*_credit_period(), o.c.id != ORG_ID).group_by(o.c.path))


@cache
def children():
    return (select(o.c.id, o.c.code, o.c.name, o.c.kind, o.c.path)
            .where(o.c.parent_id == ORG_ID, o.c.closed_at.is_(None)).order_by(o.c.code))


@cache
def course_counts(rolled_up: bool):
    """(course id, title, category, completions) in the period: from the node's own per-course
    roll-up (org_id, year, month_from, month_to) or from the subtree's completions (lo, hi,
    year, start, end)."""
    if rolled_up:
        counts = (select(scm.c.course_id, func.sum(scm.c.completions).label("n"))
                  .where(scm.c.org_id == ORG_ID, scm.c.year == YEAR, scm.c.month >= MONTH_FROM,
                         scm.c.month <= MONTH_TO).group_by(scm.c.course_id))
    else:
        counts = (select(cc.c.course_id, func.count().label("n"))
                  .where(cc.c.org_id.in_(select(o.c.id).where(in_subtree(o.c.path))), cc.c.year == YEAR,
                         cc.c.completed_at >= bindparam("start", type_=DateTime()),
                         cc.c.completed_at < bindparam("end", type_=DateTime()))
                  .group_by(cc.c.course_id))
    counts = counts.subquery("counts")
    return select(course.c.id, course.c.title, course.c.category, counts.c.n).join(
        counts, counts.c.course_id == course.c.id)


# --- required courses -------------------------------------------------------------------------------

@cache
def assignments():
    """Active assignments made on the node, an ancestor (params: ancestors) or a descendant."""
    return (select(asg.c.id, asg.c.course_id, course.c.title, course.c.category, o.c.name, o.c.path, asg.c.due_on)
            .select_from(asg.join(o, o.c.id == asg.c.org_id).join(course, course.c.id == asg.c.course_id))
            .where(asg.c.withdrawn_at.is_(None),
                   or_(o.c.path.in_(bindparam("ancestors", expanding=True)), in_subtree(o.c.path)))
            .order_by(asg.c.due_on, asg.c.id))


def _finished(member_id, course_id):
    """Any completion (any year, any source) of the course by the member; correlated with the
    enclosing statements however deep it sits."""
    return exists().where(cc.c.member_id == member_id, cc.c.course_id == course_id).correlate_except(cc)


def _scope(some_below: bool):
    """An assignment's scope node: the assigning node for assignments made below the viewed
    node (param `below`), the viewed node (org_id) for the others."""
    scope = o.alias("scope")
    scope_id = (case((asg.c.id.in_(bindparam("below", expanding=True)), asg.c.org_id), else_=ORG_ID)
                if some_below else ORG_ID)
    upper = func.substr(scope.c.path, 1, func.length(scope.c.path) - 1) + "0"
    return scope, scope_id, upper


@cache
def done(some_below: bool, probe_members: bool):
    """(assignment id, members of its scope who finished its course, any year) for the
    assignments `ids`. One correlated subquery per assignment, which both databases run with
    that assignment's own scope and course as constants (a join let PostgreSQL plan for all
    scopes at once: a scan of every completion). Either probing each member of the scope
    (`probe_members`: small scopes) or reading the course's completions (large ones)."""
    scope, scope_id, upper = _scope(some_below)
    home = o.alias("home")
    if probe_members:
        count = (select(func.count()).select_from(home.join(m, m.c.home_org_id == home.c.id))
                 .where(home.c.path >= scope.c.path, home.c.path < upper, m.c.active == true(),
                        _finished(m.c.id, asg.c.course_id)))
    else:
        # The scope test on each completion's home path, a scalar subquery evaluated once (a
        # prefix test): planned as a join, PostgreSQL drove this from the scope's members.
        home_path = (select(home.c.path).select_from(m.join(home, home.c.id == m.c.home_org_id))
                     .where(m.c.id == cc.c.member_id, m.c.active == true()).correlate_except(m, home)
                     .scalar_subquery())
        count = (select(func.count(func.distinct(cc.c.member_id)))
                 .where(cc.c.course_id == asg.c.course_id,
                        func.substr(home_path, 1, func.length(scope.c.path)) == scope.c.path))
    return (select(asg.c.id, count.correlate(asg, scope).scalar_subquery())
            .select_from(asg.join(scope, scope.c.id == scope_id))
            .where(asg.c.id.in_(bindparam("ids", expanding=True))))


@cache
def not_done(paged: bool):
    """Members of a scope (lo, hi) who have not finished a course (course_id), by branch."""
    stmt = (select(m.c.id.label("member_id"), m.c.name, m.c.phone, o.c.name.label("branch"))
            .select_from(o.join(m, m.c.home_org_id == o.c.id))
            .where(in_subtree(o.c.path), m.c.active == true(), ~_finished(m.c.id, bindparam("course_id")))
            .order_by(o.c.name, m.c.id).offset(OFFSET))
    return stmt.limit(LIMIT) if paged else stmt


# --- confirmed offline study ------------------------------------------------------------------------

def _sessions():
    return (select(sess.c.id, sess.c.held_on, sess.c.title, sess.c.kind, o.c.name.label("org"), sess.c.hours)
            .select_from(sess.join(o, o.c.id == sess.c.org_id))
            .where(in_subtree(o.c.path), sess.c.held_on >= bindparam("first_day", type_=Date()),
                   sess.c.held_on < bindparam("end_day", type_=Date())))


@cache
def offline_totals():
    held = _sessions().subquery("held")
    return (select(func.count(func.distinct(held.c.id)), func.count(att.c.id))
            .select_from(held.outerjoin(att, att.c.session_id == held.c.id)))


@cache
def offline_sessions(paged: bool):
    attendees = (select(func.count()).where(att.c.session_id == sess.c.id).correlate(sess).scalar_subquery())
    stmt = (_sessions().add_columns(attendees.label("attendees"))
            .order_by(sess.c.held_on.desc(), sess.c.id.desc()).offset(OFFSET))
    return stmt.limit(LIMIT) if paged else stmt
