"""Reads about API tokens."""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Select, select

from learning.api.models import ApiToken
from learning.extensions import db
from learning.orgs.models import Member


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def live_tokens(member: Member, now: datetime) -> Select[tuple[ApiToken]]:
    """The member's tokens that still work: not expired, minted with the current session version."""
    return (select(ApiToken)
            .where(ApiToken.member_id == member.id, ApiToken.expires_at > now,
                   ApiToken.session_version == member.session_version)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))


def token_owner(secret: str, now: datetime) -> tuple[ApiToken, Member] | None:
    """The token and its member, when the secret names a token that still works."""
    row = db.session.execute(
        select(ApiToken, Member).join(Member, Member.id == ApiToken.member_id)
        .where(ApiToken.token_hash == token_hash(secret))
    ).first()
    if row is None:
        return None
    token, member = row
    if token.expires_at <= now or not member.active or token.session_version != member.session_version:
        return None
    return token, member
