"""Roll-ups of the 学时 credits for the dashboards, kept in the same transaction as the credits.

- OrgCreditMonth: per organization (the branch a credit was earned in) and local month, the
  course hours, completions, offline hours and attendances. Keyed by organization id, so a
  transfer (credits stay where they were earned) and a subtree move (paths change, ids do not)
  leave it valid.
- SubtreeCourseMonth: per node near the top of the tree (depth ≤ ROLLUP_DEPTH) and local
  month, the completions of each course anywhere in its subtree. A move changes which of these
  nodes lie above a subtree: `subtree_moved` shifts the subtree's completions from the nodes it
  left to the nodes it joined.

Writers call `add_course_credit` / `add_offline_credit`; the changes are collected on the
session and written just before COMMIT, all at once and sorted by key. Every transaction thus
takes the roll-up rows' locks last and in one global order, so two transactions crediting the
same courses in a different order cannot deadlock on PostgreSQL (the sums commute, so the order
does not change the values). The one consequence: a read in the same transaction, before its
commit, does not see that transaction's credits in the roll-ups.

`expected_rows` recomputes both tables from the credits (`hongfan stats reconcile`)."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Integer, cast, delete, event, extract, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from learning.extensions import db
from learning.meetings.models import OfflineAttendance, OfflineSession
from learning.orgs.models import Organization
from learning.study.models import CourseCompletion, OrgCreditMonth, SubtreeCourseMonth
from learning.timeutil import academy_zone, to_local

# The levels that carry a per-course roll-up of their whole subtree: 0 = the academy, 1 = the
# district / industry committees under it. Deeper subtrees hold few enough completions that
# reading them through the covering index is as fast as reading a roll-up would be. After
# changing it, `hongfan stats reconcile --fix` rebuilds the rows.
ROLLUP_DEPTH = 1

_PENDING = "hongfan_rollups"

CreditKey = tuple[int, int, int]  # org id, year, month
CourseKey = tuple[int, int, int, int]  # org id, year, month, course id


@dataclass
class Pending:
    credits: dict[CreditKey, list] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0, 0.0, 0]))
    courses: Counter = field(default_factory=Counter)  # keyed by the credited org, resolved at commit


def _pending(session: Session | None = None) -> Pending:
    info = (session or db.session).info
    if _PENDING not in info:
        info[_PENDING] = Pending()
    return info[_PENDING]


def path_ids(path: str) -> list[int]:
    """'/1/7/42/' → [1, 7, 42]: the node's ancestors from the root, then the node."""
    return [int(part) for part in path.strip("/").split("/") if part]


def depth_of(path: str) -> int:
    return len(path_ids(path)) - 1


def rolled_up(path: str) -> bool:
    """Whether the node at `path` carries SubtreeCourseMonth rows."""
    return depth_of(path) <= ROLLUP_DEPTH


# --- writers -------------------------------------------------------------------------------------

def add_course_credit(org_id: int, at: datetime, course_id: int, hours: float) -> None:
    """A course completion credited to org_id at the naive-UTC moment `at`."""
    local = to_local(at)
    row = _pending().credits[(org_id, local.year, local.month)]
    row[0] += hours
    row[1] += 1
    _pending().courses[(org_id, local.year, local.month, course_id)] += 1


def add_offline_credit(org_id: int, held_on: date, hours: float) -> None:
    """A confirmed attendance of an offline session held on `held_on` (a local date)."""
    row = _pending().credits[(org_id, held_on.year, held_on.month)]
    row[2] += hours
    row[3] += 1


def _insert(session: Session, table):
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)


def _add_credits(session: Session, rows: list[dict]) -> None:
    table = OrgCreditMonth.__table__
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["org_id", "year", "month"],
        set_={c: table.c[c] + stmt.excluded[c] for c in ("course_hours", "completions", "offline_hours", "offline")})
    session.execute(stmt, rows)


def _add_courses(session: Session, deltas: dict[CourseKey, int]) -> None:
    if not deltas:
        return
    table = SubtreeCourseMonth.__table__
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(index_elements=["org_id", "year", "month", "course_id"],
                                      set_={"completions": table.c.completions + stmt.excluded.completions})
    session.execute(stmt, [{"org_id": o, "year": y, "month": m, "course_id": c, "completions": n}
                           for (o, y, m, c), n in sorted(deltas.items())])


