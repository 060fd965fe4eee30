"""Dashboard reads over one organization subtree.

Attribution (DESIGN §6): people are counted by their *current* home branch (Member.home_org_id);
credits — course completions and confirmed offline attendances — by the branch they were earned
in (their org_id), so a transfer moves the person but not the history. Member-level figures
(target, average, median, behind) are year-to-date from MemberYear, because the target is
annual; the month range narrows the credits, the course table and the trend.

Cost (issue 6: a branch page must not grow with the academy; a district of 20,000 members
≤ 300 ms; the academy ≤ 1 s):
- ONE pass over the subtree's learners (statements.member_pass) gives every member figure: the
  summary, average, median and breakdowns from its rows grouped by learner kind, occupation, age
  band and hours (a few thousand groups at most), child figures and assignment scopes from its
  rows grouped by home branch, and the pages of the member, behind and 积分 lists; the
  secretaries, who carry the higher target, are read from their grants and moved to groups of
  their own (no per-member probe of the grants);
- credits, the trend and each child's credits from the monthly roll-up per branch
  (OrgCreditMonth: 12 rows a branch a year), not from the credits themselves;
- the course table of the academy and its districts from their per-course roll-up
  (SubtreeCourseMonth); deeper nodes read their completions through the covering index;
- assignment progress: one correlated subquery per assignment, probing the scope's members
  (small scopes) or reading the course's completions (large ones).
Every read filters the subtree by an indexed path range. A `Figures` object holds what one
page has read, so the tables of a page share it; the SQL itself is built once
(learning/stats/statements.py).
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from flask import g, has_app_context

from learning.assignments.queries import ancestor_paths
from learning.database import read_session
from learning.orgs.models import MemberKind, Organization
from learning.stats import statements as sql
from learning.study.rollups import local_month, path_ids, rolled_up
from learning.study.targets import target_hours, target_kinds
from learning.timeutil import academy_zone, local_today, utcnow

ACTIVE_DAYS = 30
AGE_BANDS = ((None, 30, "30岁以下"), (30, 40, "30–39岁"), (40, 50, "40–49岁"), (50, None, "50岁及以上"))
UNKNOWN_AGE = "年龄未知"
BAND_LABELS = [label for *_, label in AGE_BANDS] + [UNKNOWN_AGE]
# An assignment's progress counts its members by probing each member's completions when its
# scope holds at most this many members, and by reading the course's completions otherwise:
# cost ≤ max(this many probes, the course's completions), never the whole academy's members.
MEMBER_PROBES = 2_000
PAGE = 20  # the 积分 ranking's length
LIST_PAGE = 50  # rows on a page of a long list (members, behind, courses, overdue, offline sessions)


@dataclass(frozen=True)
class Period:
    """A calendar year narrowed to a range of months (local time)."""

    year: int
    month_from: int = 1
    month_to: int = 12

    def __post_init__(self) -> None:
        if not (1 <= self.month_from <= self.month_to <= 12) or not (2000 <= self.year <= 2100):
            raise ValueError("invalid period")

    @property
    def first_day(self) -> date:
        return date(self.year, self.month_from, 1)

    @property
    def end_day(self) -> date:
        """The day after the period."""
        return date(self.year + 1, 1, 1) if self.month_to == 12 else date(self.year, self.month_to + 1, 1)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as naive UTC, the way completion moments are stored."""
        zone = academy_zone()

        def utc(day: date) -> datetime:
            local = datetime(day.year, day.month, day.day, tzinfo=zone)
            return (local - local.utcoffset()).replace(tzinfo=None)

        return utc(self.first_day), utc(self.end_day)

    @property
    def months(self) -> list[int]:
        return list(range(self.month_from, self.month_to + 1))

    @property
    def slug(self) -> str:
        return f"{self.year}" if (self.month_from, self.month_to) == (1, 12) else \
            f"{self.year}-{self.month_from:02d}-{self.month_to:02d}"


# --- building blocks ----------------------------------------------------------------------------

def _targets(year: int) -> tuple[float, float]:
    """(member, secretary) targets, read once per request: every dashboard query needs them."""
    cache = g.setdefault("stats_targets", {}) if has_app_context() else {}
    if year not in cache:
        cache[year] = (target_hours("member", year), target_hours("secretary", year))
    return cache[year]


