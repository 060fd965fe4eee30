"""API token writes. The secret is returned once and never stored: only its sha256."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select

from learning.api.models import ApiToken
from learning.api.queries import live_tokens, token_hash
from learning.audit.operations import record
from learning.extensions import db
from learning.orgs.models import Member

# A phone re-installed every week for a year stays well under this; more means a leak or a bug.
MAX_LIVE_TOKENS = 20


class TooManyTokens(Exception):
    pass


def issue_token(member: Member, name: str, now: datetime, *, address: str | None = None) -> tuple[ApiToken, str]:
    """A new token for `member`; returns the row and the secret (shown to the caller once)."""
    # Tokens that no longer work are only clutter: drop them before counting.
    db.session.execute(delete(ApiToken).where(
        ApiToken.member_id == member.id,
        or_(ApiToken.expires_at <= now, ApiToken.session_version != member.session_version)))
    live = db.session.scalar(select(func.count()).select_from(live_tokens(member, now).subquery()))
    if live >= MAX_LIVE_TOKENS:
        raise TooManyTokens()
    secret = "hf_" + secrets.token_urlsafe(32)
    token = ApiToken(member_id=member.id, name=name, token_hash=token_hash(secret),
                     session_version=member.session_version, created_at=now,
                     expires_at=now + timedelta(days=int(current_app.config["API_TOKEN_DAYS"])))
    db.session.add(token)
    db.session.flush()
    record("api_token_created", actor_id=member.id, target=f"api_token:{token.id}", address=address,
           name=name)
    return token, secret


def revoke_token(token: ApiToken, actor: Member, *, address: str | None = None) -> None:
    record("api_token_revoked", actor_id=actor.id, target=f"api_token:{token.id}", address=address,
           name=token.name)
    db.session.delete(token)
