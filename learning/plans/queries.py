"""A member's plan for the rest of the year: required courses first (once assignments exist),
then recommendations that fill the 学时 gap — from the newest trained model, or from transparent
rules (popular within the same occupation, then newest) while no model exists."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from learning.catalog.models import Course, CourseStatus, Lesson
from learning.extensions import db
from learning.orgs.models import Member
from learning.plans.models_store import current_model
from learning.study.models import CourseCompletion, LessonProgress
from recommender import Profile
from recommender.plan import CourseInfo, PlanCatalogue, PlanItem, build_plan, rule_based_candidates


@dataclass(frozen=True)
class PlanView:
    items: list[tuple[PlanItem, Course]]
    model: str | None  # model file name, None when the rules were used


def _history(member: Member) -> list[str]:
    return list(db.session.scalars(
        select(Course.slug).join(CourseCompletion, CourseCompletion.course_id == Course.id)
        .where(CourseCompletion.member_id == member.id).order_by(CourseCompletion.completed_at)))


def _started(member: Member) -> list[str]:
    return list(db.session.scalars(
        select(Course.slug).distinct().join(Lesson, Lesson.course_id == Course.id)
        .join(LessonProgress, LessonProgress.lesson_id == Lesson.id)
        .where(LessonProgress.member_id == member.id)))


def _rules(member: Member, courses: list[Course]):
    counts = dict(db.session.execute(
        select(Course.slug, func.count()).join(CourseCompletion, CourseCompletion.course_id == Course.id)
        .join(Member, Member.id == CourseCompletion.member_id)
        .where(Member.occupation == member.occupation).group_by(Course.slug)).all())
    newest = [c.slug for c in sorted(courses, key=lambda c: c.published_at or c.created_at, reverse=True)]
    return rule_based_candidates(counts, newest, occupation=member.occupation)


def plan_for(member: Member, *, today: date, hours_done: float, target: float) -> PlanView:
    courses = list(db.session.scalars(select(Course).where(Course.status == CourseStatus.PUBLISHED)))
    by_slug = {c.slug: c for c in courses}
    catalogue = PlanCatalogue(CourseInfo(course_id=c.slug, title=c.title, hours=c.hours, category=c.category)
                              for c in courses)
    history = _history(member)
    loaded = current_model()
    if loaded is not None:
        name, model = loaded
        profile = Profile(age=today.year - member.birth_year if member.birth_year else None,
                          occupation=member.occupation, history=history)
        candidates = model.recommend(profile, k=50)
    else:
        name, candidates = None, _rules(member, courses)
    items = build_plan(candidates, catalogue, hours_gap=target - hours_done, today=today,
                       completed=history, started=_started(member))
    return PlanView(items=[(item, by_slug[item.course_id]) for item in items if item.course_id in by_slug],
                    model=name)
