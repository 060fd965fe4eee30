"""POST /api/v1/events: the phone's outbox of study events."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from learning.api import bp, spec
from learning.api.auth import api_member
from learning.api.jsonio import error
from learning.study import events
from learning.timeutil import utcnow

MAX_BODY_BYTES = 512 * 1024  # 100 events are a few tens of kilobytes

EVENT = spec.schema("StudyEvent", {
    "type": "object",
    "required": ["id", "lesson_id", "kind", "occurred_at"],
    "properties": {
        "id": {"type": "string", "format": "uuid",
               "description": "Made by the client once per event; sending it again is harmless."},
        "lesson_id": {"type": "integer", "minimum": 1},
        "kind": {"type": "string", "enum": list(events.KINDS)},
        "position": {"type": "number", "minimum": 0, "maximum": events.MAX_SECONDS, "nullable": True,
                     "description": "Resume point: scroll fraction (text) or media seconds. Merged by maximum."},
        "progress": {"type": "number", "minimum": 0, "maximum": 1, "nullable": True,
                     "description": "Fraction read or watched. Merged by maximum; video/audio complete at 0.9."},
        "time_spent_s": {"type": "number", "minimum": 0, "maximum": events.MAX_SECONDS, "nullable": True,
                         "description": "Seconds of study since this device's previous event for the lesson "
                                        "(a delta; the server adds them up)."},
        "answers": {"type": "array", "nullable": True, "items": {"type": "array", "items": {"type": "integer"}},
                    "description": "kind=answer only: for each question, the chosen option indices."},
        "occurred_at": {"type": "string", "format": "date-time",
                        "description": "When it happened on the phone, with a time zone. Decides the order "
                                       "of application and the calendar year of a credit."},
    },
})
# The batch is accepted as long as it is a list: each item is checked on its own
# against StudyEvent, and one that does not match is listed in "rejected" while the rest apply.
ITEM = {"description": "A StudyEvent (see that schema); an item that is not one "
                                         "it is rejected alone, with the reason, in the 200 answer."}
BATCH = spec.schema("StudyEventBatch", {
    "oneOf": [
        {"type": "array", "maxItems": events.MAX_BATCH, "items": ITEM},
        {"type": "object", "required": ["events"], "additionalProperties": False,
         "properties": {"events": {"type": "array", "maxItems": events.MAX_BATCH, "items": ITEM}}},
    ],
})
RESULT = spec.schema("StudyEventResult", {
    "type": "object",
    "required": ["accepted", "duplicates", "rejected"],
    "properties": {
        "accepted": {"type": "array", "items": {"type": "string"}, "description": "Stored and committed now."},
        "duplicates": {"type": "array", "items": {"type": "string"},
                       "description": "Stored before with the same body; nothing changed."},
        "rejected": {"type": "array", "items": {
            "type": "object", "required": ["id", "error"],
            "properties": {"id": {"type": "string", "nullable": True}, "error": {"type": "string"}},
        }, "description": "Not stored, with a reason in the user's language; do not resend unchanged."},
    },
})
spec.operation(
    "/events", "post", operationId="post_events", tags=["study"], security=spec.MEMBER,
    summary="Send study events (at most 100)",
    description="Idempotent: every event carries a client-made UUID. Events apply in occurred_at order "
                "per lesson; progress never moves backwards; a malformed event is rejected alone. "
                "Cookie sessions send the CSRF token in the X-CSRFToken header.",
    requestBody={"required": True, "content": {"application/json": {"schema": BATCH}}},
    responses={"200": spec.json_body(RESULT, "Per-event outcome"), **spec.errors(400, 401, 413)},
)


@bp.post("/events")
def post_events():
    member = api_member()
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return error(413, _("一次提交的数据太大。"))
    try:
        prepared = events.prepare(events.parse_batch(request.get_json(force=True, silent=True)), utcnow())
    except events.BatchInvalid as problem:
        return error(400, problem.message)
    return jsonify(events.store(member, prepared).as_json())