def _target_params(year: int) -> dict:
    t_member, t_secretary = _targets(year)
    return {"t_member": t_member, "t_secretary": t_secretary, "target_kinds": list(target_kinds()),
            "target_low": min(t_member, t_secretary), "target_high": max(t_member, t_secretary)}


def _secretary_higher(year: int) -> bool | None:
    t_member, t_secretary = _targets(year)
    return None if t_member == t_secretary else t_secretary > t_member


def _bands(year: int) -> dict:
    """Birth years at the band boundaries: born in or before year − 30 is 30 or older."""
    return {f"band_{i}": year - low for i, (low, _high, _label) in enumerate(AGE_BANDS[1:], start=1)}


def month_bucket(column, year: int):
    """The local calendar month of a naive-UTC moment of local `year` (see rollups.local_month)."""
    return local_month(column, year)


def active_cutoff(today: date | None) -> datetime:
    return utcnow() - timedelta(days=ACTIVE_DAYS) if today is None else \
        datetime.combine(today - timedelta(days=ACTIVE_DAYS), datetime.min.time())


# --- the figures of one page ------------------------------------------------------------------------

@dataclass(frozen=True)
class Summary:
    members: int  # every active learner (Party members and others)
    active: int
    meeting_target: int
    with_target: int  # learners who carry an annual target (Party members): the rate's base
    average_hours: float
    median_hours: float
    hours: float  # credits earned in the subtree during the period (online + confirmed)
    completions: int
    offline: int

    @property
    def meeting_rate(self) -> float:
        return self.meeting_target / self.with_target if self.with_target else 0.0

    @property
    def behind(self) -> int:
        return self.with_target - self.meeting_target


@dataclass(frozen=True)
class Group:
    """Learners sharing kind, secretary role, occupation, age band and hours (one row of the
    grouped scan)."""

    kind: str
    secretary: bool
    occupation: str
    band: str
    hours: float
    members: int
    active: int
    target: float | None

    @property
    def meeting(self) -> int:
        return self.members if self.target is not None and self.hours >= self.target else 0


@dataclass(frozen=True)
class GroupRow:
    """A breakdown line (by kind, occupation or age band)."""

    key: str
    members: int
    meeting: int
    with_target: int
    average: float


@dataclass(frozen=True)
class ChildRow:
    org: Organization
    members: int
    meeting_target: int
    with_target: int
    hours: float
    completions: int

    @property
    def rate(self) -> float:
        return self.meeting_target / self.with_target if self.with_target else 0.0


@dataclass(frozen=True)
class CourseRow:
    course_id: int
    title: str
    category: str
    completions: int
    people: int
    assigned: bool


@dataclass(frozen=True)
class AssignmentProgress:
    id: int
    course_id: int
    course_title: str
    org_name: str
    scope_path: str  # the deeper of the viewed node and the assigning node: whom it binds here
    due_on: date
    members: int
    done: int
    overdue: int


def _breakdown(groups: list[Group], key) -> dict[str, GroupRow]:
    acc: dict[str, list] = defaultdict(lambda: [0, 0, 0, []])
    for grp in groups:
        row = acc[key(grp)]
        row[0] += grp.members
        row[1] += grp.meeting
        row[2] += grp.members if grp.target is not None else 0
        row[3].append(grp.hours * grp.members)
    return {k: GroupRow(k, n, meeting, with_target, math.fsum(hours) / n if n else 0.0)
            for k, (n, meeting, with_target, hours) in acc.items()}


