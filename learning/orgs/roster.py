"""A node's members with their hours this year against their target (the secretary's list)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

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


def mask(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "****"


PAGE_SIZE = 50


@dataclass(frozen=True)
class Roster:
    """One page of a node's roster, with counts over the whole subtree."""
    rows: list[RosterRow]
    total: int  # learners in the subtree
    party: int  # of them with an annual target (Party members)
    meeting: int  # of those, meeting it
    page: int

    @property
    def more(self) -> bool:
        return self.page * PAGE_SIZE < self.total


def roster(org: Organization, year: int, page: int = 1) -> Roster:
    """The subtree's learners by hours this year, PAGE_SIZE at a time (an academy holds
    100,000), and the counts the page shows, computed by the database over all of them."""
    members = members_of_subtree(org).subquery()
    targets = {"member": target_hours("member", year), "secretary": target_hours("secretary", year)}
    with_target = target_kinds()
    secretary = (select(RoleGrant.member_id).where(RoleGrant.member_id == members.c.id,
                                                    RoleGrant.role.in_(MANAGING_ROLES)).exists())
    target = case((secretary, targets["secretary"]), else_=targets["member"])
    hours = func.coalesce(MemberYear.hours, 0.0)
    has_target = members.c.member_kind.in_(with_target)
    joined = (select(func.count(), func.count().filter(has_target),
                     func.count().filter(has_target & (hours >= target)))
              .select_from(members)
              .outerjoin(MemberYear, (MemberYear.member_id == members.c.id) & (MemberYear.year == year)))
    total, party, meeting = db.session.execute(joined).one()
    page = max(1, min(page, -(-total // PAGE_SIZE) or 1))
    rows = db.session.execute(
        select(members.c.id, members.c.name, members.c.phone, members.c.occupation, members.c.member_kind,
               Organization.name.label("branch"), MemberYear.hours, MemberYear.last_active_at)
        .join(Organization, Organization.id == members.c.home_org_id)
        .outerjoin(MemberYear, (MemberYear.member_id == members.c.id) & (MemberYear.year == year))
        .order_by(MemberYear.hours.desc().nulls_last(), members.c.name, members.c.id)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    secretaries = set(db.session.scalars(
        select(RoleGrant.member_id).where(RoleGrant.role.in_(MANAGING_ROLES),
                                          RoleGrant.member_id.in_([r.id for r in rows]))
    ))
    return Roster(rows=[
        RosterRow(member_id=r.id, name=r.name, phone_masked=mask(r.phone), occupation=r.occupation,
                  branch=r.branch, hours=r.hours or 0.0,
                  target=targets["secretary" if r.id in secretaries else "member"]
                  if r.member_kind in with_target else None,
                  last_active_at=r.last_active_at, member_kind=r.member_kind)
        for r in rows
    ], total=total, party=party, meeting=meeting or 0, page=page)
