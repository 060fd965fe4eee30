from __future__ import annotations

from flask import current_app
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from learning.catalog.models import Course, CourseStatus, Lesson
from learning.extensions import db
from learning.orgs.models import Member
from learning.orgs.queries import is_admin


def courses_visible_to(actor: Member | None) -> Select[tuple[Course]]:
    """Members see published courses; administrators also drafts and archived ones. Courses
    limited to some learner kinds are filtered by `open_to_kind` (a JSON list, read in Python)."""
    query = select(Course)
    if not is_admin(actor):
        query = query.where(Course.status == CourseStatus.PUBLISHED)
    return query


def open_to_kind(course: Course, kind: str | None) -> bool:
    """Courses without allowed kinds, and skills courses, are open to every learner."""
    return (not course.allowed_kinds or course.category in current_app.config["OPEN_CATEGORIES"]
            or kind in course.allowed_kinds)


def open_to(actor: Member | None, course: Course) -> bool:
    return is_admin(actor) or open_to_kind(course, getattr(actor, "member_kind", None))


def can_view_course(actor: Member | None, course: Course) -> bool:
    return (course.status == CourseStatus.PUBLISHED or is_admin(actor)) and open_to(actor, course)


# Study length of a whole course, in minutes: short fits a lunch break, long needs several.
LENGTHS = {"short": (0, 20), "medium": (20, 40), "long": (40, 10_000)}


def course_minutes(course: Course) -> int:
    return round(sum(lesson.duration_s for lesson in course.required_lessons) / 60)


def suits(course: Course, occupation: str | None) -> bool:
    """A course with no audience suits everyone."""
    return not course.audience or occupation in course.audience


def catalog(actor: Member | None, *, category: str | None = None, text: str | None = None,
            length: str | None = None, mine: bool = False) -> list[Course]:
    """Courses for the catalog page. Search matches any part of a title or summary, which for
    Chinese is what people expect (交通 finds 道路交通安全) without a word segmenter."""
    query = (courses_visible_to(actor).options(selectinload(Course.lessons))
             .order_by(Course.category, Course.title))
    if category:
        query = query.where(Course.category == category)
    if text:
        like = f"%{text.strip()}%"
        query = query.where(or_(Course.title.like(like), Course.summary.like(like)))
    courses = [c for c in db.session.scalars(query) if open_to(actor, c)]
    if length in LENGTHS:
        low, high = LENGTHS[length]
        courses = [c for c in courses if low <= course_minutes(c) < high]
    if mine and actor is not None:
        courses = [c for c in courses if suits(c, actor.occupation)]
    return courses


def course_by_slug(slug: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def prerequisite_courses(course: Course) -> tuple[list[Course], list[str]]:
    """The course's prerequisites that are published (in the package's order), and the slugs
    that name no published course: plans and members ignore those, administrators see them."""
    wanted = list(course.prerequisites or [])
    found = {c.slug: c for c in db.session.scalars(
        select(Course).where(Course.slug.in_(wanted), Course.status == CourseStatus.PUBLISHED))} if wanted else {}
    return [found[s] for s in wanted if s in found], [s for s in wanted if s not in found]


def lesson_by_slug(course: Course, slug: str) -> Lesson | None:
    return db.session.scalar(select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == slug,
                                                  Lesson.retired.is_(False)))
