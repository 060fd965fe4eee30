from __future__ import annotations

from sqlalchemy import Select, or_, select

from learning.catalog.models import Course, CourseStatus, Lesson
from learning.extensions import db
from learning.orgs.models import Member
from learning.orgs.queries import is_admin


def courses_visible_to(actor: Member | None) -> Select[tuple[Course]]:
    """Members see published courses; administrators also drafts and archived ones."""
    query = select(Course)
    if not is_admin(actor):
        query = query.where(Course.status == CourseStatus.PUBLISHED)
    return query


def can_view_course(actor: Member | None, course: Course) -> bool:
    return course.status == CourseStatus.PUBLISHED or is_admin(actor)


def catalog(actor: Member | None, *, category: str | None = None, text: str | None = None) -> list[Course]:
    query = courses_visible_to(actor).order_by(Course.category, Course.title)
    if category:
        query = query.where(Course.category == category)
    if text:
        like = f"%{text.strip()}%"
        query = query.where(or_(Course.title.like(like), Course.summary.like(like)))
    return list(db.session.scalars(query))


def course_by_slug(slug: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def lesson_by_slug(course: Course, slug: str) -> Lesson | None:
    return db.session.scalar(select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == slug,
                                                  Lesson.retired.is_(False)))
