"""Who is calling the API.

Two ways in:
- `Authorization: Bearer <token>` (phones, integrations): the token names the member; such a
  request carries no ambient credential a third-party page could ride on, so it is exempt
  from CSRF checks.
- the browser's session cookie (the site's own pages): an ordinary Flask-Login request, and a
  state-changing one must carry the CSRF token in the X-CSRFToken header.

CSRFProtect is global; the API blueprint is exempted from it and the check is made here
instead, for cookie-authenticated unsafe methods only.
"""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import Response, abort, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from learning.api import bp
from learning.api.jsonio import InvalidInput, error
from learning.api.queries import token_owner
from learning.database import SAFE_METHODS
from learning.extensions import csrf
from learning.orgs.models import Member
from learning.timeutil import utcnow

csrf.exempt(bp)


def _unauthorized(message: str) -> tuple[Response, int]:
    response, status = error(401, message)
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response, status


@bp.before_request
def _authenticate() -> tuple[Response, int] | None:
    # `g` lives as long as the app context, which an embedding caller (a test client in the
    # caller's context) may share between requests: never let one request's caller leak.
    g.pop("api_member", None)
    g.pop("api_token", None)
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _sep, secret = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return _unauthorized(_("Authorization 请求头应为“Bearer <令牌>”。"))
        found = token_owner(secret.strip(), utcnow())
        if found is None:
            return _unauthorized(_("令牌无效、已过期或已被撤销，请重新获取令牌。"))
        g.api_token, g.api_member = found
        return None
    if request.method not in SAFE_METHODS and current_user.is_authenticated:
        try:
            csrf.protect()
        except CSRFError:
            return error(400, _("用登录 Cookie 调用接口时，修改数据的请求须在 X-CSRFToken 请求头中带上 CSRF 令牌。"))
    return None


@bp.after_request
def _private(response: Response) -> Response:
    # Answers name a member and their study: never kept by shared caches.
    if request.endpoint != "api.openapi":
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Authorization")
        response.vary.add("Cookie")
    return response


@bp.errorhandler(InvalidInput)
def _invalid(problem: InvalidInput):
    return error(400, problem.message, **({"field": problem.field} if problem.field else {}))


def api_member() -> Member:
    """The calling member (bearer token first, then the session cookie), or a JSON 401."""
    member = g.get("api_member")
    if member is not None:
        return member
    if not current_user.is_authenticated:
        abort(401)
    return current_user._get_current_object()


def api_token_id() -> int | None:
    """The id of the bearer token making this request, if any."""
    token = g.get("api_token")
    return token.id if token is not None else None


def member_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        api_member()
        return view(*args, **kwargs)

    return wrapper
