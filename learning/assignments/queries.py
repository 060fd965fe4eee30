"""Reads about required-course assignments."""
from __future__ import annotations

from sqlalchemy import Select, select

from learning.assignments.models import Assignment
from learning.orgs.models import Member, Organization
from learning.orgs.queries import subtree_condition


def ancestor_paths(path: str) -> list[str]:
    """'/1/7/42/' → ['/1/', '/1/7/', '/1/7/42/']: the node and every node above it."""
    ids = [part for part in path.strip("/").split("/") if part]
    return ["/" + "/".join(ids[:i]) + "/" for i in range(1, len(ids) + 1)]


def active_for_member(member: Member) -> Select[tuple[Assignment]]:
    """The assignments that bind a member: made on their home branch or any node above it,
    not withdrawn, earliest due first (the plan puts them first)."""
    return (select(Assignment).join(Organization, Organization.id == Assignment.org_id)
            .where(Assignment.withdrawn_at.is_(None),
                   Organization.path.in_(ancestor_paths(member.home_org.path)))
            .order_by(Assignment.due_on, Assignment.id))


def made_in(org: Organization) -> Select[tuple[Assignment]]:
    """Assignments made on org or a node below it (what a secretary manages from org's page)."""
    return (select(Assignment).join(Organization, Organization.id == Assignment.org_id)
            .where(subtree_condition(Organization.path, org.path))
            .order_by(Assignment.withdrawn_at.is_not(None), Assignment.due_on, Assignment.id))
