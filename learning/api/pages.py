"""The member's API tokens as a page: see which devices hold one, revoke any of them."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from learning.api import account, spec
from learning.api.models import ApiToken
from learning.api.operations import revoke_token
from learning.api.queries import live_tokens
from learning.extensions import db
from learning.netutil import client_address
from learning.study.forms import ActionForm
from learning.timeutil import utcnow


@account.route("/account/tokens")
@login_required
def index():
    tokens = list(db.session.scalars(live_tokens(current_user, utcnow())))
    return render_template("api/tokens.html", tokens=tokens, form=ActionForm())


@account.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    token = db.session.get(ApiToken, token_id) if token_id <= spec.MAX_ID else None
    if token is None or token.member_id != current_user.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    revoke_token(token, current_user, address=client_address())
    flash(_("令牌“%(name)s”已撤销，使用它的设备需要重新登录。", name=token.name), "success")
    return redirect(url_for("tokens.index"))
