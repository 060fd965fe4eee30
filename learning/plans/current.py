"""A member's current plan for the rest of the year: required courses first (by due date), then
recommendations that fill the 学时 gap — from the newest trained model, or from transparent rules
(popular within the same occupation, then newest) while no model exists.

The plan is stored (LearningPlan). It is served as stored while what it was built from is
unchanged — the member's completions, started and dismissed courses, the assignments that concern
them, the model file, the catalogue, the week — and rebuilt with the stored plan as ``previous``
when any of that changes, so courses already planned keep their place from day to day.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from learning.catalog.models import Course, CourseStatus
from learning.database import write_transactions
from learning.extensions import db
from learning.orgs.models import Member
from learning.plans import operations, queries
from learning.plans.models import LearningPlan
from learning.plans.models_store import current_model, newest_model_path
from learning.study.queries import year_counters
from learning.study.targets import target_for
from recommender import Profile, Reason
from recommender.plan import CourseInfo, PlanCatalogue, PlanItem, Requirement, build_plan, week_of

log = logging.getLogger(__name__)
CANDIDATES = 50  # ask the model for more than a plan needs, so the builder can balance categories


@dataclass(frozen=True)
class PlanView:
    items: list[tuple[PlanItem, Course]]
    model: str | None  # model file name; None when the transparent rules were used
    year: int
    hours_done: float
    target: float | None  # None: a learner kind without an annual target

    @property
    def rules(self) -> bool:
        return self.model is None


@dataclass(frozen=True)
class _Inputs:
    history: list[str]
    started: list[str]
    dismissed: list[str]
    required: list[Requirement]
    model: str | None
    basis: str


def _inputs(member: Member, today: date, hours_done: float, target: float | None) -> _Inputs:
    history, started = queries.history(member), queries.started(member)
    dismissed, required = queries.dismissed(member), queries.requirements(member)
    newest = newest_model_path()
    model = newest.name if newest is not None else None
    facts = {"year": today.year, "week": week_of(today), "history": history, "started": started,
             "dismissed": dismissed, "required": [(r.course_id, r.due_on.isoformat()) for r in required],
             "model": model, "catalogue": queries.catalogue_stamp(), "hours": round(hours_done, 2),
             "target": target, "org": member.home_org_id, "occupation": member.occupation, "kind": member.member_kind,
             "birth_year": member.birth_year}
    basis = hashlib.sha256(json.dumps(facts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return _Inputs(history, started, dismissed, required, model, basis)


def current_plan(member: Member, *, today: date, hours_done: float, target: float | None,
                 session: Session | None = None) -> PlanView:
    """The member's plan. A changed plan is stored in ``session`` (flushed, committed by the
    caller) when given — a request that writes anyway, such as a dismissal — and otherwise in a
    short transaction of its own: GET requests never write through the request's session
    (learning/database.py), yet the plan must be kept so tomorrow's builds from it."""
    inputs = _inputs(member, today, hours_done, target)
    stored = queries.stored_plan(member)
    if stored is not None and stored.basis == inputs.basis:
        return _view(stored, today, hours_done, target)
    items, by_slug, model = _build(member, inputs, stored, today, hours_done, target)
    rows = [(item, by_slug[item.course_id].id) for item in items]
    if session is not None:
        operations.save_plan(session, member.id, today.year, model, inputs.basis, rows)
    else:
        _save_apart(member.id, today.year, model, inputs.basis, rows)
    return PlanView(items=[(item, by_slug[item.course_id]) for item in items], model=model,
                    year=today.year, hours_done=hours_done, target=target)


def _build(member: Member, inputs: _Inputs, stored: LearningPlan | None, today: date,
           hours_done: float, target: float | None) -> tuple[list[PlanItem], dict[str, Course], str | None]:
    courses = queries.courses_open_to(member)
    by_slug = {c.slug: c for c in courses}
    # a prerequisite naming no published course is ignored: the builder would otherwise drop the
    # course that needs it as one the member cannot take
    catalogue = PlanCatalogue(CourseInfo(course_id=c.slug, title=c.title, hours=c.hours, category=c.category,
                                         prerequisites=tuple(p for p in c.prerequisites or () if p in by_slug))
                              for c in courses)
    loaded = current_model()
    if loaded is not None:
        model, recommender = loaded
        profile = Profile(age=today.year - member.birth_year if member.birth_year else None,
                          occupation=member.occupation, history=inputs.history, dismissed=inputs.dismissed,
                          attributes=queries.member_attributes(member))
        candidates = recommender.recommend(profile, k=CANDIDATES)
    else:
        model, candidates = None, queries.rule_candidates(member, courses)
    # Yesterday's plan keeps its order — unless it came from the stand-in rules and a model now
    # exists: the first plan from a model is the model's (started courses still come first).
    carried = stored is not None and stored.year == today.year and (stored.model_version is not None or model is None)
    previous = _stored_items(stored) if carried else []
    # Without a target there is no gap to fill: the plan still offers a few recommendations.
    gap = (target if target is not None else 0.0) - hours_done
    items = build_plan(candidates, catalogue, hours_gap=gap, today=today,
                       required=inputs.required, completed=inputs.history, started=inputs.started,
                       dismissed=inputs.dismissed, previous=previous)
    return [item for item in items if item.course_id in by_slug], by_slug, model


def _stored_items(plan: LearningPlan) -> list[PlanItem]:
    items = []
    for row in plan.items:
        why = Reason(row.reason_code, {str(k): str(v) for k, v in (row.reason_params or {}).items()})
        items.append(PlanItem(course_id=row.course.slug, position=row.position, due_week=row.due_week,
                              source=row.source, reason=why.text("zh"), why=why, hours=row.course.hours,
                              category=row.course.category, due_on=row.due_on))
    return items


def _view(plan: LearningPlan, today: date, hours_done: float, target: float | None) -> PlanView:
    published = {row.course.slug: row.course for row in plan.items if row.course.status == CourseStatus.PUBLISHED}
    items = [(item, published[item.course_id]) for item in _stored_items(plan) if item.course_id in published]
    return PlanView(items=items, model=plan.model_version, year=today.year, hours_done=hours_done, target=target)


def _save_apart(member_id: int, year: int, model: str | None, basis: str, rows) -> None:
    """Store the plan in its own short write transaction. Losing the race to a concurrent
    request of the same member is harmless: it stored an equivalent plan."""
    try:
        with write_transactions(), Session(db.engine) as session:
            operations.save_plan(session, member_id, year, model, basis, rows)
            session.commit()
    except (IntegrityError, OperationalError) as error:
        log.warning("plan of member %s not stored: %s", member_id, error)


def member_plan(member: Member, today: date, session: Session | None = None) -> PlanView:
    """The plan with this year's 学时 and target read for the member (the API's view)."""
    counters = year_counters(member, today.year)
    return current_plan(member, today=today, hours_done=counters.hours if counters else 0.0,
                        target=target_for(member, today.year), session=session)
