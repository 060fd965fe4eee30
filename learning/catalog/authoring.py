"""The browser course editor (administrators): a course and its lessons are edited as a draft
package (learning/catalog/drafts.py) and saved through the same validator and importer as an
uploaded package."""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage, MultiDict

from content import CATEGORIES, OCCUPATIONS, render_markdown, validate_path
from content.messages import message
from content.model import LESSON_KINDS, QUESTION_KINDS
from content.package import COURSE_ID, COURSE_TOML
from learning.catalog import bp, operations
from learning.catalog.admin import _admin_course_or_404, _require_admin
from learning.catalog.drafts import (
    Draft,
    LessonInput,
    QuestionInput,
    create_draft,
    move_lesson,
    pad_options,
    place,
    problems_of,
    save_course,
    save_lesson,
    start_from_course,
)
from learning.catalog.forms import DraftCourseForm, DraftImportForm, DraftLessonForm
from learning.catalog.queries import course_by_slug
from learning.catalog.storage import course_store, remove_after_commit, work_dir
from learning.catalog.views import send_media
from learning.extensions import db
from learning.i18n import is_english

UPLOAD_SUFFIXES = {"video": (".mp4",), "audio": (".m4a", ".mp3"), "pdf": (".pdf",),
                   "cover": (".png", ".jpg", ".jpeg", ".webp")}
KIND_LABELS = {"text": "图文", "video": "视频", "audio": "音频", "pdf": "文档", "quiz": "测验"}


def _locale() -> str:
    return "en" if is_english() else "zh"


def _draft_or_404(slug: str) -> Draft:
    _require_admin()
    draft = Draft.find(slug)
    if draft is None:
        abort(404)
    return draft


