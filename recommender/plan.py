"""Learning plans (DESIGN §5): turn recommendations into an ordered, paced list for the year.

Pure data in, data out; the app loads rows, calls ``build_plan`` and stores the items.

Order of a plan
  1. required assignments not yet completed, earliest due date first (their prerequisites just
     before them);
  2. courses from yesterday's plan that still apply, in yesterday's order, and courses the member
     has started — a plan does not reshuffle what the member is already working on;
  3. new recommendations, best first, until the remaining 学时 gap is covered, keeping any one
     category below ``max_share`` of the plan's hours while others are available (not all skills,
     not all theory), each preceded by any prerequisite the member still lacks.

Pace: the plan's hours are spread evenly over the weeks left in the year (at least
``min_weekly_hours`` a week), and each item gets the week it should be done in.  ``due_week`` counts
weeks from 1 January (week 1 = 1–7 January); ``due_on`` is the last day of that week, or the due
date of a required course.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from .profile import Recommendation
from .reasons import Reason

_SEPARATORS = re.compile(r"[,，;；|、\s]+")


@dataclass(frozen=True)
class CourseInfo:
    course_id: Hashable
    title: str
    hours: float
    category: str | None = None
    prerequisites: tuple[Hashable, ...] = ()


class PlanCatalogue:
    """The course facts the plan builder needs, indexed once (build it when the catalogue
    changes, not per plan)."""

    def __init__(self, courses: Iterable[CourseInfo]):
        self._courses = {c.course_id: c for c in courses}

    @classmethod
    def from_frame(cls, courses: pd.DataFrame) -> PlanCatalogue:
        """From DataFrame[course_id, title, hours, category, prerequisites] (only course_id is
        required; missing hours count as 1 学时)."""
        if "course_id" not in courses.columns:
            raise ValueError("courses needs a course_id column")
        n = len(courses)
        col = lambda name, default: courses[name].tolist() if name in courses.columns else [default] * n  # noqa: E731
        items = []
        for cid, title, hours, category, prereq in zip(
                courses["course_id"].tolist(), col("title", None), col("hours", None),
                col("category", None), col("prerequisites", ())):
            items.append(CourseInfo(
                course_id=cid,
                title=str(title) if _present(title) else str(cid),
                hours=float(hours) if _present(hours) and float(hours) > 0 else 1.0,
                category=str(category) if _present(category) else None,
                prerequisites=_as_tuple(prereq)))
        return cls(items)

    def get(self, course_id: Hashable) -> CourseInfo | None:
        try:
            return self._courses.get(course_id)
        except TypeError:
            return None

    def __contains__(self, course_id: object) -> bool:
        return self.get(course_id) is not None

    def __len__(self) -> int:
        return len(self._courses)


@dataclass(frozen=True)
class Requirement:
    """A required course assigned to the member's branch (or a branch above it)."""

    course_id: Hashable
    due_on: dt.date


@dataclass(frozen=True)
class PlanItem:
    course_id: Hashable
    position: int               # 1-based
    due_week: int               # week of the year the item is planned for (week 1 = 1–7 Jan)
    source: str                 # "required" | "recommended"
    reason: str                 # Chinese text for members
    why: Reason = field(compare=False)
    hours: float = 0.0
    category: str | None = None
    due_on: dt.date | None = None

    @classmethod
    def from_dict(cls, data: Mapping) -> PlanItem:
        """Rebuild a stored item (the output of ``as_dict``, or a row with at least course_id,
        position, due_week and source), e.g. yesterday's plan for ``build_plan(previous=…)``."""
        if data.get("reason_code"):
            why = Reason(str(data["reason_code"]), {str(k): str(v) for k, v in dict(data.get("reason_params") or {}).items()})
        else:
            why = Reason("recommended")
        due_on = data.get("due_on")
        if isinstance(due_on, str):
            due_on = dt.date.fromisoformat(due_on)
        return cls(course_id=data["course_id"], position=int(data["position"]), due_week=int(data["due_week"]),
                   source=str(data["source"]), reason=str(data.get("reason") or why.text("zh")), why=why,
                   hours=float(data.get("hours") or 0.0), category=data.get("category"), due_on=due_on)

    def as_dict(self, lang: str = "zh") -> dict:
        return {"course_id": self.course_id, "position": self.position, "due_week": self.due_week,
                "due_on": self.due_on.isoformat() if self.due_on else None, "source": self.source,
                "reason": self.why.text(lang), "reason_code": self.why.code,
                "reason_params": dict(self.why.params), "hours": self.hours, "category": self.category}


def week_of(day: dt.date) -> int:
    """Week of the year, 1 = 1–7 January."""
    return (day - dt.date(day.year, 1, 1)).days // 7 + 1


