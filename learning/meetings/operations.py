"""Recording an offline study session credits every attendee's 学时 in the same transaction."""
from __future__ import annotations

from datetime import date

from learning.audit.operations import record
from learning.extensions import db
from learning.meetings.models import OfflineAttendance, OfflineSession
from learning.orgs.models import Member, Organization
from learning.study import rollups
from learning.study.operations import lock_member, member_year


def record_session(*, actor: Member | None, org: Organization, title: str, kind: str, held_on: date,
                   hours: float, category: str, attendees: list[Member],
                   address: str | None = None) -> OfflineSession:
    """Store the session and one confirmed credit per attendee: the attendance carries the
    attendee's home branch and the year it was held, and their MemberYear hours and the branch's
    monthly roll-up grow with it."""
    session = OfflineSession(org_id=org.id, title=title, kind=kind, held_on=held_on, hours=hours,
                             category=category, recorded_by_id=actor.id if actor else None)
    db.session.add(session)
    db.session.flush()
    for member in sorted({m.id: m for m in attendees}.values(), key=lambda m: m.id):
        lock_member(member)
        db.session.add(OfflineAttendance(session_id=session.id, member_id=member.id, org_id=member.home_org_id,
                                         year=held_on.year, hours=hours, category=category))
        counters = member_year(member.id, held_on.year)
        counters.hours = round(counters.hours + hours, 2)
        rollups.add_offline_credit(member.home_org_id, held_on, hours)
    db.session.flush()
    record("offline_study_recorded", actor_id=actor.id if actor else None, target=f"offline_session:{session.id}",
           address=address, org=org.code, title=title, kind=kind, held_on=held_on.isoformat(), hours=hours,
           category=category, attendees=sorted(m.id for m in attendees))
    return session
