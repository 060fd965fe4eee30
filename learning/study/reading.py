"""Reading time measured by the server, for a lesson page opened without script.

The lesson page's script reports the time a member spends reading (study events, counted while
the page is visible). A browser without script — a basic phone, a locked-down work phone, a
reader mode — sends nothing, so its member could never meet a text lesson's minimum reading
time. The page therefore carries a signed note of when it was served; the "我已学完本课" form
sends it back, and the time between the two counts as reading, at most twice the lesson's
expected length. The script removes the note as soon as it runs, so time is never counted twice.

Each note carries an id of its own that becomes the id of the completion event it credits: the
same form sent again (the back button, a double tap) adds no time.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from learning.catalog.models import Lesson
from learning.orgs.models import Member

_SALT = "hongfan.lesson-opened"
MAX_AGE_S = 24 * 3600  # a page left open longer than a day earns nothing from its note


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def opened_note(member: Member, lesson: Lesson) -> str:
    """The note a lesson page carries: who opened which lesson, and when (signed)."""
    return _serializer().dumps({"m": member.id, "l": lesson.id, "n": uuid.uuid4().hex})


def credit_cap(lesson: Lesson) -> int:
    return 2 * max(lesson.duration_s or 0, lesson.min_dwell_s or 0)


def time_on_page(note: str | None, member: Member, lesson: Lesson, now: datetime) -> tuple[uuid.UUID, int] | None:
    """(the note's id, seconds to credit) for a note this member's page of this lesson carried;
    None for a missing, forged, foreign or expired note. `now` is naive UTC (timeutil.utcnow)."""
    if not note:
        return None
    try:
        data, signed = _serializer().loads(note, return_timestamp=True)
        note_id = uuid.UUID(hex=data["n"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if data.get("m") != member.id or data.get("l") != lesson.id:
        return None
    elapsed = (now.replace(tzinfo=UTC) - signed).total_seconds()  # the age is judged by `now`, as the event is
    if elapsed > MAX_AGE_S:
        return None
    return note_id, int(max(0, min(elapsed, credit_cap(lesson))))
