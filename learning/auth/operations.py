"""Account writes: authenticate, log out everywhere, change password."""
from __future__ import annotations

import re
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from learning.audit.models import AuditEvent
from learning.audit.operations import clean_text, record
from learning.auth import passwords, throttle
from learning.auth.models import ActivationCode
from learning.database import read_transactions
from learning.extensions import db
from learning.orgs.models import Member
from learning.orgs.operations import apply_due_transfers
from learning.timeutil import local_today, utcnow

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
    # Check the password (argon2: tens of milliseconds of CPU by design) before this request
    # takes SQLite's write lock, so that logins are checked side by side, not one at a time.
    with read_transactions():
        found = db.session.execute(select(Member.id, Member.active, Member.password_hash)
                                   .where(Member.phone == phone)).first() if PHONE_RE.match(phone) else None
        db.session.rollback()
    verified = found is not None and found.active and passwords.verify_password(found.password_hash, password)
    member = db.session.get(Member, found.id) if verified else None
    if member is None or not member.active or member.password_hash != found.password_hash:
        # (a password changed between the check and now counts as a wrong one)
        db.session.rollback()
        throttle.add_failure(limits)
        _record_failure(found.id if found is not None else None, phone, address)
        raise InvalidCredentials()
    if passwords.needs_rehash(member.password_hash or ""):
        member.password_hash = passwords.hash_password(password)
    throttle.clear_account(limits)
    record("login", actor_id=member.id, target=f"member:{member.id}", address=address)
    apply_due_transfers(local_today(), member=member)
    return member


def _record_failure(actor_id: int | None, phone: str, address: str, action: str = "login_failed") -> None:
    # Written in its own transaction: the failed request itself is rolled back.
    with db.engine.begin() as conn:
        conn.execute(
            AuditEvent.__table__.insert().values(
                action=action, actor_id=actor_id, target=clean_text(phone)[:255],
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


# --- one-time activation codes -----------------------------------------------------------------

# No 0/O, 1/I/L: read aloud or copied from paper without mistakes. 10 characters ≈ 49 bits.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


class CodeRejected(LoginError):
    pass


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalize_code(text: str) -> str:
    return re.sub(r"[\s\-]", "", text).upper()


DEFAULT_CODE_DAYS = 14


def activation_code_days() -> int:
    """How long a new activation code stays valid (setting ACTIVATION_CODE_DAYS)."""
    return int(current_app.config.get("ACTIVATION_CODE_DAYS", DEFAULT_CODE_DAYS))


def issue_activation_code(member: Member, *, actor: Member | None, valid_days: int, audit: bool = True) -> str:
    """A fresh code for the member (earlier unused ones stop working). Returned once, to be
    shown to the secretary; only its hash is kept."""
    now = utcnow()
    db.session.execute(delete(ActivationCode).where(ActivationCode.member_id == member.id,
                                                    ActivationCode.used_at.is_(None)))
    code = new_code()
    db.session.add(ActivationCode(member_id=member.id, code_hash=passwords.hash_password(normalize_code(code)),
                                  expires_at=now + timedelta(days=valid_days), created_by_id=actor.id if actor else None))
    if audit:  # a roster import records one entry for the whole file instead
        record("activation_code_issued", actor_id=actor.id if actor else None, target=f"member:{member.id}",
               valid_days=valid_days)
    return code


def activate(phone: str, code: str, new_password: str, address: str) -> Member:
    """Phone + one-time code → the member sets their own password. Throttled like a login."""
    phone = normalize_phone(phone)
    limits = throttle.limits_for(phone, address)
    db.session.rollback()
    if throttle.blocked(limits):
        raise TooManyAttempts()
    validate_new_password(new_password)
    member = db.session.scalar(select(Member).where(Member.phone == phone)) if PHONE_RE.match(phone) else None
    now = utcnow()
    match = None
    if member is not None and member.active:
        for row in db.session.scalars(select(ActivationCode).where(
                ActivationCode.member_id == member.id, ActivationCode.used_at.is_(None),
                ActivationCode.expires_at > now)):
            if passwords.verify_password(row.code_hash, normalize_code(code)):
                match = row
    if match is None:
        member_id = member.id if member is not None else None
        db.session.rollback()
        throttle.add_failure(limits)
        _record_failure(member_id, phone, address, action="activation_failed")
        raise CodeRejected()
    match.used_at = now
    member.password_hash = passwords.hash_password(new_password)
    member.must_change_password = False
    end_all_sessions(member)
    throttle.clear_account(limits)
    record("account_activated", actor_id=member.id, target=f"member:{member.id}", address=address)
    return member
