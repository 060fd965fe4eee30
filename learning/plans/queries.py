"""Reads behind a member's plan: their history, started and dismissed courses, the required
courses that concern them, and the transparent rules used while no model exists."""
from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from learning.assignments.models import Assignment
from learning.assignments.queries import active_for_member
from learning.catalog.models import Course, CourseStatus, Lesson
from learning.catalog.queries import can_view_course, course_by_slug, open_to_kind
from learning.extensions import db
from learning.orgs.models import Member
from learning.plans.models import Dismissal, LearningPlan, PlannedCourse
from learning.study.models import CourseCompletion, LessonProgress
from recommender.plan import Requirement, rule_based_candidates
from recommender.profile import Recommendation


MEMBER_ATTRIBUTES = ("branch", "parent_org")


def org_attributes(branch_code: str, parent_code: str | None) -> dict[str, str]:
    """The member attributes the recommender is fitted and served with: the home branch and
    the organization above it (members of a branch study what the branch assigns). Codes, not
    row ids, so a model means the same thing on any copy of the database."""
    return {"branch": branch_code, "parent_org": parent_code or branch_code}


def member_attributes(member: Member) -> dict[str, str]:
    home = member.home_org
    return org_attributes(home.code, home.parent.code if home.parent is not None else None)


def history(member: Member) -> list[str]:
    """Completed course slugs, oldest first."""
    return list(db.session.scalars(
        select(Course.slug).join(CourseCompletion, CourseCompletion.course_id == Course.id)
        .where(CourseCompletion.member_id == member.id).order_by(CourseCompletion.completed_at)))


def started(member: Member) -> list[str]:
    return list(db.session.scalars(
        select(Course.slug).distinct().join(Lesson, Lesson.course_id == Course.id)
        .join(LessonProgress, LessonProgress.lesson_id == Lesson.id)
        .where(LessonProgress.member_id == member.id).order_by(Course.slug)))


def dismissed(member: Member) -> list[str]:
    return list(db.session.scalars(
        select(Course.slug).join(Dismissal, Dismissal.course_id == Course.id)
        .where(Dismissal.member_id == member.id).order_by(Course.slug)))


def requirements(member: Member) -> list[Requirement]:
    """Published courses assigned (and not withdrawn) to the member's home branch or any
    organization above it; a sibling branch's assignments do not concern them."""
    assignments = db.session.scalars(
        active_for_member(member).join(Course, Course.id == Assignment.course_id)
        .where(Course.status == CourseStatus.PUBLISHED)).all()
    return [Requirement(course_id=a.course.slug, due_on=a.due_on) for a in assignments]


def catalogue_stamp() -> str:
    """Changes when a course is published, re-published or withdrawn, when its allowed learner
    kinds change, or when a new version of a published course changes its prerequisites."""
    count, latest = db.session.execute(
        select(func.count(), func.max(Course.published_at)).where(Course.status == CourseStatus.PUBLISHED)).one()
    rows = db.session.execute(
        select(Course.slug, Course.allowed_kinds, Course.prerequisites).where(Course.status == CourseStatus.PUBLISHED)
        .order_by(Course.slug)).all()
    limits = sorted((slug, tuple(sorted(kinds or ())), tuple(needs or ())) for slug, kinds, needs in rows
                    if kinds or needs)
    return f"{count}:{latest}:{hashlib.sha256(repr(limits).encode()).hexdigest()[:16]}"


def published_courses() -> list[Course]:
    return list(db.session.scalars(select(Course).where(Course.status == CourseStatus.PUBLISHED)))


def courses_open_to(member: Member) -> list[Course]:
    """The published courses the member's learner kind may take: the plan's candidates."""
    return [c for c in published_courses() if open_to_kind(c, member.member_kind)]


def stored_plan(member: Member) -> LearningPlan | None:
    return db.session.scalar(
        select(LearningPlan).where(LearningPlan.member_id == member.id)
        .options(selectinload(LearningPlan.items).selectinload(PlannedCourse.course)))


def rule_candidates(member: Member, courses: list[Course]) -> list[Recommendation]:
    """While no model exists: courses most completed by members of the same occupation, then
    the newest."""
    counts = dict(db.session.execute(
        select(Course.slug, func.count()).join(CourseCompletion, CourseCompletion.course_id == Course.id)
        .join(Member, Member.id == CourseCompletion.member_id)
        .where(Member.occupation == member.occupation).group_by(Course.slug)).all())
    newest = [c.slug for c in sorted(courses, key=lambda c: c.published_at or c.created_at, reverse=True)]
    return rule_based_candidates(counts, newest, occupation=member.occupation)


def is_required(member: Member, slug: str) -> bool:
    return any(r.course_id == slug for r in requirements(member))


def dismissable_course(actor: Member, slug: str) -> Course | None:
    """The course to mark 不感兴趣, or None when the actor may not see it."""
    course = course_by_slug(slug)
    return course if course is not None and can_view_course(actor, course) else None