def write_pending(session: Session) -> None:
    pending: Pending | None = session.info.pop(_PENDING, None)
    if pending is None or not (pending.credits or pending.courses):
        return
    paths: dict[int, str] = {}
    if pending.courses:
        # FOR SHARE: a concurrent move of one of these branches (which rewrites their paths
        # and shifts roll-ups) either finished before this read or waits for this commit.
        paths = dict(session.execute(
            select(Organization.id, Organization.path)
            .where(Organization.id.in_(sorted({key[0] for key in pending.courses})))
            .with_for_update(read=True)).all())
    if pending.credits:
        _add_credits(session, [
            {"org_id": o, "year": y, "month": m, "course_hours": round(v[0], 6), "completions": v[1],
             "offline_hours": round(v[2], 6), "offline": v[3]}
            for (o, y, m), v in sorted(pending.credits.items())])
    nodes: Counter = Counter()
    for (org_id, year, month, course_id), n in pending.courses.items():
        for node in path_ids(paths[org_id])[:ROLLUP_DEPTH + 1]:
            nodes[(node, year, month, course_id)] += n
    _add_courses(session, nodes)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    write_pending(session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:  # the whole transaction ended: rolled back, or written above
        session.info.pop(_PENDING, None)


# --- months in SQL --------------------------------------------------------------------------------

def month_starts(year: int) -> list[datetime]:
    """The naive-UTC moments at which local months 2..12 of `year` begin."""
    zone = academy_zone()
    out = []
    for month in range(2, 13):
        local = datetime(year, month, 1, tzinfo=zone)
        out.append((local - local.utcoffset()).replace(tzinfo=None))
    return out


def local_month(column, year: int):
    """The local calendar month of a naive-UTC moment known to lie in local `year`: 1 + the
    number of month starts it has passed (plain comparisons, no per-row time-zone arithmetic)."""
    expr = literal(1)
    for start in month_starts(year):
        expr = expr + cast(column >= start, Integer)
    return expr


# --- recomputation ----------------------------------------------------------------------------------

def _years(where) -> list[int]:
    return list(db.session.scalars(select(CourseCompletion.year).where(*where).distinct()))


def course_counts(subtree_path: str) -> Counter:
    """(year, month, course id) → completions credited anywhere in the subtree at `subtree_path`."""
    orgs = select(Organization.id).where(Organization.path >= subtree_path,
                                         Organization.path < subtree_path[:-1] + "0")
    counts: Counter = Counter()
    for year in _years([CourseCompletion.org_id.in_(orgs)]):
        month = local_month(CourseCompletion.completed_at, year)
        for m, course_id, n in db.session.execute(
                select(month, CourseCompletion.course_id, func.count())
                .where(CourseCompletion.org_id.in_(orgs), CourseCompletion.year == year)
                .group_by(month, CourseCompletion.course_id)):
            counts[(year, m, course_id)] += n
    return counts


def expected_rows() -> tuple[dict[CreditKey, tuple[float, int, float, int]], dict[CourseKey, int]]:
    """Both roll-ups recomputed from the credits, as {key: values} (absent key = zero row)."""
    credits: dict[CreditKey, list] = defaultdict(lambda: [0.0, 0, 0.0, 0])
    for year in _years([]):
        month = local_month(CourseCompletion.completed_at, year)
        for org_id, m, hours, n in db.session.execute(
                select(CourseCompletion.org_id, month, func.sum(CourseCompletion.hours), func.count())
                .where(CourseCompletion.year == year).group_by(CourseCompletion.org_id, month)):
            credits[(org_id, year, m)][0] += hours
            credits[(org_id, year, m)][1] += n
    held = extract("month", OfflineSession.held_on)
    for org_id, year, m, hours, n in db.session.execute(
            select(OfflineAttendance.org_id, OfflineAttendance.year, held, func.sum(OfflineAttendance.hours),
                   func.count())
            .join(OfflineSession, OfflineSession.id == OfflineAttendance.session_id)
            .group_by(OfflineAttendance.org_id, OfflineAttendance.year, held)):
        credits[(org_id, year, int(m))][2] += hours
        credits[(org_id, year, int(m))][3] += n
    courses: dict[CourseKey, int] = {}
    for node_id, path in db.session.execute(select(Organization.id, Organization.path)):
        if rolled_up(path):
            for (year, m, course_id), n in course_counts(path).items():
                courses[(node_id, year, m, course_id)] = n
    return ({k: (round(v[0], 2), v[1], round(v[2], 2), v[3]) for k, v in credits.items()}, courses)


def stored_rows() -> tuple[dict[CreditKey, tuple[float, int, float, int]], dict[CourseKey, int]]:
    credits = {(r.org_id, r.year, r.month): (round(r.course_hours, 2), r.completions, round(r.offline_hours, 2),
                                             r.offline)
               for r in db.session.execute(select(OrgCreditMonth.__table__))
               if (r.course_hours, r.completions, r.offline_hours, r.offline) != (0, 0, 0, 0)}
    courses = {(r.org_id, r.year, r.month, r.course_id): r.completions
               for r in db.session.execute(select(SubtreeCourseMonth.__table__)) if r.completions}
    return credits, courses


def replace_all(credits: dict[CreditKey, tuple], courses: dict[CourseKey, int]) -> None:
    """Set both roll-ups to the given rows (the repair of `hongfan stats reconcile --fix`)."""
    db.session.execute(delete(OrgCreditMonth))
    db.session.execute(delete(SubtreeCourseMonth))
    if credits:
        db.session.execute(OrgCreditMonth.__table__.insert(), [
            {"org_id": o, "year": y, "month": m, "course_hours": v[0], "completions": v[1], "offline_hours": v[2],
             "offline": v[3]} for (o, y, m), v in sorted(credits.items())])
    if courses:
        db.session.execute(SubtreeCourseMonth.__table__.insert(), [
            {"org_id": o, "year": y, "month": m, "course_id": c, "completions": n}
            for (o, y, m, c), n in sorted(courses.items())])
    db.session.flush()


# --- subtree moves ------------------------------------------------------------------------------

def subtree_moved(old_path: str, new_path: str) -> None:
    """Called after a move rewrote a subtree's paths from old_path to new_path (same
    transaction): the nodes at depth ≤ ROLLUP_DEPTH the subtree left lose its completions, those
    it joined gain them, and nodes inside it that enter or leave those levels are rebuilt."""
    old_above, new_above = path_ids(old_path)[:-1], path_ids(new_path)[:-1]
    lost = [n for n in old_above[:ROLLUP_DEPTH + 1] if n not in new_above]
    gained = [n for n in new_above[:ROLLUP_DEPTH + 1] if n not in old_above]
    shift = depth_of(new_path) - depth_of(old_path)
    inside = [(node_id, path) for node_id, path in db.session.execute(
        select(Organization.id, Organization.path)
        .where(Organization.path >= new_path, Organization.path < new_path[:-1] + "0"))
        if rolled_up(path) or depth_of(path) - shift <= ROLLUP_DEPTH]
    if not (lost or gained or inside):
        return
    db.session.flush()
    deltas: Counter = Counter()
    if lost or gained:
        for (year, month, course_id), n in course_counts(new_path).items():
            for node in lost:
                deltas[(node, year, month, course_id)] -= n
            for node in gained:
                deltas[(node, year, month, course_id)] += n
    if inside:
        db.session.execute(delete(SubtreeCourseMonth).where(SubtreeCourseMonth.org_id.in_([i for i, _ in inside])))
        for node_id, path in inside:
            if rolled_up(path):
                for (year, month, course_id), n in course_counts(path).items():
                    deltas[(node_id, year, month, course_id)] += n
    _add_courses(db.session, {k: n for k, n in deltas.items() if n})
    if lost:
        db.session.execute(delete(SubtreeCourseMonth).where(SubtreeCourseMonth.org_id.in_(lost),
                                                            SubtreeCourseMonth.completions == 0))
