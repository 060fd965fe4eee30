"""forum boards and course discussions exist before anyone reads them

The forum used to create its boards and each course's discussion on first view, inside GET
requests. Reads now create nothing (tests/test_get_is_safe.py): the boards are seeded here,
every existing course gets its discussion here, and a new course gets one when it is imported.
Data only; no schema change.

Revision ID: 5c1d0a3e9b27
Revises: 9ee258e269da
Create Date: 2026-11-24 23:30:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1d0a3e9b27'
down_revision = '9ee258e269da'
branch_labels = None
depends_on = None

# learning/community/queries.py BOARDS: the keys are stored, the titles translated at display
BOARD_KEYS = ('study', 'experience', 'service')

discussion = sa.table('discussion', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                      sa.column('board_key', sa.String), sa.column('course_id', sa.Integer),
                      sa.column('created_at', sa.DateTime))
course = sa.table('course', sa.column('id', sa.Integer))


def upgrade():
    bind = op.get_bind()
    now = datetime.now(timezone.utc).replace(tzinfo=None)  # the app stores naive UTC
    present = set(bind.execute(sa.select(discussion.c.board_key).where(discussion.c.kind == 'board')).scalars())
    missing = [{'kind': 'board', 'board_key': key, 'created_at': now} for key in BOARD_KEYS if key not in present]
    if missing:
        op.bulk_insert(discussion, missing)
    opened = sa.select(discussion.c.course_id).where(discussion.c.course_id.is_not(None))
    courses = bind.execute(sa.select(course.c.id).where(course.c.id.not_in(opened)).order_by(course.c.id)).scalars()
    rows = [{'kind': 'course', 'course_id': course_id, 'created_at': now} for course_id in courses]
    if rows:
        op.bulk_insert(discussion, rows)


def downgrade():
    # The rows may hold posts by now; an empty discussion is harmless to keep.
    pass
