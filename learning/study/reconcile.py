"""`hongfan stats reconcile`: recompute the MemberYear counters and the dashboards' roll-ups
(learning/study/rollups.py) from the raw rows and report (or, with --fix, repair) every
difference.

The raw rows: course completions (学时, courses done), confirmed offline attendances (学时),
the 积分 ledger (points), and the study event log with the completions (last activity)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from learning.database import write_transactions
from learning.extensions import db
from learning.meetings.models import OfflineAttendance
from learning.study import rollups
from learning.study.counters import member_year
from learning.study.models import CourseCompletion, MemberYear, PointsEntry, StudyEvent
from learning.timeutil import academy_zone, local_year

Key = tuple[int, int]  # member id, year


@dataclass
class Counters:
    hours: float = 0.0
    points: int = 0
    courses_done: int = 0
    last_active_at: datetime | None = None


@dataclass(frozen=True)
class Difference:
    member_id: int
    year: int
    field: str
    stored: object
    expected: object

    def __str__(self) -> str:
        return f"member {self.member_id} year {self.year}: {self.field} stored {self.stored!r}, " \
               f"recomputed {self.expected!r}"


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None or (b is not None and b > a) else a


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The local calendar year as a naive-UTC half-open interval (how moments are stored)."""
    zone = academy_zone()

    def start(y: int) -> datetime:
        return datetime(y, 1, 1, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)

    return start(year), start(year + 1)


def recompute() -> dict[Key, Counters]:
    expected: dict[Key, Counters] = defaultdict(Counters)
    for member_id, year, hours, count, last in db.session.execute(
            select(CourseCompletion.member_id, CourseCompletion.year, func.sum(CourseCompletion.hours),
                   func.count(), func.max(CourseCompletion.completed_at))
            .group_by(CourseCompletion.member_id, CourseCompletion.year)):
        row = expected[(member_id, year)]
        row.hours += hours
        row.courses_done = count
        row.last_active_at = _later(row.last_active_at, last)
    for member_id, year, hours in db.session.execute(
            select(OfflineAttendance.member_id, OfflineAttendance.year, func.sum(OfflineAttendance.hours))
            .group_by(OfflineAttendance.member_id, OfflineAttendance.year)):
        expected[(member_id, year)].hours += hours
    for member_id, year, points in db.session.execute(
            select(PointsEntry.member_id, PointsEntry.year, func.sum(PointsEntry.points))
            .group_by(PointsEntry.member_id, PointsEntry.year)):
        expected[(member_id, year)].points = int(points)
    first, last = db.session.execute(select(func.min(StudyEvent.occurred_at), func.max(StudyEvent.occurred_at))).one()
    if first is not None:
        for year in range(local_year(first), local_year(last) + 1):
            start, end = year_bounds(year)
            for member_id, moment in db.session.execute(
                    select(StudyEvent.member_id, func.max(StudyEvent.occurred_at))
                    .where(StudyEvent.occurred_at >= start, StudyEvent.occurred_at < end)
                    .group_by(StudyEvent.member_id)):
                row = expected[(member_id, year)]
                row.last_active_at = _later(row.last_active_at, moment)
    for row in expected.values():
        row.hours = round(row.hours, 2)
    return dict(expected)


def differences() -> list[Difference]:
    expected = recompute()
    stored = {(r.member_id, r.year): Counters(r.hours, r.points, r.courses_done, r.last_active_at)
              for r in db.session.scalars(select(MemberYear))}
    found = []
    for key in sorted(expected.keys() | stored.keys()):
        have, want = stored.get(key, Counters()), expected.get(key, Counters())
        for field in fields(Counters):
            a, b = getattr(have, field.name), getattr(want, field.name)
            same = abs(a - b) < 0.005 if field.name == "hours" else a == b
            if not same:
                found.append(Difference(key[0], key[1], field.name, a, b))
    return found


@dataclass(frozen=True)
class RollupDifference:
    table: str
    key: tuple
    stored: object
    expected: object

    def __str__(self) -> str:
        return f"{self.table} {self.key}: stored {self.stored!r}, recomputed {self.expected!r}"


def _same(a, b) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return all(_same(x, y) for x, y in zip(a, b))
    return abs(a - b) < 0.005 if isinstance(a, float) or isinstance(b, float) else a == b


def rollup_differences(expected=None) -> list[RollupDifference]:
    """Roll-up rows that differ from their recomputation (a missing row counts as zeros)."""
    want = expected or rollups.expected_rows()
    have = rollups.stored_rows()
    found = []
    for name, stored, wanted, zero in (("org_credit_month", have[0], want[0], (0.0, 0, 0.0, 0)),
                                       ("subtree_course_month", have[1], want[1], 0)):
        for key in sorted(stored.keys() | wanted.keys()):
            a, b = stored.get(key, zero), wanted.get(key, zero)
            if not _same(a, b):
                found.append(RollupDifference(name, key, a, b))
    return found


def repair(found: list[Difference]) -> None:
    for diff in found:
        setattr(member_year(diff.member_id, diff.year), diff.field, diff.expected)
    db.session.flush()


@click.command("reconcile")
@click.option("--fix", is_flag=True, help="Set the counters and roll-ups to the recomputed values.")
@with_appcontext
def reconcile_command(fix: bool) -> None:
    """Recompute hours, points, courses done and last activity per member and year, and the
    dashboards' monthly roll-ups, from the raw rows; list every difference. Exit 1 when there
    are differences and --fix was not given."""
    with write_transactions():
        found = differences()
        expected = rollups.expected_rows()
        off = rollup_differences(expected)
        for diff in [*found, *off]:
            click.echo(str(diff))
        if not found and not off:
            click.echo("counters reconcile: no differences")
            click.echo("roll-ups reconcile: no differences")
            return
        if not fix:
            click.echo(f"{len(found) + len(off)} difference(s); run with --fix to repair", err=True)
            raise SystemExit(1)
        repair(found)
        if off:
            rollups.replace_all(*expected)
        db.session.commit()
        click.echo(f"repaired {len(found) + len(off)} difference(s)")
