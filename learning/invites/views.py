from __future__ import annotations

import segno
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from learning.auth.operations import PHONE_RE, normalize_phone
from learning.extensions import db
from learning.invites import bp, operations, queries
from learning.invites.forms import InvitationForm, RegisterForm
from learning.invites.models import Invitation, JoinRequest
from learning.orgs.forms import ConfirmForm
from learning.orgs.operations import Refused
from learning.orgs.queries import can_view_org
from learning.orgs.views import viewable_org
from learning.timeutil import local_today


def _branch(code: str):
    org = viewable_org(code)
    if org.kind != "branch":
        abort(404)
    return org


def qr_data_uri(url: str) -> str:
    # segno: pure Python, no Pillow, maintained, writes compact SVG; shown through a data: URI
    # (the CSP allows data: images, and no inline script or style is needed).
    return segno.make(url, error="m").svg_data_uri(scale=6, border=2, dark="#1f1f1f")


@bp.route("/orgs/<code>/invitations", methods=["GET", "POST"])
@login_required
def index(code: str):
    org = _branch(code)
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            invitation = operations.create_invitation(org, actor=current_user, days=form.days.data,
                                                      max_uses=form.max_uses.data)
        except Refused as refused:
            form.days.errors.append(str(refused.message))
        else:
            return redirect(url_for("invites.show", code=org.code, invitation_id=invitation.id))
    invitations = list(db.session.scalars(queries.invitations_of(org)))
    pending = list(db.session.scalars(queries.pending_requests(org)))
    return render_template("invites/index.html", org=org, form=form, invitations=invitations, pending=pending,
                           state=operations.state, action=ConfirmForm()), (400 if form.errors else 200)


def _invitation(code: str, invitation_id: int) -> Invitation:
    org = _branch(code)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.org_id != org.id:
        abort(404)
    return invitation


@bp.route("/orgs/<code>/invitations/<int:invitation_id>")
@login_required
def show(code: str, invitation_id: int):
    invitation = _invitation(code, invitation_id)
    link = url_for("invites.join", token=invitation.token, _external=True)
    return render_template("invites/show.html", invitation=invitation, link=link, qr=qr_data_uri(link),
                           state=operations.state(invitation), action=ConfirmForm())


@bp.route("/orgs/<code>/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
def revoke(code: str, invitation_id: int):
    invitation = _invitation(code, invitation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    operations.revoke_invitation(invitation, actor=current_user)
    flash(_("邀请已停用。"), "success")
    return redirect(url_for("invites.index", code=code))


@bp.route("/join-requests/<int:request_id>/<any(approve, decline):decision>", methods=["POST"])
@login_required
def decide(request_id: int, decision: str):
    join = db.session.get(JoinRequest, request_id)
    if join is None:
        abort(404)
    if not can_view_org(current_user, join.org):
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        operations.decide(join, approve=decision == "approve", actor=current_user, today=local_today())
    except Refused as refused:
        flash(str(refused.message), "info")
        return redirect(url_for("invites.index", code=join.org.code)), 303
    flash(_("已同意。") if decision == "approve" else _("已拒绝。"), "success")
    return redirect(url_for("invites.index", code=join.org.code))


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token: str):
    """What a phone opens from the QR code: register, or (logged in) ask to take part."""
    invitation = queries.invitation_by_token(token)
    if invitation is None:
        abort(404)
    status = operations.state(invitation)
    if status != "open":
        return render_template("invites/closed.html", invitation=invitation, state=status), 410
    if current_user.is_authenticated:
        form = ConfirmForm()
        if form.validate_on_submit():
            try:
                operations.request_activity(invitation, current_user)
            except Refused as refused:
                return render_template("invites/join.html", invitation=invitation, form=form,
                                       refused=str(refused.message)), 409
            return render_template("invites/sent.html", invitation=invitation, kind="activity")
        return render_template("invites/join.html", invitation=invitation, form=form)
    form = RegisterForm()
    if form.validate_on_submit():
        phone = normalize_phone(form.phone.data)
        if not PHONE_RE.match(phone):
            form.phone.errors.append(_("请输入 11 位手机号码。"))
        else:
            try:
                operations.register(invitation, name=form.name.data.strip(), phone=phone,
                                    birth_year=form.birth_year.data, occupation=form.occupation.data,
                                    password=form.password.data, today=local_today())
            except Refused as refused:
                form.phone.errors.append(str(refused.message))
            else:
                return render_template("invites/sent.html", invitation=invitation, kind="home")
    return render_template("invites/register.html", invitation=invitation, form=form), \
        (400 if form.errors else 200)
