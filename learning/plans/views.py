"""The plan on the home page: dismissing a recommended course (不感兴趣)."""
from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from learning.plans import bp, operations, queries
from learning.study.forms import ActionForm


@bp.route("/plan/<slug>/dismiss", methods=["POST"])
@login_required
def dismiss(slug: str):
    course = queries.dismissable_course(current_user, slug)
    if course is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    if queries.is_required(current_user, course.slug):
        flash(_("《%(title)s》是支部要求的必修课程，不能标记为不感兴趣。", title=course.title), "info")
    else:
        operations.dismiss(current_user, course)
        flash(_("已将《%(title)s》标记为不感兴趣，以后不再推荐。", title=course.title), "success")
    return redirect(url_for("study.home") + "#plan-title")