def _median(groups: list[Group], count: int) -> float:
    """The middle of the sorted hours (members without a counter row count as 0)."""
    if count == 0:
        return 0.0
    wanted = [(count - 1) // 2, count // 2]
    values, seen = [], 0
    for grp in sorted(groups, key=lambda grp: grp.hours):
        while wanted and wanted[0] < seen + grp.members:
            values.append(grp.hours)
            wanted.pop(0)
        seen += grp.members
    return round(sum(values) / len(values), 2)


class Figures:
    """What one dashboard page reads about org's subtree for a period; each part is read once,
    when first needed, and shared by every table of the page."""

    def __init__(self, org: Organization, period: Period, today: date | None = None, *, members_page: int = 1,
                 behind_page: int = 1, kind: str | None = None) -> None:
        """members_page / behind_page / kind: the pages of the member lists (and the member
        list's learner-kind filter) the page shows, read in the same pass as the figures."""
        self.org, self.period, self.today = org, period, today
        self.pages = {"members": (kind, members_page), "behind": (None, behind_page)}
        self.depth = len(path_ids(org.path)) - 1
        self.params = {**sql.subtree_params(org.path), "year": period.year, "org_id": org.id,
                       "month_from": period.month_from, "month_to": period.month_to}

    def _run(self, statement, **params):
        return read_session().execute(statement, {**self.params, **params})

    # -- members ----------------------------------------------------------------------------------

    @cached_property
    def _recent(self) -> tuple[tuple[bool, int], dict]:
        """Which counter rows say "studied in the last 30 days": those of the cutoff's year and
        the next. The row of the period's year is joined anyway; another year's rows are joined
        only when that year has any (in December, next year has none)."""
        cutoff = active_cutoff(self.today)
        own, others = False, []
        for y in sorted({cutoff.year, cutoff.year + 1}):
            if y == self.period.year:
                own = True
            elif read_session().execute(sql.any_counter_of_year(), {"year": y}).first() is not None:
                others.append(y)
        return (own, len(others)), {"cutoff": cutoff, **{f"other_{i}": y for i, y in enumerate(others)}}

    @cached_property
    def secretaries(self) -> dict[int, tuple]:
        """The subtree's secretaries (the higher target): member id → (home path, kind,
        occupation, age band, hours, active). Read from the grants, so the big scans need no
        per-member probe of the grants."""
        shape, params = self._recent
        return {row[0]: tuple(row[1:])
                for row in self._run(sql.secretaries(shape), **params, **_bands(self.period.year))}

    @cached_property
    def _pass(self) -> dict[int, list]:
        """The one pass over the subtree's learners (statements.member_pass), its rows by part."""
        shape, params = self._recent
        kind, members_page = self.pages["members"]
        year = self.period.year
        parts: dict[int, list] = {0: [], 1: [], 2: [], 3: [], 4: []}
        for row in self._run(sql.member_pass(shape, _secretary_higher(year), kind is not None), **params,
                             **_bands(year), **_target_params(year), kind=kind, m_limit=LIST_PAGE,
                             m_offset=(members_page - 1) * LIST_PAGE, b_limit=LIST_PAGE,
                             b_offset=(self.pages["behind"][1] - 1) * LIST_PAGE, r_limit=PAGE):
            parts[row.part].append(row)
        return parts

    @cached_property
    def groups(self) -> list[Group]:
        """The grouped scan: one row per (kind, occupation, age band, hours) with its member count
        and how many of them studied in the last 30 days; secretaries then moved to groups of
        their own (they carry the higher target)."""
        counts: dict[tuple, list[int]] = {}
        for row in self._pass[0]:
            counts[(row.kind, False, row.occupation, int(row.band), float(row.hours))] = [row.n, int(row.a or 0)]
        for _path, kind, occupation, b, hours, active in self.secretaries.values():
            plain = counts[(kind, False, occupation, int(b), float(hours))]
            own = counts.setdefault((kind, True, occupation, int(b), float(hours)), [0, 0])
            plain[0], own[0] = plain[0] - 1, own[0] + 1
            plain[1], own[1] = plain[1] - active, own[1] + active
        t_member, t_secretary = _targets(self.period.year)
        kinds = set(target_kinds())
        return [Group(kind, sec, occupation, BAND_LABELS[b], hours, n, active,
                      None if kind not in kinds else (t_secretary if sec else t_member))
                for (kind, sec, occupation, b, hours), (n, active) in counts.items() if n]

    # -- member lists ---------------------------------------------------------------------------------

    @cached_property
    def _listed(self) -> dict[int, object]:
        """The full rows of every learner on the lists of the pass, by id (one statement)."""
        ids = sorted({row.id for part in (2, 3, 4) for row in self._pass[part]})
        if not ids:
            return {}
        return {row.member_id: row for row in self._run(sql.members_by_id(), ids=ids,
                                                        **_target_params(self.period.year))}

    def member_list(self, kind: str | None, page: int) -> list:
        """A page of the member list (hours, most first); read in the pass when it is the page
        the Figures was made for."""
        if (kind, page) != self.pages["members"]:
            return member_rows(self.org, self.period.year, kind=kind, limit=LIST_PAGE, offset=(page - 1) * LIST_PAGE)
        chosen = sorted(self._pass[2], key=lambda r: (-r.hours, r.id))
        return [self._listed[r.id] for r in chosen]

    def behind_list(self, page: int) -> list:
        """A page of the learners under target (fewest hours first, never active first)."""
        if (None, page) != self.pages["behind"]:
            return member_rows(self.org, self.period.year, behind_only=True, limit=LIST_PAGE,
                               offset=(page - 1) * LIST_PAGE)
        # never active (no last activity) first: (False, None) sorts before (True, moment)
        chosen = sorted(self._pass[3], key=lambda r: (r.hours, r.last is not None, r.last, r.id))
        return [self._listed[r.id] for r in chosen]

    @property
    def ranking(self) -> list:
        """积分晾晒: the PAGE learners with the most points this year."""
        return [self._listed[r.id] for r in sorted(self._pass[4], key=lambda r: (-r.n, r.id))]

    @cached_property
    def credits(self) -> dict[int, tuple[float, int, float, int]]:
        """month → (course hours, completions, offline hours, attendances) in the subtree."""
        return {mo: (float(h or 0), int(n or 0), float(oh or 0), int(o or 0))
                for mo, h, n, oh, o in self._run(sql.credits_by_month())}

    @cached_property
    def summary(self) -> Summary:
        groups = self.groups
        count = sum(grp.members for grp in groups)
        credited = self.credits.values()
        return Summary(
            members=count, active=sum(grp.active for grp in groups),
            meeting_target=sum(grp.meeting for grp in groups),
            with_target=sum(grp.members for grp in groups if grp.target is not None),
            average_hours=round(math.fsum(grp.hours * grp.members for grp in groups) / count, 2) if count else 0.0,
            median_hours=_median(groups, count),
            hours=round(math.fsum(c[0] for c in credited) + math.fsum(c[2] for c in credited), 2),
            completions=sum(c[1] for c in credited), offline=sum(c[3] for c in credited))

    def kind_totals(self, kind: str) -> tuple[int, float]:
        """(learners, their year-to-date hours) of one learner kind: the filtered list's total."""
        chosen = [grp for grp in self.groups if grp.kind == kind]
        return sum(grp.members for grp in chosen), math.fsum(grp.hours * grp.members for grp in chosen)

    @property
    def by_occupation(self) -> list[GroupRow]:
        rows = _breakdown(self.groups, lambda grp: grp.occupation)
        return sorted(rows.values(), key=lambda r: (-r.members, r.key))

    @property
    def by_kind(self) -> list[GroupRow]:
        """Figures per learner kind, in the kinds' order (Party members first)."""
        rows = _breakdown(self.groups, lambda grp: grp.kind)
        return [rows[kind] for kind in MemberKind if kind in rows] + \
            [row for key, row in sorted(rows.items()) if key not in set(MemberKind)]

    @property
    def by_age(self) -> list[GroupRow]:
        rows = _breakdown(self.groups, lambda grp: grp.band)
        return [rows[label] for label in BAND_LABELS if label in rows]

    @cached_property
    def homes(self) -> dict[str, tuple[int, int, int]]:
        """Home branch path → (learners, with a target, meeting it): child figures and the
        members an assignment made lower in the subtree binds; secretaries corrected from
        their own rows."""
        t_member, t_secretary = _targets(self.period.year)
        homes = {row.path: [row.n, int(row.a or 0), int(row.b or 0)] for row in self._pass[1]}
        kinds = set(target_kinds())
        for path, kind, _occupation, _band, hours, _active in self.secretaries.values():
            if kind in kinds:
                homes[path][2] += (hours >= t_secretary) - (hours >= t_member)
        return {path: (n, t, m) for path, (n, t, m) in homes.items()}

    def members_under(self, path: str) -> int:
        if path == self.org.path:
            return self.summary.members
        return sum(n for home, (n, _t, _m) in self.homes.items() if home.startswith(path))

    # -- children -----------------------------------------------------------------------------------

    @cached_property
    def children(self) -> list[ChildRow]:
        """Each open child node with its subtree's figures, sorted by rate (best first)."""
        children = list(self._run(sql.children()))
        if not children:
            return []
        below = self.depth + 1

        def child_of(path: str) -> int | None:
            ids = path_ids(path)
            return ids[below] if len(ids) > below else None

        people: dict[int | None, list[int]] = defaultdict(lambda: [0, 0, 0])
        for path, figures in self.homes.items():
            acc = people[child_of(path)]
            for i, value in enumerate(figures):
                acc[i] += value
        earned: dict[int | None, list] = defaultdict(lambda: [[], 0])
        for path, course_hours, n, offline_hours in self._run(sql.credits_by_org()):
            acc = earned[child_of(path)]
            acc[0] += [float(course_hours or 0), float(offline_hours or 0)]
            acc[1] += int(n or 0)
        rows = []
        for child in children:
            members, with_target, meeting = people.get(child.id, (0, 0, 0))
            hours, completions = earned.get(child.id, ([], 0))
            rows.append(ChildRow(child, members, meeting, with_target, round(math.fsum(hours), 2), completions))
        return sorted(rows, key=lambda r: (-r.rate, r.org.code))

    # -- trend and courses ------------------------------------------------------------------------------

    @property
    def trend(self) -> list[tuple[int, float, int]]:
        """(month, hours credited, course completions) for every month of the period."""
        none = (0.0, 0, 0.0, 0)
        return [(mo, round(self.credits.get(mo, none)[0] + self.credits.get(mo, none)[2], 2),
                 self.credits.get(mo, none)[1]) for mo in self.period.months]

    @cached_property
    def assignments(self) -> list:
        """Active assignments that bind members of org — made on org, an ancestor, or a
        descendant — as plain rows (id, course id, title, category, assigning node's name and
        path, due date), earliest due first."""
        return list(self._run(sql.assignments(), ancestors=ancestor_paths(self.org.path)))

    @cached_property
    def courses(self) -> list[CourseRow]:
        """Every course completed in the subtree during the period and every assigned one,
        assigned first, then by completions. A member completes a course at most once a year
        (unique member, course, year) and a period lies in one year, so completions are also
        the number of distinct members. The academy and its districts read their own per-course
        roll-up; deeper nodes their completions."""
        if rolled_up(self.org.path):
            found = self._run(sql.course_counts(True))
        else:
            start, end = self.period.utc_bounds()
            found = self._run(sql.course_counts(False), start=start, end=end)
        rows = {cid: [title, category, int(n or 0)] for cid, title, category, n in found}
        assigned = set()
        for a in self.assignments:
            assigned.add(a.course_id)
            rows.setdefault(a.course_id, [a.title, a.category, 0])
        out = [CourseRow(cid, title, category, n, n, cid in assigned) for cid, (title, category, n) in rows.items()]
        return sorted(out, key=lambda r: (not r.assigned, -r.completions, r.title, r.course_id))

    # -- confirmed offline study ---------------------------------------------------------------------------

    def _days(self) -> dict:
        return {"first_day": self.period.first_day, "end_day": self.period.end_day}

    @cached_property
    def offline_totals(self) -> tuple[int, int]:
        """(sessions, attendances) held in the subtree during the period."""
        sessions, attendances = self._run(sql.offline_totals(), **self._days()).one()
        return sessions, attendances

    def offline_sessions(self, limit: int | None = None, offset: int = 0) -> list:
        """(id, held_on, title, kind, org, hours, attendees), newest first."""
        return list(self._run(sql.offline_sessions(limit is not None), **self._days(), limit=limit, offset=offset))

    # -- required courses -----------------------------------------------------------------------------

    def _scope(self, assignment_path: str) -> str:
        return self.org.path if len(self.org.path) >= len(assignment_path) else assignment_path

    @cached_property
    def progress(self) -> list[AssignmentProgress]:
        """Each assignment with the members it binds here and how many finished the course:
        small scopes by probing each member's completions, large ones (the academy's own
        assignments seen from the academy) by reading the course's completions; one statement
        for each kind."""
        today = self.today or local_today()
        scopes = {a.id: self._scope(a.path) for a in self.assignments}
        members = {a.id: self.members_under(scopes[a.id]) for a in self.assignments}
        done: dict[int, int] = {}
        for probe in (True, False):
            chosen = [a.id for a in self.assignments if members[a.id] and (members[a.id] <= MEMBER_PROBES) == probe]
            below = [i for i in chosen if scopes[i] != self.org.path]
            if chosen:
                done.update(self._run(sql.done(bool(below), probe), ids=chosen, below=below).all())
        return [AssignmentProgress(a.id, a.course_id, a.title, a.name, scopes[a.id], a.due_on, members[a.id],
                                   done.get(a.id, 0), members[a.id] - done.get(a.id, 0) if a.due_on < today else 0)
                for a in self.assignments]

    def overdue(self, limit: int | None = None, offset: int = 0) -> list[tuple[AssignmentProgress, object]]:
        """Who is overdue on which assignment, assignment by assignment (earliest due first),
        then by branch and member: (assignment, member row) pairs, `limit` of them from `offset`."""
        out: list[tuple[AssignmentProgress, object]] = []
        for p in self.progress:
            if not p.overdue:
                continue
            if offset >= p.overdue:
                offset -= p.overdue
                continue
            take = None if limit is None else limit - len(out)
            rows = read_session().execute(sql.not_done(take is not None), {
                **sql.subtree_params(p.scope_path), "course_id": p.course_id, "limit": take, "offset": offset})
            out += [(p, row) for row in rows]
            offset = 0
            if limit is not None and len(out) >= limit:
                break
        return out

    @property
    def overdue_count(self) -> int:
        return sum(p.overdue for p in self.progress)


# --- member lists -----------------------------------------------------------------------------------

def member_rows(org: Organization, year: int, *, behind_only: bool = False, kind: str | None = None,
                limit: int | None = None, offset: int = 0) -> list:
    """Members with their year-to-date hours and target; behind_only keeps those under target,
    fewest hours first, those who never studied before the others (the people to remind);
    `kind` keeps one learner kind. A page is `limit` rows from `offset`; without a limit, all."""
    statement = sql.member_list(behind_only=behind_only, secretary_higher=_secretary_higher(year),
                                kind=kind is not None, paged=limit is not None)
    return list(read_session().execute(statement, {**sql.subtree_params(org.path), "year": year, "kind": kind,
                                               "limit": limit, "offset": offset, **_target_params(year)}))


def points_ranking(org: Organization, period: Period, limit: int | None = PAGE,
                   kinds: tuple[str, ...] | None = None) -> list:
    """积分晾晒: the members of the subtree with the most points; `kinds` keeps some learner
    kinds (the non-members a secretary may propose as activists).

    The one place the ranking reads points: today MemberYear.points for the year; a points
    ledger can replace the source here (summing its entries in period.month_to) alone."""
    statement = sql.ranking(kinds=kinds is not None, paged=limit is not None)
    return list(read_session().execute(statement, {**sql.subtree_params(org.path), "year": period.year,
                                               "kinds": list(kinds or ()), "limit": limit}))


# --- the functions other modules and tests call ----------------------------------------------------------

def summary(org: Organization, period: Period, *, today: date | None = None) -> Summary:
    return Figures(org, period, today).summary


def child_rows(org: Organization, period: Period) -> list[ChildRow]:
    return Figures(org, period).children


def by_kind(org: Organization, year: int) -> list[GroupRow]:
    return Figures(org, Period(year)).by_kind


def by_occupation(org: Organization, year: int) -> list[GroupRow]:
    return Figures(org, Period(year)).by_occupation


def by_age(org: Organization, year: int) -> list[GroupRow]:
    return Figures(org, Period(year)).by_age


def monthly_trend(org: Organization, period: Period) -> list[tuple[int, float, int]]:
    return Figures(org, period).trend


def course_rows(org: Organization, period: Period) -> list[CourseRow]:
    return Figures(org, period).courses
