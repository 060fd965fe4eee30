"""Writes: storing a plan, dismissing a course, training a new model version (training never
blocks requests: the app keeps serving the previous file until the new one is renamed into place)."""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from learning.catalog.models import Course
from learning.extensions import db
from learning.orgs.models import Member
from learning.plans.frames import training_data
from learning.plans.models import Dismissal, LearningPlan, PlannedCourse
from learning.plans.models_store import save_model
from learning.plans.queries import MEMBER_ATTRIBUTES
from learning.timeutil import local_today, utcnow
from recommender import Recommender
from recommender.plan import PlanItem


def save_plan(session: Session, member_id: int, year: int, model: str | None, basis: str,
              rows: Sequence[tuple[PlanItem, int]]) -> LearningPlan:
    """Replace the member's stored plan with `rows` (plan item, course row id); flushes."""
    plan = session.scalar(select(LearningPlan).where(LearningPlan.member_id == member_id))
    if plan is None:
        plan = LearningPlan(member_id=member_id)
        session.add(plan)
    plan.year, plan.model_version, plan.basis, plan.generated_at = year, model, basis, utcnow()
    plan.items.clear()
    session.flush()  # the old items go before new ones take their positions
    for item, course_id in rows:
        plan.items.append(PlannedCourse(
            position=item.position, course_id=course_id, due_week=item.due_week, due_on=item.due_on,
            source=item.source, reason_code=item.why.code, reason_params=dict(item.why.params)))
    session.flush()
    return plan


def dismiss(member: Member, course: Course) -> Dismissal:
    """Mark a course 不感兴趣 (idempotent). The member's plan is rebuilt on its next read: its
    basis includes the dismissals."""
    row = db.session.scalar(select(Dismissal).where(Dismissal.member_id == member.id,
                                                    Dismissal.course_id == course.id))
    if row is None:
        row = Dismissal(member_id=member.id, course_id=course.id, dismissed_at=utcnow())
        db.session.add(row)
        db.session.flush()
    return row


def train(random_state: int = 0) -> tuple[Path, dict]:
    data = training_data(local_today().year)
    started = time.perf_counter()
    model = Recommender(random_state=random_state, member_attributes=MEMBER_ATTRIBUTES).fit(data.interactions, members=data.members,
                                                      courses=data.courses, dismissals=data.dismissals)
    metadata = {"trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "fit_seconds": round(time.perf_counter() - started, 2), "data": data.summary()}
    return save_model(model, metadata), metadata
