from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, select

from learning.audit.models import AuditEvent
from learning.extensions import db


def events(*, actor_ids: list[int] | None = None, action: str | None = None, target: str | None = None,
           since: date | None = None, until: date | None = None) -> Select[tuple[AuditEvent]]:
    """Newest first; dates are UTC calendar days, `until` inclusive."""
    query = select(AuditEvent)
    if actor_ids is not None:
        query = query.where(AuditEvent.actor_id.in_(actor_ids))
    if action:
        query = query.where(AuditEvent.action == action)
    if target:
        query = query.where(AuditEvent.target.contains(target, autoescape=True))
    if since:
        query = query.where(AuditEvent.at >= datetime.combine(since, time()))
    if until:
        query = query.where(AuditEvent.at < datetime.combine(until + timedelta(days=1), time()))
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
