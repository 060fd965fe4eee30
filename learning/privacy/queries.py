"""Everything the academy holds about one member, as plain data (the page and the JSON
download show the same thing)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from learning.audit.models import AuditEvent
from learning.catalog.models import Course, Lesson
from learning.extensions import db
from learning.orgs.models import Member, Organization, OrgMembership
from learning.orgs.roster import mask
from learning.study.models import CourseCompletion, LessonProgress, MemberYear, StudyEvent

AUDIT_LIMIT = 500


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def personal_data(member: Member) -> dict[str, Any]:
    orgs = {o.id: o for o in db.session.scalars(select(Organization))}

    def org(org_id: int) -> dict[str, str]:
        o = orgs.get(org_id)
        return {"code": o.code, "name": o.name} if o else {}

    memberships = db.session.scalars(select(OrgMembership).where(OrgMembership.member_id == member.id)
                                     .order_by(OrgMembership.since, OrgMembership.id))
    completions = db.session.execute(
        select(CourseCompletion, Course.title).join(Course, Course.id == CourseCompletion.course_id)
        .where(CourseCompletion.member_id == member.id).order_by(CourseCompletion.completed_at))
    progress = db.session.execute(
        select(LessonProgress, Lesson.title, Course.title).join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .join(Course, Course.id == Lesson.course_id).where(LessonProgress.member_id == member.id)
        .order_by(LessonProgress.updated_at))
    years = db.session.scalars(select(MemberYear).where(MemberYear.member_id == member.id).order_by(MemberYear.year))
    audit = db.session.scalars(
        select(AuditEvent).where(or_(AuditEvent.target == f"member:{member.id}", AuditEvent.actor_id == member.id))
        .order_by(AuditEvent.at.desc()).limit(AUDIT_LIMIT))
    return {
        "profile": {
            "id": member.id, "name": member.name, "phone": member.phone, "birth_year": member.birth_year,
            "occupation": member.occupation, "member_kind": member.member_kind,
            "joined_at": _iso(member.joined_at), "home_org": org(member.home_org_id),
            "active": member.active, "created_at": _iso(member.created_at),
        },
        "memberships": [{"org": org(m.org_id), "kind": m.kind, "since": _iso(m.since), "until": _iso(m.until)}
                        for m in memberships],
        "roles": [{"role": g.role, "org": org(g.org_id), "granted_at": _iso(g.granted_at)} for g in member.roles],
        "yearly": [{"year": y.year, "hours": y.hours, "points": y.points, "courses_done": y.courses_done}
                   for y in years],
        "completions": [{"course": title, "year": c.year, "hours": c.hours, "category": c.category,
                         "completed_at": _iso(c.completed_at), "org": org(c.org_id), "source": c.source}
                        for c, title in completions],
        "progress": [{"course": course, "lesson": lesson, "progress": p.progress, "time_spent_s": p.time_spent_s,
                      "best_score": p.best_score, "completed_at": _iso(p.completed_at)}
                     for p, lesson, course in progress],
        "study_events": db.session.scalar(select(func.count()).select_from(StudyEvent)
                                          .where(StudyEvent.member_id == member.id)),
        "audit": [{"at": _iso(e.at) + "Z", "action": e.action, "target": e.target,
                   "by_self": e.actor_id == member.id} for e in audit],
    }


def masked(member: Member) -> str:
    return mask(member.phone)
