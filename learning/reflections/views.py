"""Pages for 学习心得: the member writes, the secretary reviews and features."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from learning.catalog.queries import can_view_course, course_by_slug
from learning.extensions import db
from learning.orgs.queries import is_manager, org_by_code, can_view_org
from learning.reflections import bp, operations, queries
from learning.reflections.forms import FeatureForm, ReflectionForm, ReviewForm
from learning.reflections.models import Reflection
from learning.timeutil import to_local


def _course_or_404(slug: str):
    course = course_by_slug(slug)
    if course is None or not can_view_course(current_user, course):
        abort(404)
    return course


def _reflection_or_404(reflection_id: int) -> Reflection:
    reflection = db.session.get(Reflection, reflection_id)
    if reflection is None:
        abort(404)
    return reflection


@bp.route("/courses/<slug>/reflection", methods=["GET", "POST"])
@login_required
def write(slug: str):
    course = _course_or_404(slug)
    if not queries.has_completed(current_user, course):
        abort(403)
    reflection = queries.reflection_of(current_user, course)
    form = ReflectionForm()
    if not form.is_submitted() and reflection is not None:  # first view: the text so far
        form.body.data = reflection.body
    low, high = operations.length_limits()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            operations.submit(current_user, course, form.body.data)
        except operations.ReflectionError as refused:
            error, status = refused.message, refused.status
        else:
            flash(_("学习心得已提交，等待支部书记审核。"), "success")
            return redirect(url_for("reflections.mine"))
    if form.errors:
        status = 400
    return render_template("reflections/write.html", course=course, form=form, reflection=reflection,
                           error=error, low=low, high=high), status


@bp.route("/reflections")
@login_required
def mine():
    rows = list(db.session.scalars(queries.own_reflections(current_user)))
    return render_template("reflections/mine.html", rows=rows)


@bp.route("/reflections/review")
@login_required
def queue():
    if not is_manager(current_user):
        abort(403)
    org = None
    if request.args.get("org"):
        org = org_by_code(request.args["org"])
        if org is None:
            abort(404)
        if not can_view_org(current_user, org):
            abort(403)
    rows = list(db.session.scalars(queries.reviewable_by(current_user, org)))
    return render_template("reflections/queue.html", rows=rows, org=org)


@bp.route("/reflections/<int:reflection_id>")
@login_required
def detail(reflection_id: int):
    reflection = _reflection_or_404(reflection_id)
    reviewer = queries.can_review(current_user, reflection)
    if reflection.member_id != current_user.id and not reviewer:
        abort(403)
    return _detail_page(reflection, reviewer)


def _detail_page(reflection: Reflection, reviewer: bool, review_form: ReviewForm | None = None):
    return render_template("reflections/detail.html", r=reflection, reviewer=reviewer,
                           review_form=review_form or ReviewForm(formdata=None),
                           feature_form=FeatureForm(formdata=None))


@bp.route("/reflections/<int:reflection_id>/review", methods=["POST"])
@login_required
def review(reflection_id: int):
    reflection = _reflection_or_404(reflection_id)
    if not queries.can_review(current_user, reflection):
        abort(403)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        points = operations.review(current_user, reflection, approve=form.decision.data == "approve",
                                   comment=form.comment.data or "")
    except operations.ReflectionError as refused:
        flash(refused.message, "error")
        return _detail_page(reflection, True, form), refused.status
    flash(_("已通过，%(name)s 获得 %(n)s 积分。", name=reflection.member.name, n=points)
          if form.decision.data == "approve" else _("已退回，等待修改后重新提交。"), "success")
    return redirect(url_for("reflections.queue"))


@bp.route("/reflections/<int:reflection_id>/feature", methods=["POST"])
@login_required
def feature(reflection_id: int):
    reflection = _reflection_or_404(reflection_id)
    if not queries.can_review(current_user, reflection):
        abort(403)
    form = FeatureForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        operations.set_featured(current_user, reflection, form.featured.data == "1")
    except operations.ReflectionError as refused:
        flash(refused.message, "error")
        return _detail_page(reflection, True), refused.status
    flash(_("已更新支部页面展示。"), "success")
    return redirect(url_for("reflections.detail", reflection_id=reflection.id))


@bp.app_template_filter("localtime")
def localtime(moment) -> str:
    """A stored naive-UTC moment in academy time, to the minute."""
    return to_local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""
