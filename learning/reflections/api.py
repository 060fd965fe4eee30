"""/api/v1/reflections: the caller's 学习心得, listed, written and rewritten from the phone."""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from learning.api import bp, spec
from learning.api.auth import api_member, member_required
from learning.api.jsonio import error, json_object, utc_iso
from learning.catalog.queries import can_view_course, course_by_slug
from learning.extensions import db
from learning.reflections import operations, queries
from learning.reflections.models import Reflection, ReflectionStatus

REFLECTION = spec.schema("Reflection", spec.obj({
    "id": {"type": "integer"},
    "course": {"type": "string", "description": "course slug"},
    "course_title": {"type": "string"},
    "body": {"type": "string"},
    "status": {"type": "string", "enum": [s.value for s in ReflectionStatus],
               "description": "submitted: waiting for the secretary; returned: edit and resubmit; approved: final"},
    "review_comment": {"type": "string", "description": "the secretary's comment (empty when none)"},
    "featured": {"type": "boolean", "description": "shown on the branch page"},
    "submissions": {"type": "integer", "minimum": 1},
    "submitted_at": {"type": "string", "format": "date-time"},
    "reviewed_at": spec.nullable({"type": "string", "format": "date-time"}),
}))


def reflection_json(r: Reflection) -> dict:
    return {"id": r.id, "course": r.course.slug, "course_title": r.course.title, "body": r.body,
            "status": r.status, "review_comment": r.review_comment, "featured": r.featured,
            "submissions": r.submissions, "submitted_at": utc_iso(r.submitted_at),
            "reviewed_at": utc_iso(r.reviewed_at)}


@bp.get("/reflections")
@member_required
def reflections_list():
    rows = db.session.scalars(queries.own_reflections(api_member()))
    return jsonify({"items": [reflection_json(r) for r in rows]})


spec.operation(
    "/reflections", "get", operationId="reflections_list", tags=["reflections"], security=spec.MEMBER,
    summary="The caller's 学习心得 with their review status, newest first",
    responses={"200": spec.json_body(spec.obj({"items": {"type": "array", "items": REFLECTION}}), "the reflections"),
               **spec.errors(401)})


@bp.post("/reflections")
@member_required
def reflections_write():
    member = api_member()
    body = json_object()
    slug, text = body.get("course"), body.get("body")
    if not isinstance(slug, str) or not slug:
        return error(400, _("请求内容应为 JSON，例如 {\"course\": \"课程编号\", \"body\": \"心得\"}。"), field="course")
    if not isinstance(text, str):
        return error(400, _("body 应为文字。"), field="body")
    course = course_by_slug(slug)
    if course is None or not can_view_course(member, course):
        return error(404, _("没有这门课程。"))
    created = queries.reflection_of(member, course) is None
    try:
        reflection = operations.submit(member, course, text)
    except operations.ReflectionError as refused:
        return error(refused.status, refused.message, **({"field": "body"} if refused.status == 400 else {}))
    return jsonify(reflection_json(reflection)), 201 if created else 200


spec.operation(
    "/reflections", "post", operationId="reflections_write", tags=["reflections"], security=spec.MEMBER,
    summary="Write, or rewrite and resubmit, the caller's 学习心得 on a course they finished",
    description="One reflection per course. A new or edited reflection waits for the branch secretary; an "
                "approved one is final (409), and so is a course the caller has not finished. Length limits "
                "are settings (400 with the limits in `error`). Send the CSRF token in X-CSRFToken when calling "
                "with the session cookie.",
    requestBody={"required": True, **spec.json_body(spec.obj({
        "course": {"type": "string", "minLength": 1, "description": "course slug"},
        "body": {"type": "string", "description": "the reflection, plain text"},
    }), "the reflection")},
    responses={"201": spec.json_body(REFLECTION, "written, waiting for review"),
               "200": spec.json_body(REFLECTION, "rewritten and resubmitted"),
               **spec.errors(400, 401, 404, 409)})
