"""Applying a roster plan (flush, never commit)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from learning.audit.operations import record
from learning.auth.operations import activation_code_days, issue_activation_code
from learning.orgs.models import Member, MemberKind
from learning.orgs.operations import create_member, set_home
from learning.roster.plan import NEW, UPDATED, Plan
from learning.timeutil import utcnow
from learning.extensions import db

@dataclass(frozen=True)
class IssuedCode:
    name: str
    phone_masked: str
    branch: str
    code: str
    expires_at: datetime


def apply_plan(plan: Plan, *, actor: Member | None, today: date, filename: str) -> list[IssuedCode]:
    """Create and update the members of a plan without errors; new accounts get a one-time
    activation code (returned once, never stored in clear) and no password."""
    if not plan.ok:
        raise ValueError("a plan with errors is never applied")
    days = activation_code_days()
    issued: list[IssuedCode] = []
    for row in plan.rows:
        data = row.data
        if row.outcome == NEW and data is not None:
            member = create_member(name=data.name, phone=data.phone, home_org=data.branch, password_hash=None,
                                   birth_year=data.birth_year, occupation=data.occupation or "其他",
                                   member_kind=data.member_kind or MemberKind.FULL, joined_at=data.joined_at,
                                   since=today)
            member.must_change_password = True
            code = issue_activation_code(member, actor=actor, valid_days=days, audit=False)
            issued.append(IssuedCode(data.name, row.phone_masked, data.branch.name, code,
                                     utcnow() + timedelta(days=days)))
        elif row.outcome == UPDATED and data is not None:
            member = db.session.get(Member, row.member_id)
            member.name = data.name
            member.birth_year = data.birth_year or member.birth_year
            member.occupation = data.occupation or member.occupation
            member.member_kind = data.member_kind or member.member_kind
            member.joined_at = data.joined_at or member.joined_at
            if data.branch.id != member.home_org_id:
                set_home(member, data.branch, today)
    db.session.flush()
    record("roster_imported", actor_id=actor.id if actor else None, target=f"org:{plan.org.code}",
           file=filename, **plan.summary())
    return issued
