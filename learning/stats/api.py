"""GET /api/v1/orgs/<code>/stats: a node's yearly figures and each child's, under the same
authorization as the dashboard pages."""
from __future__ import annotations

from flask import abort, jsonify, request

from learning.api import bp, spec
from learning.api.auth import api_member
from learning.orgs.models import Organization
from learning.stats.access import visible_org_or_abort
from learning.stats.queries import Figures, Period
from learning.timeutil import local_today

_FIGURES = {
    "members": {"type": "integer", "description": "active learners whose current home branch is in the subtree"},
    "members_with_target": {"type": "integer",
                            "description": "of them, the Party members, who carry an annual 学时 target"},
    "members_meeting_target": {"type": "integer", "description": "of those, the ones at or above their target"},
    "hours": {"type": "number", "description": "学时 credited in the subtree during the year (online and confirmed)"},
    "completions": {"type": "integer", "description": "course completions credited in the subtree during the year"},
}
_ORG = {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                                         "kind": {"type": "string"}}}
_CHILD = spec.schema("OrgStatsChild", {"type": "object", "properties": {"org": _ORG, **_FIGURES}})
_STATS = spec.schema("OrgStats", {"type": "object", "properties": {
    "org": _ORG, "year": {"type": "integer"}, **_FIGURES, "children": {"type": "array", "items": _CHILD}}})


def _org(org: Organization) -> dict:
    return {"code": org.code, "name": org.name, "kind": org.kind}


@bp.get("/orgs/<code>/stats")
def org_stats(code: str):
    actor = api_member()
    org = visible_org_or_abort(code, actor)
    try:
        period = Period(int(request.args.get("year") or local_today().year))
    except ValueError:
        abort(400)
    figures = Figures(org, period)
    s = figures.summary
    return jsonify({
        "org": _org(org), "year": period.year, "members": s.members, "members_with_target": s.with_target,
        "members_meeting_target": s.meeting_target,
        "hours": s.hours, "completions": s.completions,
        "children": [{"org": _org(c.org), "members": c.members,
                      "members_with_target": c.with_target, "members_meeting_target": c.meeting_target,
                      "hours": c.hours, "completions": c.completions} for c in figures.children],
    })


spec.operation(
    "/orgs/{code}/stats", "get", operationId="org_stats", security=spec.MEMBER,
    summary="A node's study figures for a year, with each child node's",
    tags=["statistics"],
    parameters=[{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "year", "in": "query", "required": False, "schema": {"type": "integer"},
                 "description": "calendar year; this year when absent"}],
    responses={"200": spec.json_body(_STATS, "the figures"), **spec.errors(400, 401, 403, 404)},
)
