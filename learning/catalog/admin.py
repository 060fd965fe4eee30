"""Course administration: upload a package, see its problems, publish / unpublish / archive."""
from __future__ import annotations

import tempfile
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from content import CATEGORIES, OCCUPATIONS, validate_path
from learning.catalog import bp, operations
from learning.catalog.drafts import draft_slugs
from learning.catalog.forms import STATUS_LABELS, MetadataForm, StatusForm, UploadForm
from learning.catalog.models import Course
from learning.catalog.queries import course_by_slug, prerequisite_courses
from learning.catalog.storage import course_store, work_dir
from learning.extensions import db
from learning.i18n import is_english
from learning.orgs.queries import is_admin


def _require_admin() -> None:
    if not is_admin(current_user):
        abort(403)


def _admin_course_or_404(slug: str) -> Course:
    """Any course, drafts and archived ones included (administrators only)."""
    _require_admin()
    course = course_by_slug(slug)
    if course is None:
        abort(404)
    return course


@bp.route("/admin/courses")
@login_required
def admin_index():
    _require_admin()
    courses = db.session.scalars(select(Course).order_by(Course.status, Course.category, Course.title))
    return render_template("catalog/admin_index.html", courses=list(courses), form=UploadForm(),
                           status_labels=STATUS_LABELS, drafts=draft_slugs())


@bp.route("/admin/courses/upload", methods=["POST"])
@login_required
def admin_upload():
    _require_admin()
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template("catalog/admin_index.html", courses=[], form=form,
                               status_labels=STATUS_LABELS, drafts=[]), 400
    # Werkzeug has already spooled a large upload to a temporary file; copy it in chunks to
    # our own file so the archive checks can seek in it.
    with tempfile.NamedTemporaryFile(dir=work_dir(), suffix=".zip") as spooled:
        form.package.data.save(spooled)
        spooled.flush()
        pkg, problems = validate_path(spooled.name, locale="en" if is_english() else "zh",
                                      workdir=work_dir())
        if problems:
            filename = form.package.data.filename
            return render_template("catalog/admin_problems.html", problems=problems, filename=filename), 400
        with pkg:
            course = operations.import_package(pkg, store_root=course_store(), actor=current_user,
                                               publish=bool(form.publish.data))
    flash(_("已导入《%(title)s》版本 %(version)s。", title=course.title, version=course.version), "success")
    return redirect(url_for("catalog.course", slug=course.slug))


@bp.route("/admin/courses/<slug>/status", methods=["POST"])
@login_required
def admin_status(slug: str):
    course = _admin_course_or_404(slug)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    operations.set_status(course, form.status.data, actor=current_user)
    flash(_("《%(title)s》的状态已更新。", title=course.title), "success")
    return redirect(url_for("catalog.admin_index"))


@bp.route("/admin/courses/<slug>/edit", methods=["GET", "POST"])
@login_required
def admin_edit(slug: str):
    course = _admin_course_or_404(slug)
    form = MetadataForm()
    if not form.is_submitted():  # first view: prefill from the course
        form = MetadataForm(obj=course)
        form.audience.data = "，".join(course.audience)
    if form.validate_on_submit():
        operations.edit_metadata(course, actor=current_user, title=form.title.data.strip(),
                                 summary=(form.summary.data or "").strip(), category=form.category.data,
                                 hours=float(form.hours.data), audience=form.audience_list(),
                                 allowed_kinds=list(form.allowed_kinds.data or []))
        flash(_("《%(title)s》的信息已保存。", title=course.title), "success")
        return redirect(url_for("catalog.admin_index"))
    prerequisites, unknown = prerequisite_courses(course)
    return render_template("catalog/admin_edit.html", course=course, form=form, categories=CATEGORIES,
                           occupations=OCCUPATIONS, prerequisites=prerequisites, unknown=unknown), \
        (400 if form.errors else 200)
