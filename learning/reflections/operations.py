"""Writes for 学习心得: submit (or resubmit), review, feature. Operations flush, never commit."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import update

from learning.audit.operations import record
from learning.catalog.models import Course
from learning.extensions import db
from learning.orgs.models import Member
from learning.reflections.models import Reflection, ReflectionStatus
from learning.reflections.queries import has_completed, reflection_of
from learning.study.points import REFLECTION_APPROVED, Ledger
from learning.timeutil import utcnow


class ReflectionError(Exception):
    """A refused write, with the message the user reads; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def length_limits() -> tuple[int, int]:
    return int(current_app.config["REFLECTION_MIN_CHARS"]), int(current_app.config["REFLECTION_MAX_CHARS"])


def clean_body(body: str) -> str:
    """Plain text (shown escaped); line ends normalized, outer blank space dropped."""
    text = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    low, high = length_limits()
    if len(text) < low:
        raise ReflectionError(_("学习心得至少 %(n)s 个字（现在 %(m)s 个）。", n=low, m=len(text)))
    if len(text) > high:
        raise ReflectionError(_("学习心得最多 %(n)s 个字（现在 %(m)s 个）。", n=high, m=len(text)))
    return text


def submit(member: Member, course: Course, body: str) -> Reflection:
    """Write or rewrite the member's reflection on a course they finished; an approved one is final."""
    if not has_completed(member, course):
        raise ReflectionError(_("学完《%(title)s》后才能写学习心得。", title=course.title), 409)
    text = clean_body(body)
    reflection = reflection_of(member, course)
    now = utcnow()
    if reflection is None:
        reflection = Reflection(member_id=member.id, course_id=course.id, body=text,
                                status=ReflectionStatus.SUBMITTED, submissions=1, created_at=now, submitted_at=now)
        db.session.add(reflection)
    elif reflection.status == ReflectionStatus.APPROVED:
        raise ReflectionError(_("这篇学习心得已经审核通过，不能再修改。"), 409)
    else:
        if reflection.status == ReflectionStatus.RETURNED:
            reflection.submissions += 1
        reflection.body, reflection.status, reflection.submitted_at = text, ReflectionStatus.SUBMITTED, now
    db.session.flush()
    record("reflection_submitted", actor_id=member.id, target=f"reflection:{reflection.id}",
           course=course.slug, chars=len(text), submission=reflection.submissions)
    return reflection


def review(reviewer: Member, reflection: Reflection, *, approve: bool, comment: str) -> int:
    """Approve (points paid once, by the points rules) or return with a comment. The status
    moves with a conditional UPDATE, so two reviewers at once cannot both act on one
    submission. Returns the points paid."""
    comment = comment.strip()
    if not approve and not comment:
        raise ReflectionError(_("退回时请写明修改意见。"))
    now = utcnow()
    new_status = ReflectionStatus.APPROVED if approve else ReflectionStatus.RETURNED
    moved = db.session.execute(
        update(Reflection).where(Reflection.id == reflection.id, Reflection.status == ReflectionStatus.SUBMITTED)
        .values(status=new_status, review_comment=comment[:500], reviewed_at=now, reviewed_by_id=reviewer.id)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise ReflectionError(_("这篇学习心得已经审核过了。"), 409)
    db.session.refresh(reflection)
    points = Ledger(reflection.member_id).award(REFLECTION_APPROVED, f"reflection:{reflection.id}", now) \
        if approve else 0
    db.session.flush()
    record("reflection_reviewed", actor_id=reviewer.id, target=f"reflection:{reflection.id}",
           member_id=reflection.member_id, decision=new_status.value, comment=comment[:200], points=points)
    return points


def set_featured(actor: Member, reflection: Reflection, featured: bool) -> None:
    if reflection.status != ReflectionStatus.APPROVED:
        raise ReflectionError(_("只有审核通过的学习心得才能展示在支部页面。"), 409)
    if reflection.featured == featured:
        return
    reflection.featured = featured
    record("reflection_featured", actor_id=actor.id, target=f"reflection:{reflection.id}", featured=featured)
