from __future__ import annotations

from flask import abort, render_template, request, send_from_directory
from flask_login import current_user, login_required

from learning.catalog import bp, queries
from learning.catalog.storage import course_store
from learning.study.queries import course_state, progress_by_lesson


def _course_or_404(slug: str):
    course = queries.course_by_slug(slug)
    if course is None or not queries.can_view_course(current_user, course):
        abort(404)
    return course


@bp.route("/courses")
@login_required
def index():
    category = request.args.get("category") or None
    text = (request.args.get("q") or "").strip()[:50] or None
    courses = queries.catalog(current_user, category=category, text=text)
    categories = sorted({c.category for c in queries.catalog(current_user)})
    return render_template("catalog/index.html", courses=courses, categories=categories,
                           category=category, q=text or "")


@bp.route("/courses/<slug>")
@login_required
def course(slug: str):
    course = _course_or_404(slug)
    progress = progress_by_lesson(current_user, [lesson.id for lesson in course.lessons])
    return render_template("catalog/course.html", course=course, progress=progress,
                           state=course_state(current_user, course))


@bp.route("/courses/<slug>/lessons/<lesson_slug>")
@login_required
def lesson(slug: str, lesson_slug: str):
    course = _course_or_404(slug)
    lesson = queries.lesson_by_slug(course, lesson_slug)
    if lesson is None:
        abort(404)
    progress = progress_by_lesson(current_user, [lesson.id]).get(lesson.id)
    lessons = [item for item in course.lessons if not item.retired]
    index = lessons.index(lesson)
    following = lessons[index + 1] if index + 1 < len(lessons) else None
    return render_template("catalog/lesson.html", course=course, lesson=lesson, progress=progress,
                           following=following, position=index + 1, count=len(lessons))


@bp.route("/courses/<slug>/media/<path:name>")
@login_required
def media(slug: str, name: str):
    """Lesson media with HTTP Range support (phones seek and resume), exact types, nosniff."""
    course = _course_or_404(slug)
    if not course.media_dir:
        abort(404)
    root = course_store() / course.media_dir / "media"
    # send_from_directory refuses paths that escape root; conditional=True answers Range requests.
    return send_from_directory(root, name, conditional=True, max_age=3600)
