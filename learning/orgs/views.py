from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from learning.auth.operations import activation_code_days, issue_activation_code, normalize_phone
from learning.extensions import db
from learning.orgs import bp, operations, queries
from learning.orgs.forms import (ConfirmForm, GrantForm, MoveForm, OrgCreateForm, OrgEditForm, TransferForm,
                                 org_choices)
from learning.orgs.models import Member, Organization, RoleGrant, Transfer
from learning.orgs.queries import MANAGING_ROLES
from learning.orgs import kinds as _kinds  # noqa: F401  (registers kind_label for templates)
from learning.orgs.roster import mask, roster
from learning.reflections.queries import featured_for
from learning.timeutil import local_today


def org_or_404(code: str) -> Organization:
    org = queries.org_by_code(code)
    if org is None:
        abort(404)
    return org


def viewable_org(code: str) -> Organization:
    org = org_or_404(code)
    if not queries.can_view_org(current_user, org):
        abort(403)
    return org


def require_manager() -> None:
    if not queries.is_manager(current_user):
        abort(403)


def require_admin() -> None:
    if not queries.is_admin(current_user):
        abort(403)


@bp.route("/orgs")
@login_required
def tree():
    require_manager()
    orgs = list(db.session.scalars(queries.orgs_visible_to(current_user).order_by(Organization.path)))
    if not queries.is_admin(current_user) and len(orgs) == 1:
        return redirect(url_for("orgs.detail", code=orgs[0].code))
    return render_template("orgs/tree.html", orgs=orgs, base_depth=min((o.depth for o in orgs), default=0),
                           can_create=bool(queries.parent_choices(current_user)))


@bp.route("/orgs/<code>")
@login_required
def detail(code: str):
    org = viewable_org(code)
    year = local_today().year
    children = list(db.session.scalars(queries.children_of(org)))
    return render_template("orgs/detail.html", org=org, year=year, children=children,
                           roster=roster(org, year, request.args.get("page", 1, type=int) or 1),
                           featured=featured_for(org),
                           year_hours=queries.subtree_year_hours(org, year),
                           can_manage=queries.can_manage_org(current_user, org))


@bp.route("/orgs/new", methods=["GET", "POST"])
@login_required
def create():
    require_manager()
    form = OrgCreateForm(parent=request.args.get("parent"))
    form.parent.choices = org_choices(queries.parent_choices(current_user))
    if not form.parent.choices:
        abort(403)
    if form.validate_on_submit():
        parent = org_or_404(form.parent.data)
        try:
            org = operations.add_org(code=form.code.data.strip(), name=form.name.data.strip(),
                                     kind=form.kind.data, parent=parent, actor=current_user,
                                     industry=form.industry.data or None, region=form.region.data or None)
        except operations.Refused as refused:
            form.code.errors.append(str(refused.message))
        else:
            flash(_("已创建 %(name)s。", name=org.name), "success")
            return redirect(url_for("orgs.detail", code=org.code))
    return render_template("orgs/create.html", form=form), (400 if form.errors else 200)


@bp.route("/orgs/<code>/edit", methods=["GET", "POST"])
@login_required
def edit(code: str):
    org = org_or_404(code)
    if not queries.can_manage_org(current_user, org):
        abort(403)
    form = OrgEditForm(obj=org)
    move = MoveForm(parent=org.parent.code if org.parent else None)
    move.parent.choices = org_choices(o for o in queries.parent_choices(current_user)
                                      if not o.path.startswith(org.path))
    if form.validate_on_submit():
        try:
            operations.update_org(org, actor=current_user, name=form.name.data.strip(), kind=form.kind.data,
                                  industry=form.industry.data or None, region=form.region.data or None)
        except operations.Refused as refused:
            form.kind.errors.append(str(refused.message))
        else:
            flash(_("已保存。"), "success")
            return redirect(url_for("orgs.detail", code=org.code))
    return render_template("orgs/edit.html", org=org, form=form, move=move, close=ConfirmForm()), \
        (400 if form.errors else 200)


@bp.route("/orgs/<code>/move", methods=["POST"])
@login_required
def move(code: str):
    org = org_or_404(code)
    if not queries.can_manage_org(current_user, org):
        abort(403)
    form = MoveForm()
    form.parent.choices = org_choices(queries.parent_choices(current_user))
    if not form.validate_on_submit():
        abort(400)
    try:
        operations.move_org(org, org_or_404(form.parent.data), actor=current_user)
    except operations.Refused as refused:
        return _refused(refused, "orgs.edit", code=code)
    flash(_("已移动到新的上级组织下。"), "success")
    return redirect(url_for("orgs.detail", code=code))


@bp.route("/orgs/<code>/close", methods=["POST"])
@login_required
def close(code: str):
    org = org_or_404(code)
    if not queries.can_manage_org(current_user, org):
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        operations.close_org(org, actor=current_user)
    except operations.Refused as refused:
        return _refused(refused, "orgs.edit", code=code)
    flash(_("已撤销 %(name)s。", name=org.name), "success")
    return redirect(url_for("orgs.tree"))


def _refused(refused: operations.Refused, endpoint: str, **values):
    """A rule said no: nothing is written (4xx rolls back); show why on an error page."""
    return render_template("orgs/refused.html", message=str(refused.message),
                           back=url_for(endpoint, **values)), 409


