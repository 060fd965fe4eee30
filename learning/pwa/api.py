"""API routes of the web app on the phone: its session check and the offline-course package."""
from __future__ import annotations

from flask import abort, jsonify
from flask_wtf.csrf import generate_csrf

from learning.api import bp, spec
from learning.api.auth import api_member, member_required
from learning.catalog.queries import can_view_course, course_by_slug
from learning.pwa.queries import offline_package

spec.operation(
    "/session", "get", operationId="session_info", tags=["pwa"], security=spec.MEMBER,
    summary="The signed-in member's id and a fresh CSRF token for cookie-authenticated writes",
    description="The outbox on the phone calls this before sending study events: it learns whether "
                "the session is still alive (401 otherwise) and whose events it may send.",
    responses={"200": spec.json_body(spec.schema("Session", spec.obj({
        "member_id": {"type": "integer"}, "csrf_token": {"type": "string"}})), "signed in"),
               **spec.errors(401)},
)


@bp.get("/session")
@member_required
def session_info():
    response = jsonify({"member_id": api_member().id, "csrf_token": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response


spec.operation(
    "/courses/{slug}/offline", "get", operationId="course_offline", tags=["pwa"], security=spec.MEMBER,
    summary="What to download to study a course offline (离线学习)",
    parameters=[{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
    responses={"200": {"description": "pages always, media optionally", "content": {"application/json": {
        "schema": spec.schema("OfflinePackage", {
            "type": "object", "required": ["slug", "version", "pages", "media", "media_bytes"],
            "properties": {
                "slug": {"type": "string"}, "version": {"type": "string"},
                "pages": {"type": "array", "items": {"type": "string"}},
                "media": {"type": "array", "items": {"type": "object", "required": ["url", "bytes", "lesson_id"],
                          "properties": {"url": {"type": "string"}, "bytes": {"type": "integer"},
                                         "lesson_id": {"type": "integer"}}}},
                "media_bytes": {"type": "integer"}}})}}},
               **spec.errors(401, 404)},
)


@bp.get("/courses/<slug>/offline")
@member_required
def course_offline(slug: str):
    course = course_by_slug(slug)
    if course is None or not can_view_course(api_member(), course):
        abort(404)
    package = offline_package(course)
    return jsonify({"slug": course.slug, "version": course.version, "pages": package.pages,
                    "media": package.media, "media_bytes": package.media_bytes})
