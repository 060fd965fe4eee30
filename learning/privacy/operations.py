"""Deactivation and erasure of a member (flush, never commit)."""
from __future__ import annotations

from sqlalchemy import delete, select, update

from learning.audit.operations import record
from learning.auth.models import ActivationCode
from learning.auth.operations import end_all_sessions
from learning.extensions import db
from learning.orgs.models import Member, RoleGrant, Transfer, TransferStatus
from learning.timeutil import utcnow

ERASED_NAME = "已注销成员"


def placeholder_phone(member_id: int) -> str:
    """Unique, 11 characters like the column, and never a valid mobile (those start with 1)."""
    return f"0{member_id:010d}"


def deactivate(member: Member, *, actor: Member) -> None:
    """The account stops working at once: every session and remember-me cookie is refused."""
    member.active = False
    end_all_sessions(member)
    record("member_deactivated", actor_id=actor.id, target=f"member:{member.id}")


def reactivate(member: Member, *, actor: Member) -> None:
    if member.phone == placeholder_phone(member.id):
        return  # erased: nothing left to sign in with
    member.active = True
    record("member_reactivated", actor_id=actor.id, target=f"member:{member.id}")


def erase_member(member: Member, *, actor: Member) -> None:
    """Remove the personal fields. The member row, its completions and counters stay, with no
    one behind them, so branch and academy statistics do not change."""
    from learning.invites.models import JoinRequest, JoinStatus

    member.name = ERASED_NAME
    member.phone = placeholder_phone(member.id)
    member.birth_year = None
    member.occupation = "其他"
    member.joined_at = None
    member.password_hash = None
    member.must_change_password = False
    member.active = False
    end_all_sessions(member)
    db.session.execute(delete(ActivationCode).where(ActivationCode.member_id == member.id))
    db.session.execute(delete(RoleGrant).where(RoleGrant.member_id == member.id))
    db.session.execute(update(JoinRequest).where(JoinRequest.member_id == member.id,
                                                 JoinRequest.status == JoinStatus.PENDING)
                       .values(status=JoinStatus.DECLINED, decided_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Transfer).where(Transfer.member_id == member.id, Transfer.status.in_(
        (TransferStatus.REQUESTED, TransferStatus.APPROVED))).values(status=TransferStatus.CANCELLED)
        .execution_options(synchronize_session=False))
    db.session.expire(member, ["roles"])
    record("member_erased", actor_id=actor.id, target=f"member:{member.id}")


def members_matching(text: str):
    from learning.auth.operations import normalize_phone

    phone = normalize_phone(text)
    query = select(Member)
    if phone.isdigit():
        return query.where(Member.phone.startswith(phone)).order_by(Member.id).limit(50)
    return query.where(Member.name.contains(text.strip())).order_by(Member.id).limit(50)