# --- transfers ---------------------------------------------------------------------------------

def _request_transfer(form: TransferForm, member: Member, to_org: Organization | None) -> bool:
    """Submit the form's transfer; on refusal put the reason on the form and return False."""
    if to_org is None:
        form.to_code.errors.append(_("没有这个支部编码。"))
        return False
    try:
        operations.request_transfer(member, to_org, form.effective_on.data, actor=current_user,
                                    reason=form.reason.data or "")
    except operations.Refused as refused:
        form.to_code.errors.append(str(refused.message))
        return False
    flash(_("转接申请已提交，等待转入支部审批。"), "success")
    return True


@bp.route("/orgs/transfers", methods=["GET", "POST"])
@login_required
def transfers():
    require_manager()
    form = TransferForm(effective_on=local_today())
    if form.validate_on_submit():
        member = db.session.scalar(select(Member).where(Member.phone == normalize_phone(form.phone.data or "")))
        to_org = queries.org_by_code(form.to_code.data.strip())
        if member is None or not queries.can_view_org(current_user, member.home_org):
            form.phone.errors.append(_("在你管理的组织里没有这个手机号的党员。"))
        elif _request_transfer(form, member, to_org):
            return redirect(url_for("orgs.transfers"))
    incoming = list(db.session.scalars(queries.transfers_for(current_user, "incoming").limit(200)))
    outgoing = list(db.session.scalars(queries.transfers_for(current_user, "outgoing").limit(200)))
    return render_template("orgs/transfers.html", form=form, incoming=incoming, outgoing=outgoing,
                           action=ConfirmForm()), (400 if form.errors else 200)


@bp.route("/orgs/transfers/<int:transfer_id>/<any(approve, decline, cancel):decision>", methods=["POST"])
@login_required
def decide_transfer(transfer_id: int, decision: str):
    transfer = db.session.get(Transfer, transfer_id)
    if transfer is None:
        abort(404)
    if decision == "cancel":
        allowed = transfer.member_id == current_user.id or queries.can_view_org(current_user, transfer.from_org)
    else:
        allowed = queries.can_decide_transfer(current_user, transfer)
    if not allowed:
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        if decision == "cancel":
            operations.cancel_transfer(transfer, actor=current_user)
        else:
            operations.decide_transfer(transfer, approve=decision == "approve", actor=current_user,
                                       today=local_today())
    except operations.Refused as refused:
        return _refused(refused, "orgs.transfers")
    flash(_("已处理。"), "success")
    return redirect(url_for("orgs.my_transfer" if request.form.get("back") == "mine" else "orgs.transfers"))


@bp.route("/account/transfer", methods=["GET", "POST"])
@login_required
def my_transfer():
    form = TransferForm(effective_on=local_today())
    if form.validate_on_submit():
        if _request_transfer(form, current_user, queries.org_by_code(form.to_code.data.strip())):
            return redirect(url_for("orgs.my_transfer"))
    mine = list(db.session.scalars(select(Transfer).where(Transfer.member_id == current_user.id)
                                   .order_by(Transfer.requested_at.desc())))
    return render_template("orgs/my_transfer.html", form=form, transfers=mine, action=ConfirmForm()), \
        (400 if form.errors else 200)


# --- roles ---------------------------------------------------------------------------------------

@bp.route("/admin/roles", methods=["GET", "POST"])
@login_required
def roles():
    require_admin()
    form = GrantForm()
    form.org.choices = org_choices(db.session.scalars(
        select(Organization).where(Organization.closed_at.is_(None)).order_by(Organization.path)))
    if form.validate_on_submit():
        member = db.session.scalar(select(Member).where(Member.phone == normalize_phone(form.phone.data)))
        if member is None or not member.active:
            form.phone.errors.append(_("没有这个手机号的党员。"))
        else:
            operations.grant_role(member=member, org=org_or_404(form.org.data), role=form.role.data,
                                  actor=current_user)
            flash(_("已授予。"), "success")
            return redirect(url_for("orgs.roles"))
    grants = list(db.session.scalars(
        select(RoleGrant).join(Organization, Organization.id == RoleGrant.org_id)
        .where(RoleGrant.role.in_(MANAGING_ROLES)).order_by(Organization.path, RoleGrant.id)))
    return render_template("orgs/roles.html", form=form, grants=grants, revoke=ConfirmForm()), \
        (400 if form.errors else 200)


@bp.route("/admin/roles/<int:grant_id>/revoke", methods=["POST"])
@login_required
def revoke(grant_id: int):
    require_admin()
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None or grant.role not in MANAGING_ROLES:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    operations.revoke_role(grant, actor=current_user)
    flash(_("已撤销授权。"), "success")
    return redirect(url_for("orgs.roles"))


@bp.route("/members/<int:member_id>/activation-code", methods=["POST"])
@login_required
def activation_code(member_id: int):
    """A fresh one-time activation code for a member who never logged in or forgot their
    password; shown once, earlier unused codes stop working."""
    member = db.session.get(Member, member_id)
    if member is None:
        abort(404)
    if not queries.can_issue_code(current_user, member):
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    days = activation_code_days()
    code = issue_activation_code(member, actor=current_user, valid_days=days)
    db.session.commit()
    return render_template("orgs/activation_code.html", member=member, code=code, mask=mask,
                           expires_on=local_today() + timedelta(days=days))
