from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from learning.assignments import bp, operations
from learning.assignments.forms import AssignmentForm
from learning.assignments.models import Assignment
from learning.assignments.queries import made_in
from learning.catalog.models import Course, CourseStatus
from learning.extensions import db
from learning.netutil import client_address
from learning.orgs.models import Organization
from learning.orgs.queries import can_view_org, children_of
from learning.stats.access import visible_org_or_abort
from learning.study.forms import ActionForm


def _form(org: Organization) -> AssignmentForm:
    form = AssignmentForm()
    targets = [org, *db.session.scalars(children_of(org))]
    form.org.choices = [SelectChoice(o.code, o.name) for o in targets]
    courses = db.session.scalars(select(Course).where(Course.status == CourseStatus.PUBLISHED).order_by(Course.title))
    form.course.choices = [SelectChoice(c.slug, f"{c.title}（{c.hours:g} 学时）") for c in courses]
    if not form.is_submitted():
        form.org.data = org.code
    return form


@bp.route("/orgs/<code>/assignments", methods=["GET", "POST"])
@login_required
def index(code: str):
    org = visible_org_or_abort(code)
    form = _form(org)
    if form.validate_on_submit():
        target = db.session.scalar(select(Organization).where(Organization.code == form.org.data))
        course = db.session.scalar(select(Course).where(Course.slug == form.course.data))
        operations.assign(actor=current_user, org=target, course=course, due_on=form.due_on.data,
                          note=(form.note.data or "").strip(), address=client_address())
        flash(_("已下达必修课程《%(title)s》。", title=course.title), "success")
        return redirect(url_for("assignments.index", code=org.code))
    assignments = list(db.session.scalars(made_in(org)))
    status = 400 if form.is_submitted() else 200
    return render_template("assignments/index.html", org=org, form=form, assignments=assignments,
                           action=ActionForm()), status


@bp.route("/assignments/<int:assignment_id>/withdraw", methods=["POST"])
@login_required
def withdraw(assignment_id: int):
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    if not can_view_org(current_user, assignment.org):
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    operations.withdraw(actor=current_user, assignment=assignment, address=client_address())
    flash(_("已撤回必修课程《%(title)s》。", title=assignment.course.title), "success")
    return redirect(url_for("assignments.index", code=assignment.org.code))
