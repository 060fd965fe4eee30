"""Page versions kept with the writes that change what a member's pages show.

Every ORM session is watched: a flushed or executed change of a row that belongs to a member
(it has a ``member_id``, or it is the member) marks that member; a change of any other row
marks everyone, unless its table can never change a member's page (the audit log, the forum's
posts, the statistics' roll-ups, a stored plan, which is derived from the marked rows). Just
before the transaction commits, ``member.page_version`` of the marked members, or the single
``page_epoch`` row, is incremented in the same transaction: a version and the data it stands for
become visible together. A cached page (learning/pagecache/__init__.py) is served only while
both versions are those it was rendered under.

Unknown tables mark everyone: a change nobody thought of costs cache misses, never a stale page.
A statement whose rows cannot be told from its text (``update(…).where(…)`` on a member's table)
may name its members with ``.execution_options(hongfan_members=[…])``; otherwise it marks
everyone."""
from __future__ import annotations

from sqlalchemy import event, update
from sqlalchemy.orm import ORMExecuteState, Session

MARKED = "hongfan_page_members"  # session.info key: member ids, or EVERYONE among them
EVERYONE = 0  # member ids start at 1

# Tables whose rows no member's page shows (or shows only through rows that are marked).
UNSEEN = frozenset({
    "audit_event", "login_throttle", "learning_plan", "plan_item", "org_credit_month", "subtree_course_month",
    "discussion", "discussion_post", "discussion_like", "discussion_report", "discussion_moderation",
    "discussion_held_word", "discussion_mention", "invitation", "station", "station_item", "station_org",
    "redemption_line", "api_token", "reflection", "join_request", "activation_code", "page_epoch",
    "points_rule",  # shown on the points pages; what it awards reaches a page through marked rows
})


def _mark(session: Session, ids) -> None:
    session.info.setdefault(MARKED, set()).update(ids)


def _owners(obj) -> list[int]:
    table = getattr(obj, "__tablename__", None)
    if table in UNSEEN:
        return []
    if table == "member":
        return [obj.id] if obj.id is not None else []
    member_id = getattr(obj, "member_id", None)
    if member_id is not None:
        return [member_id]
    return [EVERYONE]


def _after_flush(session: Session, _context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        _mark(session, _owners(obj))


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name in UNSEEN:
        return
    named = state.execution_options.get("hongfan_members")
    if named is not None:
        _mark(state.session, named)
        return
    if state.is_insert and table is not None and "member_id" in table.c:
        rows = state.parameters if isinstance(state.parameters, list) else [state.parameters or {}]
        values = [row.get("member_id") for row in rows] if rows else [None]
        if values and all(v is not None for v in values):
            _mark(state.session, values)
            return
    _mark(state.session, [EVERYONE])


# More members than this in one transaction (a roster import, a large meeting) bump the epoch
# instead: one row written rather than a long IN list.
MAX_MARKED = 2000


def _before_commit(session: Session) -> None:
    session.flush()  # the last changes mark their members too
    marked = session.info.pop(MARKED, None)
    if not marked:
        return
    from learning.orgs.models import Member
    from learning.pagecache.models import PageEpoch

    connection = session.connection()  # Core: no ORM events, no recursion
    if EVERYONE in marked or len(marked) > MAX_MARKED:
        connection.execute(update(PageEpoch.__table__).values(version=PageEpoch.__table__.c.version + 1))
    else:
        # in id order, so two transactions marking the same members cannot deadlock
        connection.execute(update(Member.__table__).where(Member.__table__.c.id.in_(sorted(marked)))
                           .values(page_version=Member.__table__.c.page_version + 1))


def _forget(session: Session, transaction) -> None:
    """A transaction that ends without committing takes its marks with it; a savepoint's end
    does not (what the outer transaction changed before it still counts)."""
    if transaction.parent is None:
        session.info.pop(MARKED, None)


def watch() -> None:
    """Listen on every ORM session (Flask-SQLAlchemy's and the short ones the app opens)."""
    if event.contains(Session, "after_flush", _after_flush):
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _on_execute)
    # first among the before-commit listeners: the version rows are locked before the
    # statistics' roll-ups (learning/study/rollups.py), as the ingestion of events locks the
    # member before anything else — the same order everywhere, so no deadlock on PostgreSQL
    event.listen(Session, "before_commit", _before_commit, insert=True)
    event.listen(Session, "after_transaction_end", _forget)
