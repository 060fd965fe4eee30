"""The course catalogue over the API: GET /courses and GET /courses/{slug}."""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from learning.api import bp, spec
from learning.api.auth import api_member, member_required
from learning.api.jsonio import bool_arg, choice_arg, error, int_arg, text_arg
from learning.catalog import queries
from learning.catalog.models import Course, CourseStatus
from learning.study.member_api import LESSON_PROGRESS, progress_json
from learning.study.queries import course_state, progress_by_lesson

COURSE_FIELDS = {
    "id": {"type": "integer"},
    "slug": {"type": "string"},
    "version": {"type": "string"},
    "title": {"type": "string"},
    "summary": {"type": "string"},
    "category": {"type": "string"},
    "hours": {"type": "number", "minimum": 0, "description": "学时 credited on completion"},
    "minutes": {"type": "integer", "minimum": 0, "description": "Study length of the required lessons"},
    "audience": {"type": "array", "items": {"type": "string"},
                 "description": "Occupations the course is written for; empty means everyone"},
    "lesson_count": {"type": "integer", "minimum": 0},
    "status": {"type": "string", "enum": [s.value for s in CourseStatus],
               "description": "Always published for members; administrators also see drafts"},
}
COURSE = spec.schema("Course", spec.obj(COURSE_FIELDS))
LESSON = spec.schema("Lesson", spec.obj({
    "id": {"type": "integer"},
    "slug": {"type": "string"},
    "position": {"type": "integer"},
    "kind": {"type": "string", "enum": ["text", "video", "audio", "pdf", "quiz", "scorm"]},
    "title": {"type": "string"},
    "duration_s": {"type": "integer", "minimum": 0},
    "optional": {"type": "boolean"},
    "progress": spec.nullable(LESSON_PROGRESS),
}))
COURSE_DETAIL = spec.schema("CourseDetail", spec.obj({
    **COURSE_FIELDS,
    "lessons": {"type": "array", "items": LESSON},
    "done": {"type": "integer", "minimum": 0, "description": "Required lessons the caller completed"},
    "total": {"type": "integer", "minimum": 0, "description": "Required lessons"},
    "resume_lesson_id": spec.nullable({"type": "integer",
                                      "description": "Where 继续学习 reopens; null when all are done"}),
}))


def _course_json(course: Course) -> dict:
    lessons = [lesson for lesson in course.lessons if not lesson.retired]
    return {"id": course.id, "slug": course.slug, "version": course.version, "title": course.title,
            "summary": course.summary, "category": course.category, "hours": course.hours,
            "minutes": queries.course_minutes(course), "audience": list(course.audience or []),
            "lesson_count": len(lessons), "status": course.status}


spec.operation(
    "/courses", "get", operationId="courses", tags=["catalog"], security=spec.MEMBER,
    summary="The course catalogue the caller may see, with the filters of the /courses page",
    parameters=[
        spec.query("category", {"type": "string", "maxLength": 20}, "Only this category"),
        spec.query("q", {"type": "string", "maxLength": 50}, "Text in the title or summary"),
        spec.query("length", {"type": "string", "enum": list(queries.LENGTHS)},
                   "short (< 20 min), medium (20–40 min) or long (≥ 40 min)"),
        spec.query("mine", {"type": "boolean"}, "Only courses written for the caller's occupation"),
        spec.query("page", {"type": "integer", "minimum": 1, "maximum": 100000}, "Page number, from 1"),
        spec.query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "Page size (default 20)"),
    ],
    responses={"200": spec.json_body(spec.obj({
        "items": {"type": "array", "items": COURSE},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1},
        "total": {"type": "integer", "minimum": 0},
    }), "One page of courses, by category then title"), **spec.errors(400, 401)},
)


@bp.get("/courses")
@member_required
def courses():
    page = int_arg("page", 1, 1, 100000)
    per_page = int_arg("per_page", 20, 1, 100)
    found = queries.catalog(api_member(), category=text_arg("category", 20), text=text_arg("q", 50),
                            length=choice_arg("length", tuple(queries.LENGTHS)), mine=bool_arg("mine"))
    start = (page - 1) * per_page
    return jsonify({"items": [_course_json(c) for c in found[start:start + per_page]],
                    "page": page, "per_page": per_page, "total": len(found)})


spec.operation(
    "/courses/{slug}", "get", operationId="course", tags=["catalog"], security=spec.MEMBER,
    summary="One course with its lessons and the caller's progress on each",
    parameters=[{"name": "slug", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}],
    responses={"200": spec.json_body(COURSE_DETAIL, "The course"), **spec.errors(401, 404)},
)


@bp.get("/courses/<slug>")
@member_required
def course(slug: str):
    member = api_member()
    found = queries.course_by_slug(slug)
    if found is None or not queries.can_view_course(member, found):
        return error(404, _("没有这门课程。"))
    lessons = [lesson for lesson in found.lessons if not lesson.retired]
    progress = progress_by_lesson(member, [lesson.id for lesson in lessons])
    state = course_state(member, found)
    return jsonify({
        **_course_json(found),
        "lessons": [{"id": lesson.id, "slug": lesson.slug, "position": lesson.position, "kind": lesson.kind,
                     "title": lesson.title, "duration_s": lesson.duration_s, "optional": lesson.optional,
                     "progress": progress_json(progress[lesson.id]) if lesson.id in progress else None}
                    for lesson in lessons],
        "done": state.done, "total": state.total,
        "resume_lesson_id": state.resume_lesson.id if state.resume_lesson else None,
    })
