from __future__ import annotations

from flask import Response, abort, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from learning.orgs.forms import ConfirmForm
from learning.orgs.views import require_manager, viewable_org
from learning.roster import bp, uploads
from learning.roster.forms import RosterUploadForm
from learning.roster.operations import apply_plan
from learning.roster.service import RosterFileError, plan_file
from learning.roster.template import template_workbook
from learning.timeutil import local_today

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/orgs/<code>/import", methods=["GET", "POST"])
@login_required
def upload(code: str):
    """Upload → a preview of every row; nothing is written yet."""
    org = viewable_org(code)
    form = RosterUploadForm()
    if form.validate_on_submit():
        file = form.roster.data
        stored = uploads.save(file.read(), filename=(file.filename or "")[:200], uploader_id=current_user.id,
                              org_code=org.code)
        try:
            plan = plan_file(stored.path, org, local_today())
        except RosterFileError as error:
            uploads.discard(stored)
            form.roster.errors.append(str(error))
        else:
            return render_template("roster/preview.html", org=org, plan=plan, upload=stored, confirm=ConfirmForm())
    return render_template("roster/upload.html", org=org, form=form), (400 if form.errors else 200)


@bp.route("/orgs/<code>/import/<token>", methods=["POST"])
@login_required
def commit(code: str, token: str):
    """All or nothing: the file is read and checked again, then every row is written."""
    org = viewable_org(code)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    form = RosterUploadForm(formdata=None)
    stored = uploads.load(token, uploader_id=current_user.id, org_code=org.code)
    if stored is None:
        form.roster.errors = [_("预览已过期或不属于你，请重新上传名册。")]
        return render_template("roster/upload.html", org=org, form=form), 400
    try:
        # Checked again: the roster or the tree may have changed since the preview.
        plan = plan_file(stored.path, org, local_today())
    except RosterFileError as error:
        form.roster.errors = [str(error)]
        return render_template("roster/upload.html", org=org, form=form), 400
    if not plan.ok:
        return render_template("roster/preview.html", org=org, plan=plan, upload=stored,
                               confirm=ConfirmForm()), 400
    issued = apply_plan(plan, actor=current_user, today=local_today(), filename=stored.filename)
    uploads.discard(stored)
    return render_template("roster/done.html", org=org, plan=plan, issued=issued)


@bp.route("/roster/template.xlsx")
@login_required
def template():
    require_manager()
    return Response(template_workbook(), mimetype=XLSX, headers={
        "Content-Disposition": "attachment; filename=roster-template.xlsx; "
                               "filename*=UTF-8''%E5%85%9A%E5%91%98%E5%90%8D%E5%86%8C%E6%A8%A1%E6%9D%BF.xlsx"})
