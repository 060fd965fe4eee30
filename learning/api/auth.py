"""Who is calling the API.

Calls made with the browser's session cookie are ordinary Flask-Login requests (and state
changing ones carry the CSRF token in the X-CSRFToken header, checked by CSRFProtect)."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import abort
from flask_login import current_user

from learning.orgs.models import Member


def api_member() -> Member:
    """The calling member, or a JSON 401."""
    if not current_user.is_authenticated:
        abort(401)
    return current_user._get_current_object()


def member_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        api_member()
        return view(*args, **kwargs)

    return wrapper