def _upload(storage: FileStorage | None, kind: str) -> tuple[Path | None, str, list[str]]:
    """An uploaded file saved into the work folder: (path, suffix, []) or (None, "", [problem]).
    Its content is judged by the validator with the rest of the draft."""
    if storage is None or not storage.filename:
        return None, "", []
    suffix = Path(storage.filename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES[kind]:
        return None, "", [_("请上传 %(types)s 文件。", types="、".join(UPLOAD_SUFFIXES[kind]))]
    with tempfile.NamedTemporaryFile(dir=work_dir(), suffix=suffix, delete=False) as spooled:
        storage.save(spooled)
    return Path(spooled.name), suffix, []


def _comma_list(text: str | None) -> list[str]:
    text = (text or "").replace("，", ",").replace("、", ",")
    return [t.strip() for t in text.split(",") if t.strip()]


def _course_fields(form: DraftCourseForm, slug: str) -> dict[str, object]:
    return {"id": slug, "version": (form.version.data or "").strip(), "title": (form.title.data or "").strip(),
            "summary": (form.summary.data or "").strip(), "category": form.category.data or "",
            "hours": form.hours.data or "", "audience": request.form.getlist("audience"),
            "tags": _comma_list(form.tags.data),
            # left out when empty, so course.toml only has the key when a course uses it
            "prerequisites": _comma_list(form.prerequisites.data) or None}


def _show_errors(form, errors: dict[str, list[str]], shown: Iterable[str] = ()) -> None:
    """Put problems found by the validator on the form's fields (the field macro shows them);
    problems about anything the page has no field for are shown at the top of the form."""
    shown = set(shown)
    for name, messages in list(errors.items()):
        if name in form._fields:
            form._fields[name].errors = list(messages)
        elif name and name not in shown:
            errors.setdefault("", []).extend(errors.pop(name))


QUESTION_FIELDS = ("", ".type", ".prompt", ".options", ".answer", ".explanation")


@bp.route("/admin/courses/new", methods=["GET", "POST"])
@login_required
def admin_new():
    _require_admin()
    form = DraftCourseForm()
    errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        slug = (form.id.data or "").strip()
        if not COURSE_ID.match(slug):
            errors["id"] = [message("id-invalid", _locale(), {"value": slug})]
        elif course_by_slug(slug) is not None or Draft.find(slug) is not None:
            errors["id"] = [_("课程 id“%(id)s”已被使用。", id=slug)]
        else:
            draft, errors = create_draft(_course_fields(form, slug), _locale())
            if not errors:
                flash(_("课程草稿已创建，请添加课时。"), "success")
                return redirect(url_for("catalog.admin_draft", slug=slug))
        _show_errors(form, errors, shown=("audience",))
    return render_template("catalog/admin_draft_new.html", form=form, errors=errors, categories=CATEGORIES,
                           occupations=OCCUPATIONS, audience=request.form.getlist("audience")), \
        (400 if errors or form.errors else 200)


@bp.route("/admin/courses/<slug>/draft/start", methods=["POST"])
@login_required
def admin_draft_start(slug: str):
    course = _admin_course_or_404(slug)
    if Draft.find(slug) is None:
        start_from_course(course, course_store())
    return redirect(url_for("catalog.admin_draft", slug=slug))


def _render_draft(draft: Draft, form: DraftCourseForm, placed: dict, status: int = 200):
    fields = draft.course_fields()
    if not form.is_submitted():
        form.version.data = fields.get("version", "")
        form.title.data = fields.get("title", "")
        form.summary.data = fields.get("summary", "")
        form.category.data = fields.get("category", "")
        form.hours.data = "" if fields.get("hours") is None else f"{fields['hours']:g}" \
            if isinstance(fields.get("hours"), int | float) else str(fields.get("hours"))
        form.tags.data = "，".join(str(t) for t in fields.get("tags", []) if isinstance(t, str))
        form.prerequisites.data = "，".join(str(p) for p in fields.get("prerequisites", []) if isinstance(p, str))
        audience = [a for a in fields.get("audience", []) if isinstance(a, str)]
    else:
        audience = request.form.getlist("audience")
    errors = problems_of(placed, COURSE_TOML)
    _show_errors(form, errors, shown=("audience",))
    lessons = draft.lessons()
    course = course_by_slug(draft.slug)
    return render_template(
        "catalog/admin_draft.html", draft=draft, form=form, fields=fields, lessons=lessons, course=course,
        placed=placed, errors=errors, categories=CATEGORIES, occupations=OCCUPATIONS, audience=audience,
        kinds=LESSON_KINDS, kind_labels=KIND_LABELS, import_form=DraftImportForm(formdata=None),
        other_problems={f: p for f, p in placed.items()
                        if f != COURSE_TOML and f not in {f"lessons/{x.name}" for x in lessons}},
    ), status


@bp.route("/admin/courses/<slug>/draft", methods=["GET", "POST"])
@login_required
def admin_draft(slug: str):
    draft = _draft_or_404(slug)
    form = DraftCourseForm()
    if not form.validate_on_submit():
        return _render_draft(draft, form, {}, 400 if form.is_submitted() else 200)
    cover, suffix, upload_errors = _upload(form.cover.data, "cover")
    errors = {"cover": upload_errors} if upload_errors else \
        save_course(draft, _course_fields(form, slug), cover, _locale(), suffix)
    if errors:
        return _render_draft(draft, form, {COURSE_TOML: errors}, 400)
    flash(_("课程信息已保存到草稿。"), "success")
    return redirect(url_for("catalog.admin_draft", slug=slug))


def _lesson_from_form(stored: LessonInput, form: DraftLessonForm, data: MultiDict) -> LessonInput:
    questions = []
    i = 0
    while f"q-{i}-type" in data:
        slots = sum(1 for key in data if key.startswith(f"q-{i}-opt-"))
        questions.append(QuestionInput(
            type=data.get(f"q-{i}-type", "single"), prompt=data.get(f"q-{i}-prompt", "").strip(),
            options=[data.get(f"q-{i}-opt-{j}", "") for j in range(slots)],
            correct={int(v) for v in data.getlist(f"q-{i}-correct") if v.isdigit()},
            truth=data.get(f"q-{i}-truth", ""), explanation=data.get(f"q-{i}-explanation", "").strip()))
        i += 1
    return LessonInput(
        name=stored.name, kind=stored.kind, title=(form.title.data or "").strip(),
        duration=form.duration.data or "", min_dwell=form.min_dwell.data or "",
        requires=data.getlist("requires"), optional=bool(form.optional.data), body=form.body.data or "",
        media=stored.media, pass_score=form.pass_score.data or "", questions=questions)


@bp.route("/admin/courses/<slug>/draft/new/<kind>", methods=["GET", "POST"], endpoint="admin_draft_lesson")
@bp.route("/admin/courses/<slug>/draft/lessons/<name>", methods=["GET", "POST"], endpoint="admin_draft_lesson")
@login_required
def admin_draft_lesson(slug: str, name: str | None = None, kind: str | None = None):
    draft = _draft_or_404(slug)
    if name is not None:
        if name not in draft.lesson_files():
            abort(404)
        stored = draft.lesson(name)
    elif kind in LESSON_KINDS:
        stored = LessonInput(None, kind, questions=[QuestionInput()] if kind == "quiz" else [])
    else:
        abort(404)
    form = DraftLessonForm(obj=None if request.method == "POST" else stored)
    lesson, errors, preview, status = stored, {}, None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        lesson = _lesson_from_form(stored, form, request.form)
        action = request.form.get("action", "save")
        if action == "add-question":
            lesson.questions.append(QuestionInput())
        elif action.startswith("remove-question-") and action[16:].isdigit():
            index = int(action[16:])
            if index < len(lesson.questions):
                lesson.questions.pop(index)
        elif action == "preview":
            base = url_for("catalog.admin_draft_media", slug=slug, name="x")[:-1]
            preview = render_markdown(lesson.body, media_base=base)
        else:
            upload, suffix, upload_errors = (None, "", []) if lesson.kind in ("text", "quiz") else \
                _upload(form.media.data, lesson.kind)
            errors = {"media": upload_errors} if upload_errors else \
                save_lesson(draft, lesson, upload, suffix, _locale())
            if not errors:
                flash(_("课时《%(title)s》已保存到草稿。", title=lesson.title), "success")
                return redirect(url_for("catalog.admin_draft", slug=slug) + f"#lesson-{lesson.slug}")
            status = 400
    _show_errors(form, errors, shown=("media", "body", "requires", "optional", "questions", *(
        f"questions.{i}{part}" for i in range(len(lesson.questions)) for part in QUESTION_FIELDS)))
    others = [x for x in draft.lessons() if x.name != lesson.name]
    return render_template(
        "catalog/admin_draft_lesson.html", draft=draft, form=form, lesson=lesson, errors=errors,
        preview=preview, others=others, kind_labels=KIND_LABELS, question_kinds=QUESTION_KINDS, pad_options=pad_options,
        accept=",".join(UPLOAD_SUFFIXES.get(lesson.kind, ())),
    ), status


@bp.route("/admin/courses/<slug>/draft/lessons/<name>/order", methods=["POST"])
@login_required
def admin_draft_order(slug: str, name: str):
    draft = _draft_or_404(slug)
    action = request.form.get("action")
    if name not in draft.lesson_files() or action not in ("up", "down", "delete"):
        abort(400)
    move_lesson(draft, name, action)
    return redirect(url_for("catalog.admin_draft", slug=slug))


@bp.route("/admin/courses/<slug>/draft/import", methods=["POST"])
@login_required
def admin_draft_import(slug: str):
    """Save the draft as the course's next version: validated and imported like an upload."""
    draft = _draft_or_404(slug)
    form = DraftImportForm()
    if not form.validate_on_submit():
        abort(400)
    pkg, problems = validate_path(draft.root, _locale())
    if problems:
        return _render_draft(draft, DraftCourseForm(formdata=None), place(problems, draft), 400)
    course = operations.import_package(pkg, store_root=course_store(), actor=current_user,
                                       publish=bool(form.publish.data))
    remove_after_commit(db.session(), draft.root)
    flash(_("已保存《%(title)s》版本 %(version)s。", title=course.title, version=course.version), "success")
    return redirect(url_for("catalog.course", slug=course.slug))


@bp.route("/admin/courses/<slug>/draft/discard", methods=["POST"])
@login_required
def admin_draft_discard(slug: str):
    draft = _draft_or_404(slug)
    form = DraftImportForm()
    if not form.validate_on_submit():
        abort(400)
    # Moved aside first, so a half-deleted folder is never taken for a draft.
    aside = Path(tempfile.mkdtemp(prefix="discarded-", dir=work_dir()))
    draft.root.rename(aside / slug)
    shutil.rmtree(aside, ignore_errors=True)
    flash(_("草稿已删除。"), "success")
    return redirect(url_for("catalog.admin_index"))


@bp.route("/admin/courses/<slug>/draft/media/<path:name>")
@login_required
def admin_draft_media(slug: str, name: str):
    """A draft's media (cover, images in a preview, the lesson's file) for its editor."""
    draft = _draft_or_404(slug)
    return send_media(draft.root / "media", name)
