"""Account writes: authenticate, log out everywhere, change password."""
from __future__ import annotations

import re

from sqlalchemy import select

from learning.audit.models import AuditEvent
from learning.audit.operations import mask_phone, record
from learning.auth import passwords, throttle
from learning.extensions import db
from learning.orgs.models import Member
from learning.timeutil import utcnow

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


class LoginError(Exception):
    pass


class InvalidCredentials(LoginError):
    pass


class TooManyAttempts(LoginError):
    pass


class PasswordRejected(ValueError):
    pass


def normalize_phone(raw: str) -> str:
    """Accept what people type: spaces, dashes, full-width digits, a +86 prefix."""
    text = raw.translate({ord(c): ord("0") + i for i, c in enumerate("０１２３４５６７８９")})
    digits = re.sub(r"[\s\-()（）]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


def authenticate(phone: str, password: str, address: str) -> Member:
    """The member for a correct phone/password, or an exception. Failures count against the
    account and the client address in storage shared by all server processes."""
    phone = normalize_phone(phone)
    limits = throttle.limits_for(phone, address)
    # End any transaction this request holds first: on SQLite it may hold the write lock that
    # the throttle's own short transactions need.
    db.session.rollback()
    if throttle.blocked(limits):
        raise TooManyAttempts()
    member = db.session.scalar(select(Member).where(Member.phone == phone)) if PHONE_RE.match(phone) else None
    if member is None or not member.active or not passwords.verify_password(member.password_hash, password):
        actor_id = member.id if member is not None else None
        db.session.rollback()
        throttle.add_failure(limits)
        _record_failure(actor_id, phone, address)
        raise InvalidCredentials()
    if passwords.needs_rehash(member.password_hash or ""):
        member.password_hash = passwords.hash_password(password)
    throttle.clear_account(limits)
    record("login", actor_id=member.id, target=f"member:{member.id}", address=address)
    return member


def _record_failure(actor_id: int | None, phone: str, address: str) -> None:
    # Written in its own transaction: the failed request itself is rolled back.
    with db.engine.begin() as conn:
        conn.execute(
            AuditEvent.__table__.insert().values(
                action="login_failed", actor_id=actor_id, target=mask_phone(phone)[:255],
                detail={}, address=address, at=utcnow(),
            )
        )


def end_all_sessions(member: Member) -> None:
    """Every session and remember-me cookie of the account carries the old version and is
    refused from now on, including copies of cookies saved earlier."""
    member.session_version += 1


def validate_new_password(password: str) -> None:
    if len(password) < passwords.MIN_LENGTH:
        raise PasswordRejected("too_short")
    if len(password) > passwords.MAX_LENGTH:
        raise PasswordRejected("too_long")


def change_password(member: Member, current: str, new: str) -> None:
    if not passwords.verify_password(member.password_hash, current):
        raise InvalidCredentials()
    validate_new_password(new)
    member.password_hash = passwords.hash_password(new)
    member.must_change_password = False
    end_all_sessions(member)
    record("password_changed", actor_id=member.id, target=f"member:{member.id}")
