"""Every dashboard table as data: the page renders these and the exports write these, so the
export equals the screen (same rows, same totals, same filters) by construction.

Long member lists are paged on screen; their export holds every page."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from learning.extensions import db
from learning.meetings.queries import KINDS, sessions_in
from learning.orgs.kinds import kind_label
from learning.orgs.models import NON_MEMBER_KINDS, Organization
from learning.orgs.roster import mask
from learning.stats import queries as q
from learning.timeutil import to_local

PAGE_SIZE = 50


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # lazy string
    kind: str = "text"  # text | int | hours | pct | date | moment


@dataclass
class Row:
    values: list[Any]
    member_id: int | None = None
    org_code: str | None = None


@dataclass
class Table:
    name: str
    title: Any
    columns: list[Column]
    rows: list[Row]
    total: list[Any] | None = None
    personal: bool = False  # holds names and phones: exports are audited
    count: int = 0  # rows in the whole table (the screen may show one page)
    page: int | None = None
    sortable: bool = False
    query: dict[str, str] = field(default_factory=dict)  # filters its links (pages, exports) carry

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // PAGE_SIZE))


@dataclass(frozen=True)
class Context:
    org: Organization
    period: q.Period
    today: date
    page: int | None = None  # None: every row (exports)
    summary: q.Summary | None = field(default=None, compare=False)
    kind: str | None = None  # the member list's learner-kind filter

    def stats(self) -> q.Summary:
        return self.summary or q.summary(self.org, self.period, today=self.today)


def _pct(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _moment(value: datetime | None) -> datetime | None:
    return to_local(value).replace(tzinfo=None, microsecond=0) if value else None


def _page(ctx: Context) -> tuple[int | None, int]:
    if ctx.page is None:
        return None, 0
    return PAGE_SIZE, (ctx.page - 1) * PAGE_SIZE


def summary_table(ctx: Context) -> Table:
    s = ctx.stats()
    rows = [(_l("学员"), s.members), (_l("党员（计年度学时目标）"), s.with_target), (_l("近30天学习人数"), s.active),
            (_l("达到年度学时目标"), s.meeting_target),
            (_l("达标率"), f"{s.meeting_rate:.1%}"), (_l("人均学时"), s.average_hours),
            (_l("学时中位数"), s.median_hours), (_l("期间获得学时"), s.hours),
            (_l("期间完成课程"), s.completions), (_l("期间线下学习人次"), s.offline)]
    return Table("summary", _l("概况"), [Column("label", _l("指标")), Column("value", _l("数值"))],
                 [Row([str(label), value]) for label, value in rows], count=len(rows))


def children_table(ctx: Context) -> Table:
    rows = q.child_rows(ctx.org, ctx.period)
    columns = [Column("org", _l("组织")), Column("members", _l("学员"), "int"), Column("party", _l("党员"), "int"),
               Column("meeting", _l("达标人数"), "int"), Column("rate", _l("达标率"), "pct"),
               Column("hours", _l("期间学时"), "hours"), Column("completions", _l("完成课程"), "int")]
    members, meeting = sum(r.members for r in rows), sum(r.meeting_target for r in rows)
    party = sum(r.with_target for r in rows)
    total = [str(_l("合计")), members, party, meeting, _pct(meeting, party),
             round(sum(r.hours for r in rows), 2), sum(r.completions for r in rows)]
    return Table("children", _l("下级组织"), columns,
                 [Row([r.org.name, r.members, r.with_target, r.meeting_target, round(r.rate, 4), r.hours,
                       r.completions],
                      org_code=r.org.code) for r in rows],
                 total=total if rows else None, count=len(rows), sortable=True)


_MEMBER_COLUMNS = [Column("name", _l("姓名")), Column("phone", _l("手机号")), Column("branch", _l("支部")),
                   Column("kind", _l("类别")), Column("occupation", _l("职业")), Column("hours", _l("学时"), "hours"),
                   Column("target", _l("目标"), "hours")]


def members_table(ctx: Context) -> Table:
    limit, offset = _page(ctx)
    rows = q.member_rows(ctx.org, ctx.period.year, kind=ctx.kind, limit=limit, offset=offset)
    columns = _MEMBER_COLUMNS + [Column("courses", _l("完成课程"), "int"), Column("points", _l("积分"), "int"),
                                 Column("last_active", _l("最近学习"), "moment")]
    if ctx.kind:
        count, total_hours = q.kind_totals(ctx.org, ctx.period.year, ctx.kind)
        title = _l("%(kind)s学时（%(y)s 年累计）", kind=kind_label(ctx.kind), y=ctx.period.year)
    else:
        s = ctx.stats()
        count, total_hours = s.members, s.average_hours * s.members
        title = _l("学员学时（%(y)s 年累计）", y=ctx.period.year)
    return Table("members", title, columns,
                 [Row([r.name, mask(r.phone), r.branch, kind_label(r.member_kind), r.occupation, round(r.hours, 2),
                       r.target, r.courses_done, r.points, _moment(r.last_active_at)], member_id=r.member_id)
                  for r in rows],
                 total=[str(_l("合计")), "", "", "", "", round(total_hours, 2), "", "", "", ""],
                 personal=True, count=count, page=ctx.page, query={"kind": ctx.kind} if ctx.kind else {})


def behind_table(ctx: Context) -> Table:
    limit, offset = _page(ctx)
    rows = q.member_rows(ctx.org, ctx.period.year, behind_only=True, limit=limit, offset=offset)
    s = ctx.stats()
    columns = _MEMBER_COLUMNS + [Column("gap", _l("差额"), "hours"), Column("last_active", _l("最近学习"), "moment")]
    return Table("behind", _l("未达标党员（需提醒）"), columns,
                 [Row([r.name, mask(r.phone), r.branch, kind_label(r.member_kind), r.occupation, round(r.hours, 2),
                       r.target, round(r.target - r.hours, 2), _moment(r.last_active_at)], member_id=r.member_id)
                  for r in rows],
                 personal=True, count=s.behind, page=ctx.page)


def courses_table(ctx: Context) -> Table:
    members = ctx.stats().members
    rows = q.course_rows(ctx.org, ctx.period)
    columns = [Column("course", _l("课程")), Column("category", _l("分类")), Column("required", _l("必修")),
               Column("completions", _l("完成次数"), "int"), Column("people", _l("完成人数"), "int"),
               Column("rate", _l("完成率"), "pct")]
    return Table("courses", _l("课程完成情况"), columns,
                 [Row([c.title, c.category, str(_l("是")) if assigned else "", n, people, _pct(people, members)])
                  for c, n, people, assigned in rows],
                 total=[str(_l("合计")), "", "", sum(r[1] for r in rows), "", ""] if rows else None,
                 count=len(rows))


def assignments_table(ctx: Context) -> Table:
    rows = q.assignment_progress(ctx.org, today=ctx.today)
    columns = [Column("course", _l("课程")), Column("org", _l("下达组织")), Column("due", _l("截止日期"), "date"),
               Column("members", _l("应学人数"), "int"), Column("done", _l("已完成"), "int"),
               Column("rate", _l("完成率"), "pct"), Column("overdue", _l("逾期未完成"), "int")]
    return Table("assignments", _l("必修课程"), columns,
                 [Row([p.assignment.course.title, p.assignment.org.name, p.assignment.due_on, p.members, p.done,
                       _pct(p.done, p.members), p.overdue]) for p in rows], count=len(rows))


def overdue_table(ctx: Context) -> Table:
    rows = q.overdue_rows(ctx.org, today=ctx.today)
    columns = [Column("course", _l("课程")), Column("due", _l("截止日期"), "date"), Column("name", _l("姓名")),
               Column("phone", _l("手机号")), Column("branch", _l("支部"))]
    return Table("overdue", _l("必修课逾期名单"), columns,
                 [Row([a.course.title, a.due_on, r.name, mask(r.phone), r.branch], member_id=r.member_id)
                  for a, r in rows], personal=True, count=len(rows))


def _breakdown(name: str, title, key_label, rows) -> Table:
    """Rates are over the learners who carry a target (Party members); others have none."""
    columns = [Column("key", key_label), Column("members", _l("学员"), "int"), Column("party", _l("党员"), "int"),
               Column("meeting", _l("达标人数"), "int"), Column("rate", _l("达标率"), "pct"),
               Column("average", _l("人均学时"), "hours")]
    return Table(name, title, columns,
                 [Row([str(r.key), r.members, r.with_target, int(r.meeting or 0),
                       _pct(int(r.meeting or 0), r.with_target), round(float(r.average or 0), 2)]) for r in rows],
                 count=len(rows))


def kinds_table(ctx: Context) -> Table:
    table = _breakdown("kinds", _l("按学员类别"), _l("类别"), q.by_kind(ctx.org, ctx.period.year))
    for row in table.rows:
        row.values[0] = kind_label(row.values[0])
    return table


def occupations_table(ctx: Context) -> Table:
    return _breakdown("occupations", _l("按职业"), _l("职业"), q.by_occupation(ctx.org, ctx.period.year))


AGE_LABELS = {"30岁以下": _l("30岁以下"), "30–39岁": _l("30–39岁"), "40–49岁": _l("40–49岁"),
              "50岁及以上": _l("50岁及以上"), q.UNKNOWN_AGE: _l("年龄未知")}


def ages_table(ctx: Context) -> Table:
    rows = q.by_age(ctx.org, ctx.period.year)
    table = _breakdown("ages", _l("按年龄段"), _l("年龄段"), rows)
    for row in table.rows:
        row.values[0] = str(AGE_LABELS[row.values[0]])
    return table


def ranking_table(ctx: Context) -> Table:
    rows = q.points_ranking(ctx.org, ctx.period)
    columns = [Column("rank", _l("名次"), "int"), Column("name", _l("姓名")), Column("phone", _l("手机号")),
               Column("branch", _l("支部")), Column("points", _l("积分"), "int")]
    return Table("ranking", _l("积分晾晒"), columns,
                 [Row([i, r.name, mask(r.phone), r.branch, r.points], member_id=r.member_id)
                  for i, r in enumerate(rows, start=1)], personal=True, count=len(rows))


def prospects_table(ctx: Context) -> Table:
    """Non-members of the subtree by points this year: whom a secretary may propose as
    入党积极分子 (and activists or candidates, to follow their progress)."""
    rows = q.points_ranking(ctx.org, ctx.period, limit=None, kinds=NON_MEMBER_KINDS)
    columns = [Column("rank", _l("名次"), "int"), Column("name", _l("姓名")), Column("phone", _l("手机号")),
               Column("branch", _l("支部")), Column("kind", _l("类别")), Column("occupation", _l("职业")),
               Column("hours", _l("学时"), "hours"), Column("points", _l("积分"), "int")]
    return Table("prospects", _l("非党员学员积分排行"), columns,
                 [Row([i, r.name, mask(r.phone), r.branch, kind_label(r.member_kind), r.occupation,
                       round(r.hours, 2), r.points], member_id=r.member_id)
                  for i, r in enumerate(rows, start=1)], personal=True, count=len(rows))


def trend_table(ctx: Context) -> Table:
    rows = q.monthly_trend(ctx.org, ctx.period)
    columns = [Column("month", _l("月份")), Column("hours", _l("学时"), "hours"),
               Column("completions", _l("完成课程"), "int")]
    return Table("trend", _l("月度趋势"), columns,
                 [Row([f"{ctx.period.year}-{m:02d}", h, n]) for m, h, n in rows],
                 total=[str(_l("合计")), round(sum(r[1] for r in rows), 2), sum(r[2] for r in rows)],
                 count=len(rows))


def offline_table(ctx: Context) -> Table:
    rows = db.session.execute(sessions_in(ctx.org, ctx.period.first_day, ctx.period.end_day)).all()
    columns = [Column("date", _l("日期"), "date"), Column("title", _l("主题")), Column("kind", _l("形式")),
               Column("org", _l("组织")), Column("hours", _l("学时"), "hours"),
               Column("attendees", _l("参加人数"), "int")]
    return Table("offline", _l("线下集中学习（已确认）"), columns,
                 [Row([s.held_on, s.title, str(KINDS.get(s.kind, s.kind)), s.org.name, s.hours, n])
                  for s, n in rows],
                 total=[str(_l("合计")), "", "", "", "", sum(n for _, n in rows)] if rows else None,
                 count=len(rows))


BUILDERS: dict[str, Callable[[Context], Table]] = {
    "summary": summary_table, "children": children_table, "behind": behind_table, "members": members_table,
    "courses": courses_table, "assignments": assignments_table, "overdue": overdue_table,
    "occupations": occupations_table, "ages": ages_table, "kinds": kinds_table, "ranking": ranking_table, "prospects": prospects_table, "trend": trend_table,
    "offline": offline_table,
}


def build(name: str, ctx: Context) -> Table:
    return BUILDERS[name](ctx)
