from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from learning.extensions import db
from learning.meetings import bp, operations
from learning.meetings.forms import SessionForm
from learning.meetings.models import OfflineAttendance, OfflineSession
from learning.meetings.queries import KINDS, sessions_in
from learning.netutil import client_address
from learning.orgs.models import Member
from learning.orgs.queries import can_view_org, members_of_subtree
from learning.orgs.roster import mask
from learning.stats.access import visible_org_or_abort
from learning.timeutil import local_today


def _form(org) -> SessionForm:
    form = SessionForm()
    roster = db.session.execute(
        members_of_subtree(org).with_only_columns(Member.id, Member.name, Member.phone).order_by(Member.name, Member.id))
    form.attendees.choices = [SelectChoice(r.id, f"{r.name} {mask(r.phone)}") for r in roster]
    if not form.is_submitted():
        form.held_on.data = local_today()
    return form


@bp.route("/orgs/<code>/meetings", methods=["GET", "POST"])
@login_required
def index(code: str):
    org = visible_org_or_abort(code)
    form = _form(org)
    if form.validate_on_submit():
        chosen = list(db.session.scalars(select(Member).where(Member.id.in_(form.attendees.data))))
        session = operations.record_session(
            actor=current_user, org=org, title=form.title.data.strip(), kind=form.kind.data,
            held_on=form.held_on.data, hours=float(form.hours.data), category=form.category.data,
            attendees=chosen, address=client_address())
        flash(_("已记录线下学习，%(n)d 人获得 %(h)s 学时。", n=len(chosen), h=f"{session.hours:g}"), "success")
        return redirect(url_for("meetings.detail", session_id=session.id))
    today = local_today()
    sessions = db.session.execute(sessions_in(org, today.replace(month=1, day=1) - timedelta(days=366),
                                              today + timedelta(days=1))).all()
    status = 400 if form.is_submitted() else 200
    return render_template("meetings/index.html", org=org, form=form, sessions=sessions, kinds=KINDS), status


@bp.route("/meetings/<int:session_id>")
@login_required
def detail(session_id: int):
    session = db.session.get(OfflineSession, session_id)
    if session is None:
        abort(404)
    if not can_view_org(current_user, session.org):
        abort(403)
    attendees = db.session.execute(
        select(Member.id, Member.name, Member.phone, OfflineAttendance.hours)
        .join(OfflineAttendance, OfflineAttendance.member_id == Member.id)
        .where(OfflineAttendance.session_id == session.id).order_by(Member.name, Member.id)).all()
    return render_template("meetings/detail.html", session=session, attendees=attendees, kinds=KINDS, mask=mask)
