from __future__ import annotations

import json

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from learning.audit.operations import record
from learning.extensions import db
from learning.netutil import client_address
from learning.orgs.forms import ConfirmForm
from learning.orgs.models import Member
from learning.orgs.roster import mask
from learning.orgs.views import require_admin
from learning.privacy import bp, operations
from learning.privacy.queries import personal_data
from learning.timeutil import utcnow


@bp.route("/privacy")
def notice():
    return render_template("privacy/notice.html")


@bp.route("/account/data")
@login_required
def my_data():
    return render_template("privacy/my_data.html", data=personal_data(current_user), download=ConfirmForm())


@bp.route("/account/data.json", methods=["POST"])
@login_required
def my_data_download():
    # POST: the download is recorded in the audit log, and a write never rides on a GET.
    if not ConfirmForm().validate_on_submit():
        abort(400)
    record("personal_data_exported", actor_id=current_user.id, target=f"member:{current_user.id}",
           address=client_address())
    body = json.dumps(personal_data(current_user), ensure_ascii=False, indent=2)
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f"attachment; filename=hongfan-my-data-{stamp}.json",
        "Cache-Control": "no-store"})


@bp.route("/admin/members")
@login_required
def members():
    require_admin()
    q = request.args.get("q", "").strip()[:40]
    found = list(db.session.scalars(operations.members_matching(q))) if q else []
    return render_template("privacy/members.html", q=q, found=found, mask=mask)


def _member(member_id: int) -> Member:
    require_admin()
    member = db.session.get(Member, member_id)
    if member is None:
        abort(404)
    return member


@bp.route("/admin/members/<int:member_id>")
@login_required
def member(member_id: int):
    m = _member(member_id)
    return render_template("privacy/member.html", m=m, phone=mask(m.phone), action=ConfirmForm(),
                           erased=m.phone == operations.placeholder_phone(m.id))


@bp.route("/admin/members/<int:member_id>/<any(deactivate, reactivate, erase):action>", methods=["POST"])
@login_required
def member_action(member_id: int, action: str):
    m = _member(member_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if m.id == current_user.id:
        flash(_("不能对自己的账号执行这个操作。"), "info")
        return redirect(url_for("privacy.member", member_id=m.id)), 303
    if action == "deactivate":
        operations.deactivate(m, actor=current_user)
        flash(_("账号已停用，所有登录已失效。"), "success")
    elif action == "reactivate":
        operations.reactivate(m, actor=current_user)
        flash(_("账号已恢复。"), "success")
    else:
        operations.erase_member(m, actor=current_user)
        flash(_("个人信息已删除，匿名的学习统计保留。"), "success")
    return redirect(url_for("privacy.member", member_id=m.id))
