"""Reads about organizations and members, with authorization written twice on purpose: a
predicate for one object and a query filter for lists, so detail and list pages agree."""
from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select, true

from learning.extensions import db
from learning.orgs.models import Member, Organization, OrgMembership, Role, Transfer

MANAGING_ROLES = (Role.SECRETARY, Role.ORG_ADMIN)


def subtree_condition(path_column, path: str) -> ColumnElement[bool]:
    """Paths under `path` (inclusive) as a range, which an ordinary index serves on SQLite
    and PostgreSQL alike: every descendant path starts with `path`, i.e. lies in
    [path, path with its final '/' bumped to '0')."""
    return and_(path_column >= path, path_column < path[:-1] + "0")


def is_admin(actor: Member | None) -> bool:
    return actor is not None and any(g.role == Role.ACADEMY_ADMIN for g in actor.roles)


def managed_paths(actor: Member | None) -> list[str]:
    """Roots of the subtrees the actor manages as secretary or organization administrator."""
    if actor is None:
        return []
    paths = sorted(g.org.path for g in actor.roles if g.role in MANAGING_ROLES)
    # Drop nested roots: a committee secretary who also leads one of its branches.
    roots: list[str] = []
    for path in paths:
        if not any(path.startswith(root) for root in roots):
            roots.append(path)
    return roots


def is_manager(actor: Member | None) -> bool:
    return is_admin(actor) or bool(managed_paths(actor))


def _org_filter(actor: Member | None, path_column) -> ColumnElement[bool]:
    if is_admin(actor):
        return true()
    roots = managed_paths(actor)
    if not roots:
        return false()
    return or_(*(subtree_condition(path_column, root) for root in roots))


# --- organizations -------------------------------------------------------------------------

def orgs_visible_to(actor: Member | None) -> Select[tuple[Organization]]:
    return select(Organization).where(_org_filter(actor, Organization.path))


def can_view_org(actor: Member | None, org: Organization) -> bool:
    return is_admin(actor) or any(org.path.startswith(root) for root in managed_paths(actor))


# --- members -------------------------------------------------------------------------------

def members_visible_to(actor: Member | None) -> Select[tuple[Member]]:
    """Members whose home branch lies in a managed subtree, or who take part in an activity
    branch there; a member always sees themself."""
    if actor is None:
        return select(Member).where(false())
    home = Organization.path
    activity_orgs = select(Organization.id).where(_org_filter(actor, Organization.path))
    activity = exists().where(
        OrgMembership.member_id == Member.id,
        OrgMembership.kind == "activity",
        OrgMembership.until.is_(None),
        OrgMembership.org_id.in_(activity_orgs),
    )
    return (
        select(Member)
        .join(Organization, Member.home_org_id == Organization.id)
        .where(or_(Member.id == actor.id, _org_filter(actor, home), activity))
    )


def can_view_member(actor: Member | None, member: Member) -> bool:
    if actor is None:
        return False
    if actor.id == member.id or is_admin(actor):
        return True
    roots = managed_paths(actor)
    if any(member.home_org.path.startswith(root) for root in roots):
        return True
    if not roots:
        return False
    activity_paths = db.session.scalars(
        select(Organization.path)
        .join(OrgMembership, OrgMembership.org_id == Organization.id)
        .where(OrgMembership.member_id == member.id, OrgMembership.kind == "activity",
               OrgMembership.until.is_(None))
    )
    return any(path.startswith(root) for path in activity_paths for root in roots)


def can_issue_code(actor: Member | None, member: Member) -> bool:
    """May hand the member a fresh one-time activation code (first login, or a forgotten
    password): the secretaries of the member's home subtree and administrators, never for
    oneself. A member who holds a role gets codes only from an administrator, so a secretary
    cannot take over an account with more rights than their own."""
    if actor is None or actor.id == member.id or not member.active:
        return False
    if is_admin(actor):
        return True
    if member.roles:
        return False
    return any(member.home_org.path.startswith(root) for root in managed_paths(actor))


def members_of_subtree(org: Organization) -> Select[tuple[Member]]:
    """Active members whose home branch lies in org's subtree."""
    return (
        select(Member)
        .join(Organization, Member.home_org_id == Organization.id)
        .where(subtree_condition(Organization.path, org.path), Member.active.is_(True))
    )


def children_of(org: Organization) -> Select[tuple[Organization]]:
    return select(Organization).where(Organization.parent_id == org.id, Organization.closed_at.is_(None)).order_by(Organization.code)


def primary_org(actor: Member) -> Organization | None:
    """The highest node the actor manages (what their dashboard opens on)."""
    grants = [g for g in actor.roles if g.role in MANAGING_ROLES or g.role == Role.ACADEMY_ADMIN]
    if not grants:
        return None
    return min((g.org for g in grants), key=lambda o: o.depth)


def org_by_code(code: str) -> Organization | None:
    return db.session.scalar(select(Organization).where(Organization.code == code))


def can_manage_org(actor: Member | None, org: Organization) -> bool:
    """May rename, move or close the node: administrators anywhere; secretaries and
    organization administrators only strictly inside their subtree (never their own root,
    which belongs to the level above)."""
    return is_admin(actor) or any(org.path.startswith(root) and org.path != root
                                  for root in managed_paths(actor))


def can_add_child(actor: Member | None, parent: Organization) -> bool:
    return parent.kind != "branch" and parent.closed_at is None and can_view_org(actor, parent)


def parent_choices(actor: Member | None) -> list[Organization]:
    """Open non-branch nodes the actor may put a node under."""
    return list(db.session.scalars(
        orgs_visible_to(actor).where(Organization.kind != "branch", Organization.closed_at.is_(None))
        .order_by(Organization.path)))


def branch_choices(actor: Member | None) -> list[Organization]:
    return list(db.session.scalars(
        orgs_visible_to(actor).where(Organization.kind == "branch", Organization.closed_at.is_(None))
        .order_by(Organization.code)))


def open_branches() -> Select[tuple[Organization]]:
    return select(Organization).where(Organization.kind == "branch", Organization.closed_at.is_(None)) \
        .order_by(Organization.code)


def transfers_for(actor: Member | None, direction: str) -> Select[tuple[Transfer]]:
    """Transfers into ('incoming') or out of ('outgoing') the actor's subtrees, newest first."""
    column = Transfer.to_org_id if direction == "incoming" else Transfer.from_org_id
    return (select(Transfer).join(Organization, Organization.id == column)
            .where(_org_filter(actor, Organization.path))
            .order_by(Transfer.requested_at.desc(), Transfer.id.desc()))


def can_decide_transfer(actor: Member | None, transfer: Transfer) -> bool:
    """The receiving side approves."""
    return can_view_org(actor, transfer.to_org)


def subtree_year_hours(org: Organization, year: int) -> float:
    """学时 earned in the subtree in a year through courses, by the branch each completion was
    earned in (a member who transferred mid-year counts on both sides, each for its own part):
    read from the monthly roll-up per branch, not from the completions."""
    from learning.study.models import OrgCreditMonth

    return round(float(db.session.scalar(
        select(func.coalesce(func.sum(OrgCreditMonth.course_hours), 0.0))
        .join(Organization, Organization.id == OrgCreditMonth.org_id)
        .where(subtree_condition(Organization.path, org.path), OrgCreditMonth.year == year)) or 0.0), 2)
