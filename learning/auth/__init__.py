"""Login, logout, password change; loading the logged-in member on each request."""
from __future__ import annotations

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

from learning.extensions import db, login_manager

bp = Blueprint("auth", __name__)


def login_id(user_id: str | None) -> tuple[int, int] | None:
    """(member id, session version) from the id Flask-Login keeps in the session (Member.get_id)."""
    member_id, _, version = (user_id or "").partition(":")
    if not member_id.isdigit() or not version.isdigit():
        return None
    return int(member_id), int(version)


def admits(active: bool, session_version: int, cookie_version: int) -> bool:
    """Whether a member row still accepts a session: a cookie minted before logout or a
    password change carries an old version."""
    return bool(active) and session_version == cookie_version


def init_app(app: Flask) -> None:
    from learning.auth import sessions

    sessions.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("请先登录。")
    login_manager.login_message_category = "info"
    # Session protection "basic" would drop the session when a phone changes networks
    # (lift, tunnel, Wi-Fi to 4G); revocation is handled by the session version instead.
    login_manager.session_protection = None

    from sqlalchemy.orm import undefer

    from learning.orgs.models import Member

    with_epoch = undefer(Member.page_epoch)  # built once: building it cost as much as the query

    @login_manager.user_loader
    def _load(user_id: str):
        parsed = login_id(user_id)
        if parsed is None:
            return None
        member = db.session.get(Member, parsed[0], options=[with_epoch])
        if member is None or not admits(member.active, member.session_version, parsed[1]):
            return None
        return member

    app.before_request(_enforce_account_rules)


# Pages a member who must set a new password can still open.
OPEN_WHILE_CHANGING = frozenset({"auth.password", "auth.logout", "auth.login", "auth.activate", "static",
                                 "privacy.notice"})


def _enforce_account_rules():
    from flask import redirect, request, url_for
    from flask_login import current_user

    from learning.database import SAFE_METHODS
    from learning.orgs.operations import apply_due_transfers
    from learning.timeutil import local_today

    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    if request.method not in SAFE_METHODS:
        # A completion written by this request must count for the branch the member belongs
        # to today: apply an approved transfer whose effective date has come first.
        apply_due_transfers(local_today(), member=current_user)
    if (current_user.must_change_password and request.endpoint not in OPEN_WHILE_CHANGING
            and not request.path.startswith("/api/")):
        return redirect(url_for("auth.password"))
    return None