def build_plan(
    candidates: Sequence[Recommendation] | Mapping[Hashable, float] | pd.Series,
    catalogue: PlanCatalogue | pd.DataFrame,
    *,
    hours_gap: float,
    today: dt.date,
    year_end: dt.date | None = None,
    required: Iterable[Requirement] = (),
    completed: Iterable[Hashable] = (),
    started: Iterable[Hashable] = (),
    dismissed: Iterable[Hashable] = (),
    previous: Sequence[PlanItem] = (),
    counting_categories: Iterable[str] | None = None,
    max_share: float = 0.4,
    min_recommended: int = 3,
    max_items: int = 40,
    min_weekly_hours: float = 1.0,
) -> list[PlanItem]:
    """The member's plan for the rest of the year.

    candidates: recommendations best first (``Recommender.recommend(profile, k=50)``; ask for more
        than the plan needs so there is room to balance), or a mapping course id → score.
    hours_gap: 学时 still needed this year (target − done; ≤ 0 when the target is met, in which
        case the plan still offers ``min_recommended`` courses).
    completed / started / dismissed: the member's course ids.  Completed and dismissed courses
        never appear, except that a required course is shown even if dismissed.
    previous: yesterday's plan, for stability.
    counting_categories: categories whose hours count toward the target (None = all).
    """
    if not isinstance(catalogue, PlanCatalogue):
        catalogue = PlanCatalogue.from_frame(catalogue)
    year_end = year_end or dt.date(today.year, 12, 31)
    done = set(completed)
    dismissed_set = set(dismissed)
    counting = set(counting_categories) if counting_categories is not None else None
    ranked = _ranked(candidates)
    candidate_ids = {cid for cid, _, _ in ranked}
    candidate_why = {cid: why for cid, _, why in ranked}

    plan: list[dict] = []
    planned: set = set()

    def counts(info: CourseInfo) -> bool:
        return counting is None or info.category in counting

    def planned_hours() -> float:
        return sum(p["info"].hours for p in plan if counts(p["info"]))

    def add(cid, source: str, why: Reason, due: dt.date | None = None, override_dismissal=False,
            previous_week: int | None = None, _seen: frozenset = frozenset()) -> bool:
        """Add a course after its missing prerequisites; False if that is impossible."""
        if cid in planned:
            return True
        info = catalogue.get(cid)
        if info is None:
            if source != "required":
                return False
            info = CourseInfo(course_id=cid, title=str(cid), hours=0.0)
        if cid in dismissed_set and not override_dismissal:
            return False
        missing = [p for p in info.prerequisites if p not in done and p not in planned]
        if any(p in _seen for p in missing):           # a prerequisite cycle: ignore the edge
            missing = [p for p in missing if p not in _seen]
        # check before adding anything, so a course we cannot take leaves no orphans behind
        if not override_dismissal and not _can_take(missing, catalogue, done, planned, dismissed_set,
                                                    _seen | {cid}):
            return False
        for p in missing:
            add(p, source, Reason("prerequisite", {"title": info.title}), due, override_dismissal,
                None, _seen | {cid})
        plan.append({"id": cid, "info": info, "source": source, "why": why, "due": due,
                     "previous_week": previous_week})
        planned.add(cid)
        return True

    # 1. required, earliest due first
    pending: dict = {}
    for r in required:
        if r.course_id in done:
            continue
        if r.course_id not in pending or r.due_on < pending[r.course_id]:
            pending[r.course_id] = r.due_on
    for cid, due in sorted(pending.items(), key=lambda kv: (kv[1], str(kv[0]))):
        add(cid, "required", Reason("required", {"due": due.isoformat()}), due, override_dismissal=True)

    # 2. yesterday's items that still apply, then started courses
    started_list = [c for c in dict.fromkeys(started) if c not in done and c not in dismissed_set]
    started_set = set(started_list)
    gap = max(float(hours_gap), 0.0)
    n_recommended = 0
    for item in sorted(previous, key=lambda p: p.position):
        cid = item.course_id
        if item.source != "recommended" or cid in done or cid in dismissed_set or cid in planned:
            continue
        keep = cid in started_set or cid in candidate_ids or item.why.code == "prerequisite"
        if not keep:
            continue
        if cid not in started_set and planned_hours() >= gap and n_recommended >= min_recommended:
            continue                      # the gap shrank: drop from the end, never reorder
        # the place is yesterday's; the reason is today's, so that it stays true
        why = (Reason("started") if cid in started_set
               else item.why if item.why.code == "prerequisite" else candidate_why.get(cid, item.why))
        if add(cid, "recommended", why, previous_week=item.due_week):
            n_recommended += 1
    for cid in started_list:
        if add(cid, "recommended", Reason("started")):
            n_recommended += 1

    # 3. new recommendations, balanced across categories
    deferred = []
    for cid, _score, why in ranked:
        if len(plan) >= max_items:
            break
        if planned_hours() >= gap and n_recommended >= min_recommended:
            break
        if cid in planned or cid in done or cid in dismissed_set:
            continue
        info = catalogue.get(cid)
        if info is None or (counting is not None and info.category not in counting and gap > 0):
            continue
        if _over_share(info, plan, gap, max_share):
            deferred.append((cid, why))
            continue
        if add(cid, "recommended", why):
            n_recommended += 1
    for cid, why in deferred:             # nothing else left: fill from the deferred, best first
        if len(plan) >= max_items or (planned_hours() >= gap and n_recommended >= min_recommended):
            break
        if add(cid, "recommended", why):
            n_recommended += 1

    return _pace(plan[:max_items], today, year_end, min_weekly_hours)


