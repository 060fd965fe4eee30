"""A node's members with their hours this year against their target (the secretary's list)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from learning.extensions import db
from learning.orgs.models import Organization, RoleGrant
from learning.orgs.queries import MANAGING_ROLES, members_of_subtree
from learning.study.models import MemberYear
from learning.study.targets import target_hours, target_kinds


@dataclass(frozen=True)
class RosterRow:
    member_id: int
    name: str
    phone_masked: str
    occupation: str
    branch: str
    hours: float
    target: float | None  # None: a learner kind without an annual target
    last_active_at: datetime | None
    member_kind: str = "full"

    @property
    def fraction(self) -> float:
        return min(1.0, self.hours / self.target) if self.target else 1.0

    @property
    def meeting_target(self) -> bool:
        return self.target is not None and self.hours >= self.target


def mask(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "****"


def roster_rows(org: Organization, year: int) -> list[RosterRow]:
    members = members_of_subtree(org).subquery()
    rows = db.session.execute(
        select(members.c.id, members.c.name, members.c.phone, members.c.occupation, members.c.member_kind,
               Organization.name.label("branch"), MemberYear.hours, MemberYear.last_active_at)
        .join(Organization, Organization.id == members.c.home_org_id)
        .outerjoin(MemberYear, (MemberYear.member_id == members.c.id) & (MemberYear.year == year))
        .order_by(MemberYear.hours.desc().nulls_last(), members.c.name)
    ).all()
    secretaries = set(db.session.scalars(
        select(RoleGrant.member_id).where(RoleGrant.role.in_(MANAGING_ROLES),
                                          RoleGrant.member_id.in_([r.id for r in rows]))
    ))
    targets = {"member": target_hours("member", year), "secretary": target_hours("secretary", year)}
    with_target = target_kinds()
    return [
        RosterRow(member_id=r.id, name=r.name, phone_masked=mask(r.phone), occupation=r.occupation,
                  branch=r.branch, hours=r.hours or 0.0,
                  target=targets["secretary" if r.id in secretaries else "member"]
                  if r.member_kind in with_target else None,
                  last_active_at=r.last_active_at, member_kind=r.member_kind)
        for r in rows
    ]
