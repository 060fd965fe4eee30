"""statistics roll-ups (credits per branch and month, courses per top-level subtree and month),
a covering index for member scans, member_year clustered on SQLite; backfilled from the credits

Revision ID: 67b908aa60fe
Revises: 5c1d0a3e9b27
Create Date: 2026-11-25 00:10:00

"""
from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '67b908aa60fe'
down_revision = '5c1d0a3e9b27'
branch_labels = None
depends_on = None

# learning/study/rollups.py ROLLUP_DEPTH when this revision was written (the backfill must not
# follow later changes of the code; `hongfan stats reconcile --fix` rebuilds for the current one).
ROLLUP_DEPTH = 1


def _zone() -> ZoneInfo:
    try:
        from flask import current_app

        return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    except RuntimeError:  # alembic run without the app
        return ZoneInfo("Asia/Shanghai")


def _month_starts(year: int, zone: ZoneInfo) -> list[datetime]:
    out = []
    for month in range(2, 13):
        local = datetime(year, month, 1, tzinfo=zone)
        out.append((local - local.utcoffset()).replace(tzinfo=None))
    return out


def _backfill() -> None:
    """Both roll-ups from the credits: completions by (org, local month) and by (top-level
    subtree, local month, course); confirmed attendances by (org, month held)."""
    bind = op.get_bind()
    zone = _zone()
    completion = sa.table("course_completion", sa.column("org_id", sa.Integer), sa.column("course_id", sa.Integer),
                          sa.column("year", sa.Integer), sa.column("completed_at", sa.DateTime),
                          sa.column("hours", sa.Float))
    organization = sa.table("organization", sa.column("id", sa.Integer), sa.column("path", sa.String))
    attendance = sa.table("offline_attendance", sa.column("session_id", sa.Integer), sa.column("org_id", sa.Integer),
                          sa.column("year", sa.Integer), sa.column("hours", sa.Float))
    session = sa.table("offline_session", sa.column("id", sa.Integer), sa.column("held_on", sa.Date))
    credits = defaultdict(lambda: [0.0, 0, 0.0, 0])
    courses = {}
    nodes = [(node_id, path) for node_id, path in bind.execute(sa.select(organization.c.id, organization.c.path))
             if len([p for p in path.split("/") if p]) <= ROLLUP_DEPTH + 1]
    for year in bind.execute(sa.select(completion.c.year).distinct()).scalars().all():
        month = sa.literal(1)
        for start in _month_starts(year, zone):
            month = month + sa.cast(completion.c.completed_at >= start, sa.Integer)
        for org_id, m, hours, n in bind.execute(
                sa.select(completion.c.org_id, month, sa.func.sum(completion.c.hours), sa.func.count())
                .where(completion.c.year == year).group_by(completion.c.org_id, month)):
            credits[(org_id, year, m)][0] += hours
            credits[(org_id, year, m)][1] += n
        for node_id, path in nodes:
            inside = sa.select(organization.c.id).where(organization.c.path >= path,
                                                        organization.c.path < path[:-1] + "0")
            for m, course_id, n in bind.execute(
                    sa.select(month, completion.c.course_id, sa.func.count())
                    .where(completion.c.year == year, completion.c.org_id.in_(inside))
                    .group_by(month, completion.c.course_id)):
                courses[(node_id, year, m, course_id)] = n
    held = sa.extract("month", session.c.held_on)
    for org_id, year, m, hours, n in bind.execute(
            sa.select(attendance.c.org_id, attendance.c.year, held, sa.func.sum(attendance.c.hours), sa.func.count())
            .join(session, session.c.id == attendance.c.session_id)
            .group_by(attendance.c.org_id, attendance.c.year, held)):
        credits[(org_id, year, int(m))][2] += hours
        credits[(org_id, year, int(m))][3] += n
    if credits:
        op.bulk_insert(sa.table("org_credit_month", sa.column("org_id"), sa.column("year"), sa.column("month"),
                                sa.column("course_hours"), sa.column("completions"), sa.column("offline_hours"),
                                sa.column("offline")),
                       [{"org_id": o, "year": y, "month": m, "course_hours": v[0], "completions": v[1],
                         "offline_hours": v[2], "offline": v[3]} for (o, y, m), v in sorted(credits.items())])
    if courses:
        op.bulk_insert(sa.table("subtree_course_month", sa.column("org_id"), sa.column("year"), sa.column("month"),
                                sa.column("course_id"), sa.column("completions")),
                       [{"org_id": o, "year": y, "month": m, "course_id": c, "completions": n}
                        for (o, y, m, c), n in sorted(courses.items())])


def upgrade():
    op.create_table('org_credit_month',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('course_hours', sa.Float(), nullable=False),
    sa.Column('completions', sa.Integer(), nullable=False),
    sa.Column('offline_hours', sa.Float(), nullable=False),
    sa.Column('offline', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('org_id', 'year', 'month'),
    sqlite_with_rowid=False
    )
    op.create_table('subtree_course_month',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('completions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('org_id', 'year', 'month', 'course_id'),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index('ix_member_home_org_id')
        batch_op.create_index('ix_member_home_org_cover', ['home_org_id', 'active', 'member_kind', 'occupation',
                                                           'birth_year'], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('member_year', recreate='always',
                                  table_kwargs={"sqlite_with_rowid": False}) as batch_op:
            pass
    _backfill()


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('member_year', recreate='always') as batch_op:
            pass
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index('ix_member_home_org_cover')
        batch_op.create_index('ix_member_home_org_id', ['home_org_id'], unique=False)
    op.drop_table('subtree_course_month')
    op.drop_table('org_credit_month')
