from __future__ import annotations

from sqlalchemy import Select, select

from learning.extensions import db
from learning.invites.models import Invitation, JoinRequest, JoinStatus
from learning.orgs.models import Organization


def invitation_by_token(token: str) -> Invitation | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(Invitation).where(Invitation.token == token))


def invitations_of(org: Organization) -> Select[tuple[Invitation]]:
    return select(Invitation).where(Invitation.org_id == org.id).order_by(Invitation.created_at.desc()).limit(50)


def pending_requests(org: Organization) -> Select[tuple[JoinRequest]]:
    return (select(JoinRequest).where(JoinRequest.org_id == org.id, JoinRequest.status == JoinStatus.PENDING)
            .order_by(JoinRequest.created_at))