def _can_take(missing, catalogue, done, planned, dismissed, seen) -> bool:
    for p in missing:
        if p in dismissed or p in seen:
            return False
        info = catalogue.get(p)
        if info is None:
            return False
        deeper = [q for q in info.prerequisites if q not in done and q not in planned]
        if not _can_take(deeper, catalogue, done, planned, dismissed, seen | {p}):
            return False
    return True


def _over_share(info: CourseInfo, plan: list[dict], gap: float, max_share: float) -> bool:
    """Would adding this course put its category above ``max_share`` of the plan's hours?"""
    if info.category is None:
        return False
    total = sum(p["info"].hours for p in plan) + info.hours
    same = sum(p["info"].hours for p in plan if p["info"].category == info.category) + info.hours
    budget = max(gap, total)
    return same > max_share * budget and same > info.hours


def _pace(plan: list[dict], today: dt.date, year_end: dt.date, min_weekly_hours: float) -> list[PlanItem]:
    current = week_of(today)
    last = max(week_of(year_end) if year_end.year == today.year else week_of(dt.date(today.year, 12, 31)),
               current)
    weeks_left = last - current + 1
    total = sum(p["info"].hours for p in plan)
    pace = max(total / weeks_left, min_weekly_hours, 1e-9)
    jan1 = dt.date(today.year, 1, 1)
    items, before, week_floor = [], 0.0, current
    for position, p in enumerate(plan, start=1):
        week = min(current + int(math.floor(before / pace + 1e-9)), last)
        if p["previous_week"] is not None and current <= p["previous_week"] <= last:
            week = p["previous_week"]           # keep yesterday's week while it is still ahead
        if p["due"] is not None:
            week = min(week, max(week_of(p["due"]) if p["due"].year == today.year else last, current))
        week = max(week, week_floor) if p["source"] != "required" else max(week, current)
        week_floor = max(week_floor, week)
        week_end = min(jan1 + dt.timedelta(days=7 * week - 1), year_end)
        due_on = p["due"] if p["source"] == "required" and p["due"] is not None else week_end
        items.append(PlanItem(course_id=p["id"], position=position, due_week=week, source=p["source"],
                              reason=p["why"].text("zh"), why=p["why"], hours=p["info"].hours,
                              category=p["info"].category, due_on=due_on))
        before += p["info"].hours
    return items


def _ranked(candidates) -> list[tuple[Hashable, float, Reason]]:
    if isinstance(candidates, pd.Series):
        candidates = candidates.to_dict()
    if isinstance(candidates, Mapping):
        pairs = sorted(candidates.items(), key=lambda kv: -float(kv[1]))
        return [(cid, float(s), Reason("recommended")) for cid, s in pairs if math.isfinite(float(s))]
    out = []
    for rec in candidates:
        if not isinstance(rec, Recommendation):
            raise TypeError("candidates must be Recommendations or a mapping of course id to score")
        if math.isfinite(rec.score):
            out.append((rec.course_id, rec.score, rec.why))
    out.sort(key=lambda t: -t[1])
    return out


def rule_based_candidates(occupation_counts: Mapping[Hashable, int], newest: Sequence[Hashable],
                          occupation: str | None = None, limit: int = 50) -> list[Recommendation]:
    """Transparent fallback while no model exists: courses most completed by members of the same
    occupation, then the newest courses; each says why."""
    recs: list[Recommendation] = []
    seen: set = set()
    top = sorted(occupation_counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    for cid, count in top:
        if count <= 0 or len(recs) >= limit:
            break
        why = Reason("popular_with_occupation", {"occupation": occupation or ""})
        recs.append(Recommendation(cid, float(limit * 2 - len(recs)), why.text("zh"), why))
        seen.add(cid)
    for cid in newest:
        if len(recs) >= limit:
            break
        if cid not in seen:
            why = Reason("newest")
            recs.append(Recommendation(cid, float(limit * 2 - len(recs)), why.text("zh"), why))
            seen.add(cid)
    return recs


def _present(value) -> bool:
    if value is None:
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):
        return True


def _as_tuple(value) -> tuple:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(p for p in _SEPARATORS.split(value) if p)
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(value)
    try:
        if pd.isna(value):
            return ()
    except (TypeError, ValueError):
        pass
    return tuple(value) if hasattr(value, "__iter__") else (value,)
