"""Every dashboard table as data: the page renders these and the exports write these, so the
export equals the screen (same rows, same totals, same filters) by construction.

Long member lists are paged on screen; their export holds every page."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from learning.meetings.queries import KINDS
from learning.orgs.kinds import kind_label
from learning.orgs.models import NON_MEMBER_KINDS, Organization
from learning.orgs.roster import mask
from learning.stats import queries as q
from learning.timeutil import academy_zone

PAGE_SIZE = q.LIST_PAGE


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

    @property
    def numeric(self) -> list[bool]:
        """Per column: right-aligned figures."""
        return [c.kind in ("int", "hours", "pct") for c in self.columns]


@dataclass(frozen=True)
class Context:
    org: Organization
    period: q.Period
    today: date
    page: int | None = None  # None: every row (exports)
    figures: q.Figures | None = field(default=None, compare=False)  # shared by the tables of one page
    kind: str | None = None  # the member list's learner-kind filter

    def __post_init__(self) -> None:
        if self.figures is None:
            object.__setattr__(self, "figures", q.Figures(self.org, self.period, self.today))

    @property
    def fig(self) -> q.Figures:
        assert self.figures is not None  # noqa: S101 -- set in __post_init__; for the type checker
        return self.figures

    def stats(self) -> q.Summary:
        return self.fig.summary


def _pct(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


class _Labels:
    """Per-table caches for values repeated on every row of a long list (the academy's
    100,000-member export): learner kind labels (a translation lookup each) and the zone's
    offset per half hour of UTC (time-zone transitions fall on such boundaries)."""

    def __init__(self) -> None:
        self.kinds: dict[str | None, str] = {}
        self.offsets: dict[tuple, timedelta] = {}
        self.zone = academy_zone()

    def kind(self, kind: str | None) -> str:
        label = self.kinds.get(kind)
        if label is None:
            label = self.kinds[kind] = kind_label(kind)
        return label

    def moment(self, value: datetime | None) -> str | None:
        """A stored moment as the local 'YYYY-MM-DD HH:MM' the page and the files show."""
        if value is None:
            return None
        key = (value.year, value.month, value.day, value.hour, value.minute >= 30)
        offset = self.offsets.get(key)
        if offset is None:
            offset = self.offsets[key] = value.replace(tzinfo=UTC).astimezone(self.zone).utcoffset()
        return (value + offset).isoformat(" ", "minutes")


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
    rows = ctx.fig.children
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
    rows = q.member_rows(ctx.org, ctx.period.year, kind=ctx.kind) if ctx.page is None else \
        ctx.fig.member_list(ctx.kind, ctx.page)
    columns = _MEMBER_COLUMNS + [Column("courses", _l("完成课程"), "int"), Column("points", _l("积分"), "int"),
                                 Column("last_active", _l("最近学习"), "moment")]
    if ctx.kind:
        count, total_hours = ctx.fig.kind_totals(ctx.kind)
        title = _l("%(kind)s学时（%(y)s 年累计）", kind=kind_label(ctx.kind), y=ctx.period.year)
    else:
        s = ctx.stats()
        count, total_hours = s.members, s.average_hours * s.members
        title = _l("学员学时（%(y)s 年累计）", y=ctx.period.year)
    labels = _Labels()
    return Table("members", title, columns,
                 [Row([r.name, mask(r.phone), r.branch, labels.kind(r.member_kind), r.occupation, round(r.hours, 2),
                       r.target, r.courses_done, r.points, labels.moment(r.last_active_at)], member_id=r.member_id)
                  for r in rows],
                 total=[str(_l("合计")), "", "", "", "", round(total_hours, 2), "", "", "", ""],
                 personal=True, count=count, page=ctx.page, query={"kind": ctx.kind} if ctx.kind else {})


def behind_table(ctx: Context) -> Table:
    rows = q.member_rows(ctx.org, ctx.period.year, behind_only=True) if ctx.page is None else \
        ctx.fig.behind_list(ctx.page)
    s = ctx.stats()
    columns = _MEMBER_COLUMNS + [Column("gap", _l("差额"), "hours"), Column("last_active", _l("最近学习"), "moment")]
    labels = _Labels()
    return Table("behind", _l("未达标党员（需提醒）"), columns,
                 [Row([r.name, mask(r.phone), r.branch, labels.kind(r.member_kind), r.occupation, round(r.hours, 2),
                       r.target, round(r.target - r.hours, 2), labels.moment(r.last_active_at)],
                      member_id=r.member_id)
                  for r in rows],
                 personal=True, count=s.behind, page=ctx.page)


def courses_table(ctx: Context) -> Table:
    members = ctx.stats().members
    rows = ctx.fig.courses
    limit, offset = _page(ctx)
    shown = rows if limit is None else rows[offset:offset + limit]
    columns = [Column("course", _l("课程")), Column("category", _l("分类")), Column("required", _l("必修")),
               Column("completions", _l("完成次数"), "int"), Column("people", _l("完成人数"), "int"),
               Column("rate", _l("完成率"), "pct")]
    yes = str(_l("是"))
    return Table("courses", _l("课程完成情况"), columns,
                 [Row([r.title, r.category, yes if r.assigned else "", r.completions, r.people,
                       _pct(r.people, members)]) for r in shown],
                 total=[str(_l("合计")), "", "", sum(r.completions for r in rows), "", ""] if rows else None,
                 count=len(rows), page=ctx.page)


def assignments_table(ctx: Context) -> Table:
    rows = ctx.fig.progress
    columns = [Column("course", _l("课程")), Column("org", _l("下达组织")), Column("due", _l("截止日期"), "date"),
               Column("members", _l("应学人数"), "int"), Column("done", _l("已完成"), "int"),
               Column("rate", _l("完成率"), "pct"), Column("overdue", _l("逾期未完成"), "int")]
    return Table("assignments", _l("必修课程"), columns,
                 [Row([p.course_title, p.org_name, p.due_on, p.members, p.done, _pct(p.done, p.members), p.overdue])
                  for p in rows], count=len(rows))


def overdue_table(ctx: Context) -> Table:
    limit, offset = _page(ctx)
    rows = ctx.fig.overdue(limit, offset)
    columns = [Column("course", _l("课程")), Column("due", _l("截止日期"), "date"), Column("name", _l("姓名")),
               Column("phone", _l("手机号")), Column("branch", _l("支部"))]
    return Table("overdue", _l("必修课逾期名单"), columns,
                 [Row([p.course_title, p.due_on, r.name, mask(r.phone), r.branch], member_id=r.member_id)
                  for p, r in rows], personal=True, count=ctx.fig.overdue_count, page=ctx.page)


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
    table = _breakdown("kinds", _l("按学员类别"), _l("类别"), ctx.fig.by_kind)
    for row in table.rows:
        row.values[0] = kind_label(row.values[0])
    return table


def occupations_table(ctx: Context) -> Table:
    return _breakdown("occupations", _l("按职业"), _l("职业"), ctx.fig.by_occupation)


AGE_LABELS = {"30岁以下": _l("30岁以下"), "30–39岁": _l("30–39岁"), "40–49岁": _l("40–49岁"),
              "50岁及以上": _l("50岁及以上"), q.UNKNOWN_AGE: _l("年龄未知")}


def ages_table(ctx: Context) -> Table:
    rows = ctx.fig.by_age
    table = _breakdown("ages", _l("按年龄段"), _l("年龄段"), rows)
    for row in table.rows:
        row.values[0] = str(AGE_LABELS[row.values[0]])
    return table


def ranking_table(ctx: Context) -> Table:
    rows = ctx.fig.ranking
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
    rows = ctx.fig.trend
    columns = [Column("month", _l("月份")), Column("hours", _l("学时"), "hours"),
               Column("completions", _l("完成课程"), "int")]
    return Table("trend", _l("月度趋势"), columns,
                 [Row([f"{ctx.period.year}-{m:02d}", h, n]) for m, h, n in rows],
                 total=[str(_l("合计")), round(sum(r[1] for r in rows), 2), sum(r[2] for r in rows)],
                 count=len(rows))


def offline_table(ctx: Context) -> Table:
    limit, offset = _page(ctx)
    rows = ctx.fig.offline_sessions(limit, offset)
    sessions, attendances = ctx.fig.offline_totals
    columns = [Column("date", _l("日期"), "date"), Column("title", _l("主题")), Column("kind", _l("形式")),
               Column("org", _l("组织")), Column("hours", _l("学时"), "hours"),
               Column("attendees", _l("参加人数"), "int")]
    return Table("offline", _l("线下集中学习（已确认）"), columns,
                 [Row([r.held_on, r.title, str(KINDS.get(r.kind, r.kind)), r.org, r.hours, r.attendees]) for r in rows],
                 total=[str(_l("合计")), "", "", "", "", attendances] if sessions else None,
                 count=sessions, page=ctx.page)


BUILDERS: dict[str, Callable[[Context], Table]] = {
    "summary": summary_table, "children": children_table, "behind": behind_table, "members": members_table,
    "courses": courses_table, "assignments": assignments_table, "overdue": overdue_table,
    "occupations": occupations_table, "ages": ages_table, "kinds": kinds_table, "ranking": ranking_table, "prospects": prospects_table, "trend": trend_table,
    "offline": offline_table,
}


def build(name: str, ctx: Context) -> Table:
    return BUILDERS[name](ctx)
