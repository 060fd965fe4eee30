"""The plan as JSON: GET /api/v1/plan, POST /api/v1/plan/dismissals."""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask_babel import gettext as _

from learning.api import bp, spec
from learning.api.auth import api_member, member_required
from learning.api.jsonio import error
from learning.extensions import db
from learning.i18n import is_english
from learning.plans import operations, queries
from learning.plans.current import PlanView, member_plan
from learning.timeutil import local_today

_ITEM = spec.schema("PlanItem", {
    "type": "object",
    "required": ["position", "course", "week", "due_on", "required", "source", "reason", "reason_code"],
    "properties": {
        "position": {"type": "integer", "description": "1-based order: study in this order"},
        "course": {"type": "object", "properties": {
            "id": {"type": "integer"}, "slug": {"type": "string"}, "title": {"type": "string"},
            "hours": {"type": "number", "description": "学时 credited on completion"},
            "category": {"type": "string"}, "url": {"type": "string"}}},
        "week": {"type": "integer", "description": "week of the year it is planned for (1 = 1–7 January)"},
        "due_on": {"type": "string", "format": "date", "nullable": True,
                   "description": "due date of a required course, else the end of its planned week"},
        "required": {"type": "boolean", "description": "assigned by the member's branch or an organization above it"},
        "source": {"type": "string", "enum": ["required", "recommended"]},
        "reason": {"type": "string", "description": "why it is in the plan, in the caller's language"},
        "reason_code": {"type": "string"},
    },
})
_PLAN = spec.schema("Plan", {
    "type": "object",
    "required": ["year", "hours_done", "target", "model", "rules", "items"],
    "properties": {
        "year": {"type": "integer"},
        "hours_done": {"type": "number"}, "target": {"type": "number", "nullable": True,
                                                           "description": "null: no annual target (not a Party member)"},
        "model": {"type": "string", "nullable": True, "description": "model version the plan came from"},
        "rules": {"type": "boolean", "description": "true while no model exists: transparent rules were used"},
        "note": {"type": "string", "nullable": True},
        "items": {"type": "array", "items": _ITEM},
    },
})
def plan_json(view: PlanView) -> dict:
    lang = "en" if is_english() else "zh"
    return {
        "year": view.year, "hours_done": view.hours_done, "target": view.target,
        "model": view.model, "rules": view.rules,
        "note": _("推荐模型尚未训练，计划暂按透明规则排列：必修课程、同职业党员常学、最新课程。") if view.rules else None,
        "items": [{
            "position": item.position,
            "course": {"id": course.id, "slug": course.slug, "title": course.title, "hours": course.hours,
                       "category": course.category, "url": url_for("catalog.course", slug=course.slug)},
            "week": item.due_week,
            "due_on": item.due_on.isoformat() if item.due_on else None,
            "required": item.source == "required", "source": item.source,
            "reason": item.why.text(lang), "reason_code": item.why.code,
        } for item, course in view.items],
    }


@bp.get("/plan")
@member_required
def plan():
    return jsonify(plan_json(member_plan(api_member(), local_today())))


spec.operation(
    "/plan", "get", operationId="plan", tags=["plans"], security=spec.MEMBER,
    summary="The caller's learning plan for the rest of the year",
    description="Required courses first by due date, then recommendations filling the 学时 gap, "
                "each with a readable reason. Stable from day to day.",
    responses={"200": spec.json_body(_PLAN, "the plan"), **spec.errors(401)})


@bp.post("/plan/dismissals")
@member_required
def plan_dismiss():
    member = api_member()
    body = request.get_json(silent=True)
    slug = body.get("course") if isinstance(body, dict) else None
    if not isinstance(slug, str) or not slug:
        return error(400, _("请求内容应为 JSON，例如 {\"course\": \"课程编号\"}。"), field="course")
    course = queries.dismissable_course(member, slug)
    if course is None:
        return error(404, _("没有这门课程。"))
    if queries.is_required(member, course.slug):
        return error(409, _("《%(title)s》是支部要求的必修课程，不能标记为不感兴趣。", title=course.title))
    row = operations.dismiss(member, course)
    view = member_plan(member, local_today(), session=db.session)
    return jsonify({"course": course.slug, "dismissed_at": row.dismissed_at.isoformat() + "Z",
                    "plan": plan_json(view)})


spec.operation(
    "/plan/dismissals", "post", operationId="plan_dismiss", tags=["plans"], security=spec.MEMBER,
    summary="Mark a course 不感兴趣: it never comes back in the plan",
    description="Idempotent. Required courses cannot be dismissed (409). Send the CSRF token in "
                "X-CSRFToken when calling with the session cookie.",
    requestBody={"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["course"], "properties": {"course": {"type": "string", "minLength": 1,
                                                                            "description": "course slug"}}}}}},
    responses={"200": {"description": "dismissed; the rebuilt plan", "content": {"application/json": {
        "schema": {"type": "object", "properties": {"course": {"type": "string"},
                                                    "dismissed_at": {"type": "string", "format": "date-time"},
                                                    "plan": _PLAN}}}}},
               **spec.errors(400, 401, 404, 409)})
