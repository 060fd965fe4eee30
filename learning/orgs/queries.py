"""Reads about organizations and members, with authorization written twice on purpose: a
predicate for one object and a query filter for lists, so detail and list pages agree."""
from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true

from learning.extensions import db
from learning.orgs.models import Member, Organization, OrgMembership, Role

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
