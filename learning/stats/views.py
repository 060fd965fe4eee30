from __future__ import annotations

import json

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from learning.extensions import db
from learning.netutil import client_address
from learning.orgs.kinds import KINDS
from learning.orgs.models import Member
from learning.orgs.queries import can_view_member, is_manager
from learning.reflections.queries import pending_by_branch
from learning.stats import bp, exports, member as record
from learning.stats.access import visible_org_or_abort
from learning.stats.queries import Period, summary
from learning.stats.tables import BUILDERS, Context, build
from learning.study.queries import courses_in_progress
from learning.study.targets import target_for
from learning.orgs.roster import mask
from learning.timeutil import local_today, to_local

PAGED = ("behind", "members")
DASHBOARD = ("children", "behind", "assignments", "overdue", "courses", "kinds", "occupations", "ages", "ranking",
             "offline", "members")


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
    stats = summary(org, period, today=today)
    tables = {name: build(name, Context(org, period, today, _page(name) if name in PAGED else None, stats,
                                        kind=kind if name == "members" else None))
              for name in DASHBOARD}
    trend = build("trend", Context(org, period, today, None, stats))
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
                           chart=chart_json(chart))
