from __future__ import annotations

from flask import render_template, request
from flask_login import login_required
from sqlalchemy import or_, select

from learning.audit import bp, queries
from learning.auth.operations import normalize_phone
from learning.extensions import db
from learning.orgs.models import Member
from learning.orgs.roster import mask
from learning.orgs.views import require_admin

PAGE_SIZE = 50


def _date(name: str):
    from datetime import date

    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/admin/audit")
@login_required
def index():
    require_admin()
    args = request.args
    who = args.get("actor", "").strip()[:40]
    actor_ids = None
    if who:
        phone = normalize_phone(who)
        by_id = [Member.id == int(who)] if who.isdigit() and len(who) < 10 else []
        actor_ids = list(db.session.scalars(select(Member.id).where(
            or_(Member.phone == phone, Member.name == who, *by_id))))
    page = max(1, args.get("page", 1, type=int) or 1)
    query = queries.events(actor_ids=actor_ids, action=args.get("action") or None,
                           target=args.get("target", "").strip()[:80] or None,
                           since=_date("since"), until=_date("until"))
    rows = list(db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    names = {m.id: f"{m.name} {mask(m.phone)}" for m in db.session.scalars(
        select(Member).where(Member.id.in_(sorted({r.actor_id for r in rows if r.actor_id}))))}
    filters = {k: v for k, v in args.items() if k != "page" and v}
    return render_template("audit/index.html", rows=rows[:PAGE_SIZE], names=names, page=page,
                           more=len(rows) > PAGE_SIZE, actions=queries.actions(), filters=filters)
