"""Academy settings for study: the annual 学时 targets per role and year."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from learning.orgs.queries import is_admin
from learning.study import bp
from learning.study.forms import TargetsForm
from learning.study.targets import set_target, target_hours
from learning.timeutil import local_today


@bp.route("/admin/targets", methods=["GET", "POST"])
@login_required
def admin_targets():
    if not is_admin(current_user):
        abort(403)
    this_year = local_today().year
    year = request.args.get("year", type=int)
    if year is None or not 2000 <= year <= 2100:
        year = this_year
    form = TargetsForm()
    if form.validate_on_submit():
        for role in ("member", "secretary"):
            set_target(form.year.data, role, float(getattr(form, role).data), actor=current_user)
        flash(_("%(year)s 年的学时目标已保存。", year=form.year.data), "success")
        return redirect(url_for("study.admin_targets", year=form.year.data))
    if request.method == "GET":
        form.year.data = year
        form.member.data = target_hours("member", year)
        form.secretary.data = target_hours("secretary", year)
    years = range(this_year - 2, this_year + 3)
    table = [(y, target_hours("member", y), target_hours("secretary", y)) for y in years]
    return render_template("study/admin_targets.html", form=form, table=table, year=year), \
        (400 if form.errors else 200)
