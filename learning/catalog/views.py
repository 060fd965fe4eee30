from __future__ import annotations

import unicodedata
from pathlib import Path
from urllib.parse import quote

from flask import Response, abort, current_app, render_template, request, send_from_directory
from werkzeug.utils import safe_join
from flask_login import current_user, login_required

from learning.catalog import bp, queries
from learning.catalog.storage import course_store
from learning.reflections.queries import has_completed
from learning.study.queries import completed_among, course_state, progress_by_lesson
from learning.study.reading import opened_note


# Exact types by extension (the platform's own table would vary between machines).
MEDIA_TYPES = {".mp4": "video/mp4", ".m4a": "audio/mp4", ".mp3": "audio/mpeg", ".pdf": "application/pdf",
               ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


# For media opened as documents (a link followed, "open image in new tab"): `sandbox` gives the
# response an opaque origin and no script, whatever the file holds.
MEDIA_CSP = ("sandbox; default-src 'none'; img-src 'self'; media-src 'self'; object-src 'none'; base-uri 'none'; "
             "frame-ancestors 'self'")
# Not for PDFs: Chromium and Safari refuse to start their PDF viewer in a sandboxed document
# (a blank frame, "blocked by Chrome"), and a restrictive default-src breaks the viewer's own
# styles. A PDF is safe without it: the validator admits only files that start with %PDF-,
# they are sent as application/pdf with nosniff, so no browser treats them as HTML, and a
# PDF's own JavaScript runs inside the viewer, without the academy's origin. Framing stays
# limited to the academy's pages. object-src 'none' and base-uri 'none' leave Chromium's viewer
# working (checked in headless Chromium 2026-11: the viewer renders the page).
PDF_CSP = "object-src 'none'; base-uri 'none'; frame-ancestors 'self'"


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
    length = request.args.get("length") if request.args.get("length") in queries.LENGTHS else None
    mine = request.args.get("mine") == "1"
    courses = queries.catalog(current_user, category=category, text=text, length=length, mine=mine)
    categories = sorted({c.category for c in queries.catalog(current_user)})
    return render_template("catalog/index.html", courses=courses, categories=categories,
                           category=category, q=text or "", length=length, mine=mine,
                           minutes=queries.course_minutes)


@bp.route("/courses/<slug>")
@login_required
def course(slug: str):
    course = _course_or_404(slug)
    progress = progress_by_lesson(current_user, [lesson.id for lesson in course.lessons])
    prerequisites, _unknown = queries.prerequisite_courses(course)
    done = completed_among(current_user, prerequisites)
    return render_template("catalog/course.html", course=course, progress=progress,
                           state=course_state(current_user, course),
                           can_reflect=has_completed(current_user, course),
                           missing=[c for c in prerequisites if c.id not in done])


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
                           following=following, position=index + 1, count=len(lessons),
                           opened=opened_note(current_user, lesson))


@bp.route("/courses/<slug>/media/<path:name>")
@login_required
def media(slug: str, name: str):
    """Lesson media with HTTP Range support (phones seek and resume), exact types, nosniff."""
    course = _course_or_404(slug)
    if not course.media_dir:
        abort(404)
    return send_media(course_store() / course.media_dir / "media", name,
                      accel=f"{course.media_dir}/media/{name}")


def send_media(root: Path, name: str, accel: str | None = None) -> Response:
    """A media file under `root`, as a sandboxed document: opened on its own (a PDF in its
    frame, a link followed) it runs no script with the academy's origin, whatever it holds.
    `?download=1` asks for an attachment. `accel`: the file's path for X-Accel-Redirect."""
    mimetype = MEDIA_TYPES.get(Path(name).suffix.lower())
    if mimetype is None:
        abort(404)  # the validator only lets these types into a package
    download = request.args.get("download") == "1"
    prefix = current_app.config.get("MEDIA_ACCEL_PREFIX")
    if prefix and accel:
        # The app checks login and visibility; nginx sends the bytes (Range, sendfile, slow
        # phones) from an `internal` location mapped onto instance/courses/.
        target = safe_join(str(root), name)
        if target is None or not Path(target).is_file():
            abort(404)
        response = Response(status=200, mimetype=mimetype)
        response.headers["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{accel}"
        response.headers.set("Content-Disposition", "attachment" if download else "inline",
                             **_filename_options(Path(name).name))
    else:
        # send_from_directory refuses paths that escape root; conditional=True answers Range
        # requests (206, or 416 for a range outside the file) so phones can seek and resume.
        response = send_from_directory(root, name, mimetype=mimetype, conditional=True, max_age=3600,
                                       as_attachment=download, download_name=Path(name).name)
    # behind the login: the phone's browser may keep it an hour, a shared cache never
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.max_age = 3600
    response.headers["Content-Security-Policy"] = PDF_CSP if mimetype == "application/pdf" else MEDIA_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _filename_options(filename: str) -> dict[str, str]:
    """Content-Disposition file name parameters as send_file writes them (RFC 6266: an ASCII
    fallback and the UTF-8 name for Chinese file names)."""
    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
        return {"filename": fallback or "file", "filename*": "UTF-8''" + quote(filename, safe="!#$&+^`|")}
    return {"filename": filename}
