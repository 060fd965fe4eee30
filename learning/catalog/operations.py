"""Course writes: importing a validated package into rows and media files, publishing."""
from __future__ import annotations

import shutil
import uuid
from dataclasses import asdict
from pathlib import Path

from sqlalchemy import select

from content import CoursePackage, render_markdown
from learning.audit.operations import record
from learning.catalog.models import Course, CourseStatus, Lesson
from learning.catalog.storage import remove_after_commit
from learning.community.operations import ensure_course_discussion
from learning.extensions import db
from learning.orgs.models import Member
from learning.timeutil import utcnow

MEDIA_PREFIX = "media/"


def _strip_media(path: str | None) -> str | None:
    if path is None:
        return None
    return path[len(MEDIA_PREFIX):] if path.startswith(MEDIA_PREFIX) else path


def store_package(pkg: CoursePackage, store_root: Path) -> str:
    """Copy the validated package (course.toml, lessons/, media/) into a fresh folder and return
    its name relative to store_root. A fresh folder per import means the live version's files
    are never touched: switching Course.media_dir in the database transaction is what publishes
    the new version. The stored package is also what `hongfan content export` writes out."""
    name = f"{pkg.id}/{pkg.version}-{uuid.uuid4().hex[:12]}"
    target = store_root / name
    # Only the package's own files: a folder package may carry desktop junk (.DS_Store, …)
    # that the validator ignores.
    for relative in ("course.toml", *(lesson.source for lesson in pkg.lessons), *pkg.media_files()):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pkg.root / relative, destination)
    return name


# Lesson pages live at /courses/<slug>/lessons/<lesson>, media at /courses/<slug>/media/<name>:
# a relative base keeps rendered lessons right under any URL prefix.
LESSON_MEDIA_BASE = "../media/"


def import_package(pkg: CoursePackage, *, store_root: Path, actor: Member | None, publish: bool) -> Course:
    """Create the course or replace it with a new version. Lessons are matched by id: an
    unchanged lesson (same digest) keeps its row and so members' progress; a changed one is
    updated and marked; a lesson the new version dropped is retired, never deleted. The
    superseded version's folder is removed once the new version is committed: no row points
    into it any more (every lesson of a course reads the course's one media_dir)."""
    course = db.session.scalar(select(Course).where(Course.slug == pkg.id))
    media_dir = store_package(pkg, store_root)
    if course is None:
        course = Course(slug=pkg.id, status=CourseStatus.DRAFT)
        db.session.add(course)
        previous_version = None
    else:
        previous_version = course.version
        if course.media_dir and course.media_dir != media_dir:
            remove_after_commit(db.session(), store_root / course.media_dir)
    course.version = pkg.version
    course.title = pkg.title
    course.summary = pkg.summary
    course.category = pkg.category
    course.hours = float(pkg.hours)
    course.audience = list(pkg.audience)
    course.tags = list(pkg.tags)
    course.prerequisites = list(pkg.prerequisites)
    course.cover = _strip_media(pkg.cover)
    course.media_dir = media_dir

    existing = {lesson.slug: lesson for lesson in course.lessons}
    seen = set()
    for position, spec in enumerate(pkg.lessons, start=1):
        seen.add(spec.slug)
        lesson = existing.get(spec.slug)
        if lesson is None:
            lesson = Lesson(slug=spec.slug)
            course.lessons.append(lesson)
        elif lesson.digest != spec.digest or lesson.retired:
            lesson.changed_in = pkg.version
            lesson.changed_at = utcnow()
        lesson.position = position
        lesson.title = spec.title
        lesson.kind = spec.kind
        lesson.body_html = render_markdown(spec.body_markdown, media_base=LESSON_MEDIA_BASE)
        lesson.media = _strip_media(spec.media)
        lesson.duration_s = spec.duration_s
        lesson.min_dwell_s = spec.min_dwell_s
        lesson.pass_score = spec.pass_score
        lesson.questions = [
            {**asdict(q), "options": list(q.options), "answer": list(q.answer)} for q in spec.questions
        ]
        lesson.requires = list(spec.requires)
        lesson.optional = spec.optional
        lesson.digest = spec.digest
        lesson.retired = False
    for slug, lesson in existing.items():
        if slug not in seen:
            lesson.retired = True
    if publish:
        course.status = CourseStatus.PUBLISHED
        course.published_at = course.published_at or utcnow()
    db.session.flush()
    # A course's discussion opens with the course (the existing ones: migration 5c1d0a3e9b27),
    # so reading the forum never has to create a row.
    ensure_course_discussion(course)
    record("course_imported", actor_id=actor.id if actor else None, target=f"course:{course.slug}",
           version=pkg.version, previous_version=previous_version, published=publish)
    return course


def set_status(course: Course, status: str, *, actor: Member) -> None:
    """Publish, unpublish (back to draft) or archive; members see published courses only."""
    if status not in set(CourseStatus):
        raise ValueError(status)
    previous = course.status
    course.status = status
    if status == CourseStatus.PUBLISHED and course.published_at is None:
        course.published_at = utcnow()
    record("course_status", actor_id=actor.id, target=f"course:{course.slug}", before=previous, after=status)


def edit_metadata(course: Course, *, actor: Member, title: str, summary: str, category: str,
                  hours: float, audience: list[str], allowed_kinds: list[str] | None = None) -> None:
    """Administrator edits; the next package version overwrites them again (the package is
    the source of truth for what it declares)."""
    before = {"title": course.title, "category": course.category, "hours": course.hours,
              "audience": list(course.audience), "allowed_kinds": list(course.allowed_kinds or [])}
    kinds = list(course.allowed_kinds or []) if allowed_kinds is None else sorted(set(allowed_kinds))
    course.title, course.summary, course.category = title, summary, category
    course.hours, course.audience, course.allowed_kinds = float(hours), audience, kinds
    after = {"title": title, "category": category, "hours": float(hours), "audience": audience,
             "allowed_kinds": kinds}
    record("course_edited", actor_id=actor.id, target=f"course:{course.slug}",
           changes={k: [before[k], after[k]] for k in before if before[k] != after[k]})
