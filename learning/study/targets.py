"""Annual 学时 targets: settings per year and role, not constants. The target applies to the
learner kinds named by the TARGET_KINDS setting (Party members by default); other learners
(入党积极分子, 发展对象, 群众) study without one."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from learning.audit.operations import record
from learning.extensions import db
from learning.orgs.models import Member, Role
from learning.study.models import AnnualTarget

SECRETARY_ROLES = {Role.SECRETARY, Role.ORG_ADMIN}


def target_role(member: Member) -> str:
    """Grassroots secretaries and committee members carry the higher target (56 by default)."""
    return "secretary" if any(g.role in SECRETARY_ROLES for g in member.roles) else "member"


def default_target(role: str) -> float:
    key = "ANNUAL_TARGET_SECRETARY" if role == "secretary" else "ANNUAL_TARGET_MEMBER"
    return float(current_app.config[key])


def target_hours(role: str, year: int) -> float:
    stored = db.session.scalar(
        select(AnnualTarget.hours).where(AnnualTarget.year == year, AnnualTarget.role == role)
    )
    return stored if stored is not None else default_target(role)


def target_kinds() -> tuple[str, ...]:
    return tuple(current_app.config["TARGET_KINDS"])


def has_target(member: Member) -> bool:
    return member.member_kind in target_kinds()


def target_for(member: Member, year: int) -> float | None:
    """The member's annual target, or None for a learner kind without one."""
    return target_hours(target_role(member), year) if has_target(member) else None


ROLES = ("member", "secretary")


def set_target(year: int, role: str, hours: float, *, actor: Member) -> None:
    """Store one year's target for a role (audited); unchanged values write nothing."""
    if role not in ROLES:
        raise ValueError(role)
    row = db.session.scalar(select(AnnualTarget).where(AnnualTarget.year == year, AnnualTarget.role == role))
    previous = row.hours if row is not None else default_target(role)
    if row is not None and row.hours == hours:
        return
    if row is None:
        row = AnnualTarget(year=year, role=role, hours=hours)
        db.session.add(row)
    else:
        row.hours = hours
    record("annual_target_set", actor_id=actor.id, target=f"annual_target:{year}:{role}",
           year=year, role=role, hours=hours, previous=previous)
