"""Reads about offline study sessions."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from learning.meetings.models import OfflineAttendance, OfflineSession
from learning.orgs.models import Organization
from learning.orgs.queries import subtree_condition

KINDS = {"study": _l("集中学习"), "party_day": _l("主题党日")}


def sessions_in(org: Organization, first_day: date, end_day: date) -> Select:
    """(session, attendee count) for sessions held by any node of org's subtree in [first_day, end_day)."""
    attendees = (select(func.count()).where(OfflineAttendance.session_id == OfflineSession.id)
                 .correlate(OfflineSession).scalar_subquery())
    return (select(OfflineSession, attendees.label("attendees"))
            .join(Organization, Organization.id == OfflineSession.org_id)
            .where(subtree_condition(Organization.path, org.path),
                   OfflineSession.held_on >= first_day, OfflineSession.held_on < end_day)
            .order_by(OfflineSession.held_on.desc(), OfflineSession.id.desc()))
