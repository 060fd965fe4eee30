from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from learning.catalog.models import Lesson
from learning.catalog.queries import can_view_course
from learning.extensions import db
from learning.i18n import is_english
from learning.pagecache import cached_page
from learning.plans.current import current_plan
from learning.study import bp, operations, queries
from learning.study.forms import ActionForm
from learning.study.reading import time_on_page
from learning.study.targets import target_for
from learning.timeutil import local_today, utcnow


@bp.route("/")
@login_required
def home():
    """The page members open between every two lessons: kept rendered while nothing it shows
    changes (learning/pagecache)."""
    return cached_page(_render_home)


def _render_home() -> str:
    today = local_today()
    year = today.year
    counters = queries.year_counters(current_user, year)
    hours = counters.hours if counters else 0.0
    target = target_for(current_user, year)
    return render_template(
        "study/home.html",
        year=year,
        hours=hours,
        target=target,
        points=counters.points if counters else 0,
        streak=queries.streak_days(current_user, today),
        plan=current_plan(current_user, today=today, hours_done=hours, target=target),
        reason_lang="en" if is_english() else "zh",
        in_progress=queries.courses_in_progress(current_user),
        completions=queries.completions(current_user, year),
    )


@bp.route("/record")
@login_required
def record():
    """学习档案: one year's credits with totals by category, printable as proof of 学时."""
    today = local_today()
    years = queries.record_years(current_user, today.year)
    year = request.args.get("year", type=int)
    if year not in years:
        year = today.year
    return render_template("study/record.html", record=queries.year_record(current_user, year), years=years,
                           target=target_for(current_user, year), made_on=today)


def _lesson_or_404(lesson_id: int) -> Lesson:
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or lesson.retired or not can_view_course(current_user, lesson.course):
        abort(404)
    return lesson


@bp.route("/lessons/<int:lesson_id>/complete", methods=["POST"])
@login_required
def complete(lesson_id: int):
    lesson = _lesson_or_404(lesson_id)
    if lesson.kind == "quiz" or not ActionForm().validate_on_submit():
        abort(400)
    now = utcnow()
    event_id, seconds = time_on_page(request.form.get("opened"), current_user, lesson, now) or (None, 0)
    if lesson.kind in ("video", "audio") and not operations.media_watched(current_user, lesson, seconds):
        flash(_("请先看完（听完）本课音视频的九成以上，学完后会自动记录。"), "error")
        return redirect(url_for("catalog.lesson", slug=lesson.course.slug, lesson_slug=lesson.slug))
    try:
        completion = operations.complete_lesson(current_user, lesson, now, time_spent_s=seconds, event_id=event_id)
    except operations.LessonNotFinished as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("catalog.lesson", slug=lesson.course.slug, lesson_slug=lesson.slug))
    if completion is not None:
        flash(_("恭喜！你学完了《%(title)s》，获得 %(hours)s 学时。", title=lesson.course.title,
                hours=f"{completion.hours:g}"), "success")
        return redirect(url_for("catalog.course", slug=lesson.course.slug))
    flash(_("本课已学完。"), "success")
    return redirect(url_for("catalog.course", slug=lesson.course.slug))


@bp.route("/lessons/<int:lesson_id>/quiz", methods=["POST"])
@login_required
def quiz(lesson_id: int):
    lesson = _lesson_or_404(lesson_id)
    if lesson.kind != "quiz" or not ActionForm().validate_on_submit():
        abort(400)
    answers = []
    for index, question in enumerate(lesson.questions):
        chosen = request.form.getlist(f"q{index}")
        if not all(c.isdigit() and int(c) < len(question["options"]) for c in chosen):
            abort(400)
        answers.append(sorted({int(c) for c in chosen}))
    result = operations.submit_quiz(current_user, lesson, answers, utcnow())
    return render_template("catalog/quiz_result.html", lesson=lesson, course=lesson.course,
                           result=result, answers=answers)
