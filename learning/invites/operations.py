"""Writes for invitations and join requests (flush, never commit)."""
from __future__ import annotations

import secrets
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from learning.audit.operations import record
from learning.auth.passwords import hash_password
from learning.extensions import db
from learning.invites.models import Invitation, JoinRequest, JoinStatus
from learning.orgs.models import Member, Organization, OrgKind, OrgMembership
from learning.orgs.operations import Refused, add_activity, create_member
from learning.timeutil import utcnow


def create_invitation(org: Organization, *, actor: Member, days: int, max_uses: int) -> Invitation:
    if org.kind != OrgKind.BRANCH or org.closed_at is not None:
        raise Refused(_l("只能邀请加入未撤销的党支部。"))
    invitation = Invitation(token=secrets.token_urlsafe(16), org=org, created_by_id=actor.id,
                            expires_at=utcnow() + timedelta(days=days), max_uses=max_uses, uses=0)
    db.session.add(invitation)
    db.session.flush()
    record("invitation_created", actor_id=actor.id, target=f"org:{org.code}", invitation=invitation.id,
           days=days, max_uses=max_uses)
    return invitation


def revoke_invitation(invitation: Invitation, *, actor: Member) -> None:
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        record("invitation_revoked", actor_id=actor.id, target=f"org:{invitation.org.code}",
               invitation=invitation.id)


def state(invitation: Invitation) -> str:
    """'open', 'revoked', 'expired' or 'used_up'."""
    if invitation.revoked_at is not None or invitation.org.closed_at is not None:
        return "revoked"
    if invitation.expires_at <= utcnow():
        return "expired"
    if invitation.uses >= invitation.max_uses:
        return "used_up"
    return "open"


def _take_use(invitation: Invitation) -> None:
    """One use, atomically: two phones scanning the last use at once cannot both get it."""
    taken = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.uses < Invitation.max_uses,
               Invitation.expires_at > utcnow(), Invitation.revoked_at.is_(None))
        .values(uses=Invitation.uses + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        raise Refused(_l("邀请已过期或名额已满。"))
    db.session.refresh(invitation)


def register(invitation: Invitation, *, name: str, phone: str, birth_year: int, occupation: str,
             password: str, today: date) -> Member:
    """A new account at the invitation's branch, inactive until the secretary approves."""
    if db.session.scalar(select(Member.id).where(Member.phone == phone)) is not None:
        raise Refused(_l("这个手机号已经注册，请先登录，再打开邀请链接申请加入。"))
    _take_use(invitation)
    member = create_member(name=name, phone=phone, home_org=invitation.org, password_hash=hash_password(password),
                           birth_year=birth_year, occupation=occupation, member_kind="full", joined_at=None,
                           since=today, active=False)
    request = JoinRequest(invitation_id=invitation.id, org_id=invitation.org_id, member_id=member.id, kind="home")
    db.session.add(request)
    record("join_registered", actor_id=member.id, target=f"member:{member.id}", org=invitation.org.code,
           invitation=invitation.id)
    return member


def request_activity(invitation: Invitation, member: Member) -> JoinRequest:
    """A logged-in member asks to take part in the branch (activity membership)."""
    if member.home_org_id == invitation.org_id or db.session.scalar(select(OrgMembership.id).where(
            OrgMembership.member_id == member.id, OrgMembership.org_id == invitation.org_id,
            OrgMembership.until.is_(None))):
        raise Refused(_l("你已经是这个支部的党员。"))
    if db.session.scalar(select(JoinRequest.id).where(
            JoinRequest.member_id == member.id, JoinRequest.org_id == invitation.org_id,
            JoinRequest.status == JoinStatus.PENDING)):
        raise Refused(_l("你已提交过申请，请等待支部书记审核。"))
    _take_use(invitation)
    request = JoinRequest(invitation_id=invitation.id, org_id=invitation.org_id, member_id=member.id,
                          kind="activity")
    db.session.add(request)
    record("join_requested", actor_id=member.id, target=f"member:{member.id}", org=invitation.org.code,
           invitation=invitation.id)
    return request


def decide(request: JoinRequest, *, approve: bool, actor: Member, today: date) -> None:
    from learning.privacy.operations import erase_member

    if request.status != JoinStatus.PENDING:
        raise Refused(_l("这项申请已处理。"))
    request.status = JoinStatus.APPROVED if approve else JoinStatus.DECLINED
    request.decided_by_id, request.decided_at = actor.id, utcnow()
    record("join_approved" if approve else "join_declined", actor_id=actor.id,
           target=f"member:{request.member_id}", org=request.org.code, kind=request.kind)
    member = request.member
    if request.kind == "home":
        if approve:
            member.active = True
        else:
            # A declined registration leaves no personal data behind.
            erase_member(member, actor=actor)
    elif approve:
        add_activity(member, request.org, today)
