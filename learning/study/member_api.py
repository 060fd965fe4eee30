"""The member's own study over the API: GET /me and GET /progress."""
from __future__ import annotations

from flask import jsonify, request

from learning.api import bp, spec
from learning.api.auth import api_member, member_required
from learning.api.jsonio import parse_datetime, utc_iso
from learning.audit.operations import mask_phone
from learning.extensions import db
from learning.study import queries
from learning.orgs.kinds import KINDS
from learning.study.targets import target_for
from learning.timeutil import local_today

HOURS = {"type": "number", "minimum": 0}

ME = spec.schema("Me", spec.obj({
    "id": {"type": "integer"},
    "name": {"type": "string"},
    "phone": {"type": "string", "description": "Masked, e.g. 138****1234"},
    "branch": spec.obj({"code": {"type": "string"}, "name": {"type": "string"}}),
    "occupation": {"type": "string"},
    "member_kind": {"type": "string", "enum": list(KINDS),
                    "description": "Learner kind: full / probationary Party member, candidate (发展对象), "
                                   "activist (入党积极分子) or masses (群众)"},
    "year": {"type": "integer", "description": "The current calendar year (academy time zone)"},
    "hours": {**HOURS, "description": "学时 credited this year"},
    "target": spec.nullable({**HOURS, "description": "This year's 学时 target for the member's role; "
                                                     "null for learners who are not Party members"}),
    "points": {"type": "integer", "description": "积分 this year"},
    "courses_done": {"type": "integer", "minimum": 0},
    "streak_days": {"type": "integer", "minimum": 0,
                    "description": "Consecutive days with study, ending today or yesterday"},
    "hours_by_category": {"type": "array", "items": spec.obj({"category": {"type": "string"}, "hours": HOURS}),
                          "description": "This year's credits (online and confirmed offline) by category"},
}))

spec.operation("/me", "get", operationId="me", tags=["study"], security=spec.MEMBER,
               summary="The caller's profile, this year's 学时 against the target, points and streak",
               responses={"200": spec.json_body(ME, "The caller"), **spec.errors(401)})


@bp.get("/me")
@member_required
def me():
    member = api_member()
    today = local_today()
    counters = queries.year_counters(member, today.year)
    record = queries.year_record(member, today.year)
    return jsonify({
        "id": member.id, "name": member.name, "phone": mask_phone(member.phone),
        "branch": {"code": member.home_org.code, "name": member.home_org.name},
        "occupation": member.occupation, "member_kind": member.member_kind, "year": today.year,
        "hours": counters.hours if counters else 0.0,
        "target": target_for(member, today.year),
        "points": counters.points if counters else 0,
        "courses_done": counters.courses_done if counters else 0,
        "streak_days": queries.streak_days(member, today),
        "hours_by_category": [{"category": c, "hours": h} for c, h in record.by_category],
    })


PROGRESS_FIELDS = {
    "lesson_id": {"type": "integer"},
    "progress": {"type": "number", "minimum": 0, "maximum": 1},
    "position": {"type": "number", "minimum": 0,
                 "description": "Resume position: scroll fraction (text) or seconds (audio, video)"},
    "time_spent_s": {"type": "integer", "minimum": 0},
    "best_score": spec.nullable({"type": "integer", "minimum": 0, "maximum": 100}),
    "completed_at": spec.nullable({"type": "string", "format": "date-time"}),
}
LESSON_PROGRESS = spec.schema("LessonProgress", spec.obj(PROGRESS_FIELDS))
PROGRESS_ITEM = spec.schema("ProgressItem", spec.obj({
    **PROGRESS_FIELDS,
    "course_id": {"type": "integer"},
    "updated_at": {"type": "string", "format": "date-time"},
}))


def progress_json(row) -> dict:
    return {"lesson_id": row.lesson_id, "progress": row.progress, "position": row.position,
            "time_spent_s": row.time_spent_s, "best_score": row.best_score,
            "completed_at": utc_iso(row.completed_at)}


spec.operation(
    "/progress", "get", operationId="progress", tags=["study"], security=spec.MEMBER,
    summary="The caller's progress on every lesson they started",
    parameters=[spec.query("since", {"type": "string", "format": "date-time"},
                           "Only rows changed at or after this moment (RFC 3339 with offset)")],
    responses={"200": spec.json_body(spec.obj({"items": {"type": "array", "items": PROGRESS_ITEM}}),
                                     "Oldest change first"),
               **spec.errors(400, 401)},
)


@bp.get("/progress")
@member_required
def progress():
    raw = request.args.get("since")
    since = parse_datetime(raw, "since") if raw is not None else None
    rows = db.session.execute(queries.progress_rows(api_member(), since))
    return jsonify({"items": [{**progress_json(row), "course_id": course_id,
                               "updated_at": utc_iso(row.updated_at)} for row, course_id in rows]})
