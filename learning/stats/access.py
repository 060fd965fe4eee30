"""Loading the organization node a page is about, under the viewer's authorization."""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from learning.extensions import db
from learning.orgs.models import Organization
from learning.orgs.queries import can_view_org


def visible_org_or_abort(code: str, actor=None) -> Organization:
    """The node with this code, or 404 (unknown) / 403 (outside the actor's subtrees)."""
    org = db.session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        abort(404)
    if not can_view_org(actor if actor is not None else current_user, org):
        abort(403)
    return org
