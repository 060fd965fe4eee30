"""Reads for 学习心得, with review rights written twice (a predicate and a query filter): the
secretaries of the member's home branch and of the committees above it, and administrators."""
from __future__ import annotations

from sqlalchemy import Select, exists, false, func, or_, select, true
from sqlalchemy.orm import joinedload

from learning.catalog.models import Course
from learning.extensions import db
from learning.orgs.models import Member, Organization
from learning.orgs.queries import is_admin, managed_paths, subtree_condition
from learning.reflections.models import Reflection, ReflectionStatus
from learning.study.models import CourseCompletion


def has_completed(member: Member, course: Course) -> bool:
    return bool(db.session.scalar(select(exists().where(CourseCompletion.member_id == member.id,
                                                        CourseCompletion.course_id == course.id))))


def reflection_of(member: Member, course: Course) -> Reflection | None:
    return db.session.scalar(select(Reflection).where(Reflection.member_id == member.id,
                                                      Reflection.course_id == course.id))


def own_reflections(member: Member) -> Select[tuple[Reflection]]:
    return (select(Reflection).where(Reflection.member_id == member.id)
            .options(joinedload(Reflection.course)).order_by(Reflection.submitted_at.desc(), Reflection.id.desc()))


def _review_filter(actor: Member | None, path_column):
    if is_admin(actor):
        return true()
    roots = managed_paths(actor)
    return or_(*(subtree_condition(path_column, root) for root in roots)) if roots else false()


def reviewable_by(actor: Member | None, org: Organization | None = None,
                  status: str | None = ReflectionStatus.SUBMITTED) -> Select[tuple[Reflection]]:
    """Reflections of members whose home branch the actor manages (optionally within org),
    oldest submission first: the review queue."""
    query = (select(Reflection).join(Member, Member.id == Reflection.member_id)
             .join(Organization, Organization.id == Member.home_org_id)
             .where(_review_filter(actor, Organization.path))
             .options(joinedload(Reflection.course), joinedload(Reflection.member))
             .order_by(Reflection.submitted_at, Reflection.id))
    if org is not None:
        query = query.where(subtree_condition(Organization.path, org.path))
    if status is not None:
        query = query.where(Reflection.status == status)
    return query


def can_review(actor: Member | None, reflection: Reflection) -> bool:
    if is_admin(actor):
        return True
    path = reflection.member.home_org.path
    return any(path.startswith(root) for root in managed_paths(actor))


def pending_by_branch(org: Organization) -> list[tuple[Organization, int]]:
    """Reflections waiting for review in org's subtree, counted per home branch."""
    rows = db.session.execute(
        select(Organization, func.count(Reflection.id))
        .join(Member, Member.home_org_id == Organization.id)
        .join(Reflection, Reflection.member_id == Member.id)
        .where(subtree_condition(Organization.path, org.path), Reflection.status == ReflectionStatus.SUBMITTED)
        .group_by(Organization.id).order_by(Organization.code)).all()
    return [(branch, count) for branch, count in rows]


def featured_for(org: Organization, limit: int = 3) -> list[Reflection]:
    """Approved reflections featured by the secretaries, of members at home in this node."""
    return list(db.session.scalars(
        select(Reflection).join(Member, Member.id == Reflection.member_id)
        .where(Member.home_org_id == org.id, Reflection.status == ReflectionStatus.APPROVED,
               Reflection.featured.is_(True))
        .options(joinedload(Reflection.course), joinedload(Reflection.member))
        .order_by(Reflection.reviewed_at.desc(), Reflection.id.desc()).limit(limit)))
