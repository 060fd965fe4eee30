from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from learning.extensions import db
from learning.orgs import queries
from learning.orgs import bp
from learning.orgs.models import Organization
from learning.orgs.roster import roster_rows
from learning.timeutil import local_today


@bp.route("/orgs")
@login_required
def tree():
    if not queries.is_manager(current_user):
        abort(403)
    orgs = list(db.session.scalars(queries.orgs_visible_to(current_user).order_by(Organization.path)))
    if not queries.is_admin(current_user) and len(orgs) == 1:
        return redirect(url_for("orgs.detail", code=orgs[0].code))
    return render_template("orgs/tree.html", orgs=orgs, base_depth=min((o.depth for o in orgs), default=0))


@bp.route("/orgs/<code>")
@login_required
def detail(code: str):
    org = db.session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        abort(404)
    if not queries.can_view_org(current_user, org):
        abort(403)
    year = local_today().year
    rows = roster_rows(org, year)
    children = list(db.session.scalars(queries.children_of(org)))
    return render_template("orgs/detail.html", org=org, year=year, rows=rows, children=children,
                           meeting=sum(1 for r in rows if r.hours >= r.target))
