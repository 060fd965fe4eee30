"""Assigning and withdrawing required courses (flush, never commit; audited)."""
from __future__ import annotations

from datetime import date

from learning.assignments.models import Assignment
from learning.audit.operations import record
from learning.catalog.models import Course
from learning.extensions import db
from learning.orgs.models import Member, Organization
from learning.timeutil import utcnow


def assign(*, actor: Member | None, org: Organization, course: Course, due_on: date, note: str | None = None,
           address: str | None = None) -> Assignment:
    assignment = Assignment(org_id=org.id, course_id=course.id, due_on=due_on, note=note or None,
                            assigned_by_id=actor.id if actor else None)
    db.session.add(assignment)
    db.session.flush()
    record("assignment_created", actor_id=actor.id if actor else None, target=f"assignment:{assignment.id}",
           address=address, org=org.code, course=course.slug, due_on=due_on.isoformat())
    return assignment


def withdraw(*, actor: Member | None, assignment: Assignment, address: str | None = None) -> None:
    if assignment.withdrawn_at is not None:
        return
    assignment.withdrawn_at = utcnow()
    record("assignment_withdrawn", actor_id=actor.id if actor else None, target=f"assignment:{assignment.id}",
           address=address, org=assignment.org.code, course=assignment.course.slug)
