"""Writes to the organization tree, members and roles (flush, never commit)."""
from __future__ import annotations

from datetime import date

from learning.audit.operations import record
from learning.extensions import db
from learning.orgs.models import Member, Organization, OrgMembership, RoleGrant


def create_org(*, code: str, name: str, kind: str, parent: Organization | None,
               industry: str | None = None, region: str | None = None) -> Organization:
    org = Organization(code=code, name=name, kind=kind, parent=parent, industry=industry, region=region)
    db.session.add(org)
    db.session.flush()  # the id is part of the path
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    org.depth = parent.depth + 1 if parent else 0
    return org


def create_member(*, name: str, phone: str, home_org: Organization, password_hash: str | None,
                  birth_year: int | None, occupation: str, member_kind: str, joined_at: date | None,
                  since: date) -> Member:
    member = Member(name=name, phone=phone, home_org=home_org, password_hash=password_hash,
                    birth_year=birth_year, occupation=occupation, member_kind=member_kind,
                    joined_at=joined_at)
    db.session.add(member)
    db.session.flush()
    db.session.add(OrgMembership(member_id=member.id, org_id=home_org.id, kind="home", since=since))
    return member


def grant_role(*, member: Member, org: Organization, role: str, actor: Member | None) -> RoleGrant:
    grant = RoleGrant(member=member, org=org, role=role, granted_by_id=actor.id if actor else None)
    db.session.add(grant)
    record("role_granted", actor_id=actor.id if actor else None, target=f"member:{member.id}",
           role=str(role), org=org.code)
    return grant
