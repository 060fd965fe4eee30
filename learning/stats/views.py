from __future__ import annotations

import json

from flask import abort, render_template, request, url_for
from markupsafe import Markup, escape
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from learning.extensions import db
from learning.netutil import client_address
from learning.orgs.kinds import KINDS
from learning.orgs.models import Member
from learning.orgs.queries import can_issue_code, can_view_member, is_manager
from learning.reflections.queries import pending_by_branch
from learning.stats import bp, exports, member as record
from learning.stats.access import visible_org_or_abort
from learning.stats.queries import Figures, Period
from learning.stats.tables import BUILDERS, Context, build
from learning.study.queries import courses_in_progress
from learning.study.targets import target_for
from learning.orgs.roster import mask
from learning.timeutil import local_today, to_local

PAGED = ("behind", "members", "courses", "overdue", "offline")
DASHBOARD = ("children", "behind", "assignments", "overdue", "courses", "kinds", "occupations", "ages", "ranking",
             "offline", "members")


@bp.app_template_filter("stats_cell")
def stats_cell(value, kind: str) -> Markup:
    """One table cell as the page shows it (a filter, not a macro: a dashboard has a couple of
    thousand cells, and a macro call per cell was a third of the page's time)."""
    if value is None or value == "":
        return Markup('<span class="muted">—</span>')  # noqa: S704 -- a constant
    if isinstance(value, str):
        return escape(value)
    if kind == "pct":
        return Markup(f"{value * 100:.1f}%")  # noqa: S704 -- a formatted number
    if kind == "hours" and isinstance(value, int | float):
        return Markup("%g" % round(value, 1))  # noqa: S704 -- a formatted number
    if kind == "moment":
        return Markup(value.strftime("%Y-%m-%d %H:%M"))  # noqa: S704 -- a formatted datetime
    if kind == "date":
        return Markup(value.isoformat())  # noqa: S704 -- a formatted date
    return escape(str(value))


_SENTINEL = 987654321  # stands for the member id in a record URL built once per table


@bp.app_template_global("stats_body")
def stats_body(table, period: Period) -> Markup:
    """A table's body rows. Built here rather than in Jinja: a dashboard page has a couple of
    thousand cells, and a macro or url_for call per cell or row was most of the page's time."""
    record = str(url_for("stats.member_record", member_id=_SENTINEL, year=period.year))
    numeric = [' class="num"' if n else "" for n in table.numeric]
    kinds = [c.kind for c in table.columns]
    out = []
    for row in table.rows:
        cells = []
        for i, value in enumerate(row.values):
            sort = f' data-value="{escape(value)}"' if table.sortable else ""
            if i == 0 and row.member_id:
                inner = f'<a href="{escape(record.replace(str(_SENTINEL), str(row.member_id)))}">{escape(value)}</a>'
            elif i == 0 and row.org_code:
                href = url_for("stats.dashboard", code=row.org_code, year=period.year,
                               **{"from": period.month_from, "to": period.month_to})
                inner = f'<a href="{escape(href)}">{escape(value)}</a>'
            else:
                inner = stats_cell(value, kinds[i])
            cells.append(f"<td{numeric[i]}{sort}>{inner}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>\n")
    return Markup("".join(out))  # noqa: S704 -- every value and URL above went through escape()


def chart_json(data: dict) -> str:
    """JSON for a <script type="application/json"> block; '<' escaped so no text can close it."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def period_from_request() -> Period:
    """?year=&from=&to= — absent means this whole year; anything else malformed is a 400."""
    today = local_today()
    try:
        year = int(request.args.get("year") or today.year)
        return Period(year, int(request.args.get("from") or 1), int(request.args.get("to") or 12))
    except ValueError:
        abort(400)


def kind_from_request() -> str | None:
    """?kind= filters the member list by learner kind; an unknown kind is a 400."""
    kind = request.args.get("kind") or None
    if kind is not None and kind not in KINDS:
        abort(400)
    return kind


def _page(name: str) -> int:
    try:
        page = int(request.args.get(f"page_{name}") or 1)
    except ValueError:
        abort(400)
    return max(1, page)


@bp.route("/orgs/<code>/dashboard")
@login_required
def dashboard(code: str):
    org = visible_org_or_abort(code)
    period, today, kind = period_from_request(), local_today(), kind_from_request()
    # read once, shared by every table of the page (the member lists' pages in the same pass)
    figures = Figures(org, period, today, members_page=_page("members"), behind_page=_page("behind"), kind=kind)
    tables = {name: build(name, Context(org, period, today, _page(name) if name in PAGED else None, figures,
                                        kind=kind if name == "members" else None))
              for name in DASHBOARD}
    trend = build("trend", Context(org, period, today, None, figures))
    stats = figures.summary
    chart = {"labels": [r.values[0] for r in trend.rows], "hours": [r.values[1] for r in trend.rows],
             "completions": [r.values[2] for r in trend.rows],
             "hoursLabel": _("学时"), "completionsLabel": _("完成课程")}
    return render_template("stats/dashboard.html", org=org, period=period, stats=stats, tables=tables,
                           trend=trend, chart=chart_json(chart), today=today,
                           years=range(today.year, today.year - 4, -1), manager=is_manager(current_user),
                           period_label=exports.period_label(period), kinds=KINDS, kind=kind,
                           pending_reflections=pending_by_branch(org))


@bp.route("/orgs/<code>/prospects")
@login_required
def prospects(code: str):
    """积分 ranking of the subtree's learners who are not Party members; exported (audited)
    through the dashboard export as table=prospects."""
    org = visible_org_or_abort(code)
    period = Period(period_from_request().year)
    table = build("prospects", Context(org, period, local_today()))
    return render_template("stats/prospects.html", org=org, period=period, ranking=table)


@bp.route("/orgs/<code>/dashboard/export")
@login_required
def export(code: str):
    org = visible_org_or_abort(code)
    name, fmt = request.args.get("table", "members"), request.args.get("format", "xlsx")
    if name not in BUILDERS or fmt not in exports.FORMATS:
        abort(400)
    period = period_from_request()
    kind = kind_from_request() if name == "members" else None
    table = build(name, Context(org, period, local_today(), kind=kind))
    data, filename = exports.render(table, org, period, fmt, actor=current_user, address=client_address())
    return Response(data, mimetype=exports.FORMATS[fmt],
                    headers={"Content-Disposition": _disposition(filename), "Cache-Control": "no-store"})


def _disposition(filename: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename=\"{filename.encode('ascii', 'replace').decode()}\"; filename*=UTF-8''{quote(filename)}"


@bp.route("/members/<int:member_id>/record")
@login_required
def member_record(member_id: int):
    member = db.session.get(Member, member_id)
    if member is None:
        abort(404)
    if not can_view_member(current_user, member):
        abort(403)
    year = period_from_request().year
    months = record.hours_by_month(member, year)
    chart = {"labels": [f"{m}" for m, _h in months], "hours": [h for _m, h in months], "hoursLabel": _("学时")}
    counters = record.counters(member, year)
    last = counters.last_active_at if counters else None
    return render_template("stats/member.html", member=member, year=year, counters=counters, mask=mask,
                           last_active=to_local(last).strftime("%Y-%m-%d") if last else None,
                           target=target_for(member, year), categories=record.hours_by_category(member, year),
                           months=months, credits=record.credits(member, year),
                           in_progress=courses_in_progress(member), quizzes=record.quiz_results(member),
                           chart=chart_json(chart), can_issue_code=can_issue_code(current_user, member))
