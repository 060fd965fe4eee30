from __future__ import annotations

import math

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from learning.api.spec import MAX_ID
from learning.catalog.models import Course
from learning.catalog.queries import can_view_course, course_by_slug
from learning.community import bp, operations, queries
from learning.community.forms import ConfirmForm, ModerateForm, PostForm, ReportForm, WordsForm
from learning.community.models import Discussion, Notification, Post, PostStatus
from learning.community.operations import PostingLimits, PostingRefused
from learning.extensions import db
from learning.netutil import client_address
from learning.orgs.views import require_admin
from learning.timeutil import to_local


@bp.app_context_processor
def _forum_nav():
    def forum_unread() -> int:
        return queries.unread_count(current_user) if current_user.is_authenticated else 0

    def forum_time(moment) -> str:
        return to_local(moment).strftime("%Y-%m-%d %H:%M")

    return {"forum_unread": forum_unread, "forum_time": forum_time}


def _page() -> int:
    return max(1, min(request.args.get("page", 1, type=int) or 1, 100_000))


def _page_size() -> int:
    return int(current_app.config["FORUM_PAGE_SIZE"])


def _paginate(query, page: int):
    size = _page_size()
    rows = list(db.session.scalars(query.offset((page - 1) * size).limit(size + 1)))
    return rows[:size], len(rows) > size


def _readable_discussion(discussion_id: int) -> Discussion:
    discussion = db.session.get(Discussion, discussion_id) if discussion_id <= MAX_ID else None
    if discussion is None or not queries.can_read(current_user, discussion):
        abort(404)
    return discussion


def _visible_post(post_id: int) -> Post:
    post = db.session.get(Post, post_id) if post_id <= MAX_ID else None
    if (post is None or not queries.can_read(current_user, post.discussion)
            or not queries.can_see_post(current_user, post)):
        abort(404)
    return post


def _post_named(raw: str | None) -> Post | None:
    """The post a form's reply_to field names, if it is a sane id."""
    raw = (raw or "").strip()
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        return None
    return db.session.get(Post, int(raw))


def _limits() -> PostingLimits:
    return PostingLimits.from_config(current_app.config)


@bp.route("/forum")
@login_required
def index():
    boards = queries.boards()  # seeded by the migrations (reads create nothing)
    courses = list(db.session.scalars(select(Course).where(Course.id.in_(queries.studied_course_ids(current_user)))
                                      .order_by(Course.title)))
    return render_template("community/index.html", boards=boards, notes=queries.BOARD_NOTES,
                           titles=queries.BOARDS, courses=courses,
                           review_count=queries.review_count(current_user),
                           moderator=queries.is_moderator(current_user))


@bp.route("/courses/<slug>/discussion")
@login_required
def course(slug: str):
    found = course_by_slug(slug)
    if found is None or not can_view_course(current_user, found):
        abort(404)
    discussion = queries.course_discussion(found)  # opened with the course (catalog import)
    if discussion is None:
        abort(404)
    return redirect(url_for("community.discussion", discussion_id=discussion.id))


def _publish(form: PostForm, discussion: Discussion, reply_to: Post | None) -> Post | None:
    """Create the post from the form; None (with the message on the form) when refused."""
    try:
        post = operations.create_post(current_user, discussion, body=form.body.data, title=form.title.data,
                                      reply_to=reply_to, quote=bool(form.quote.data) and reply_to is not None,
                                      limits=_limits())
    except PostingRefused as refused:
        form.body.errors = [*form.body.errors, refused.message]
        form.refused_status = refused.status  # type: ignore[attr-defined]
        return None
    if post.status == PostStatus.PENDING:
        flash(_("帖子含有需要审核的词语，审核通过后才会公开。"), "info")
    else:
        flash(_("已发布。"), "success")
    return post


@bp.route("/forum/<int:discussion_id>", methods=["GET", "POST"])
@login_required
def discussion(discussion_id: int):
    found = _readable_discussion(discussion_id)
    form = PostForm()
    if form.validate_on_submit():
        post = _publish(form, found, None)
        if post is not None:
            return redirect(url_for("community.thread", post_id=post.id))
    page = _page()
    rows, more = _paginate(queries.threads(current_user, found), page)
    status = getattr(form, "refused_status", 400) if form.is_submitted() else 200
    return render_template("community/discussion.html", discussion=found, title=queries.discussion_title(found),
                           threads=rows, page=page, more=more, form=form,
                           note=queries.BOARD_NOTES.get(found.board_key or "")), status


def _last_page(root: Post) -> int:
    count = db.session.scalar(select(func.count()).select_from(queries.replies(current_user, root).subquery())) or 0
    return max(1, math.ceil(count / _page_size()))


@bp.route("/forum/threads/<int:post_id>", methods=["GET", "POST"])
@login_required
def thread(post_id: int):
    post = _visible_post(post_id)
    if post.thread_id is not None:
        root = _visible_post(post.thread_id)
        return redirect(url_for("community.thread", post_id=root.id, page=_last_page(root), _anchor=f"p{post.id}"))
    form = PostForm()
    if form.validate_on_submit():
        reply_to = _post_named(form.reply_to.data)
        if reply_to is None or reply_to.root_id != post.id:
            reply_to = post
        reply = _publish(form, post.discussion, reply_to)
        if reply is not None:
            return redirect(url_for("community.thread", post_id=post.id, page=_last_page(post), _anchor=f"p{reply.id}"))
    elif not form.is_submitted():
        form.reply_to.data = request.args.get("reply_to", "")
        form.quote.data = request.args.get("quote") == "1"
    page = _page()
    rows, more = _paginate(queries.replies(current_user, post), page)
    shown = [post, *rows]
    ids = [p.id for p in shown]
    replying = _post_named(form.reply_to.data)
    if replying is not None and (replying.root_id != post.id or not queries.can_see_post(current_user, replying)):
        replying = None
    status = getattr(form, "refused_status", 400) if form.is_submitted() else 200
    return render_template(
        "community/thread.html", root=post, replies=rows, page=page, more=more, form=form, replying=replying,
        discussion=post.discussion, title=queries.discussion_title(post.discussion),
        liked=queries.liked_ids(current_user, ids), reports=queries.open_report_counts(ids),
        can_moderate=lambda p: queries.can_moderate(current_user, p.author),
        can_see=lambda p: queries.can_see_post(current_user, p), small=ConfirmForm(), report=ReportForm()), status


@bp.post("/forum/posts/<int:post_id>/like")
@login_required
def like(post_id: int):
    post = _visible_post(post_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        operations.toggle_like(current_user, post)
    except PostingRefused as refused:
        abort(refused.status)
    return redirect(url_for("community.thread", post_id=post.id))


@bp.post("/forum/posts/<int:post_id>/report")
@login_required
def report(post_id: int):
    post = _visible_post(post_id)
    form = ReportForm()
    if not form.validate_on_submit():
        flash(" ".join(map(str, form.reason.errors)) or _("请写明举报理由。"), "error")
        return redirect(url_for("community.thread", post_id=post.id)), 303
    try:
        new = operations.report_post(current_user, post, form.reason.data)
    except PostingRefused as refused:
        flash(refused.message, "error")
        return redirect(url_for("community.thread", post_id=post.id)), 303
    flash(_("已举报，管理员会尽快处理。") if new else _("你已经举报过这条帖子。"), "success")
    return redirect(url_for("community.thread", post_id=post.id))


@bp.route("/forum/posts/<int:post_id>/moderation", methods=["GET", "POST"])
@login_required
def moderation(post_id: int):
    post = _visible_post(post_id)
    if not queries.can_moderate(current_user, post.author):
        abort(403)
    form = ModerateForm()
    if form.validate_on_submit():
        try:
            operations.moderate(current_user, post, form.action.data, form.reason.data, address=client_address())
        except PostingRefused as refused:
            form.reason.errors = [refused.message]
        else:
            flash(_("已处理。"), "success")
            return redirect(url_for("community.moderation", post_id=post.id))
    allowed = [c for c in form.action.choices if post.status in operations.MODERATION[c.value][0]]
    form.action.choices = allowed
    return render_template("community/moderation.html", post=post, form=form, history=queries.history(post),
                           reports=queries.reports_of(post)), 400 if form.is_submitted() else 200


@bp.route("/forum/review")
@login_required
def review():
    if not queries.is_moderator(current_user):
        abort(403)
    page = _page()
    rows, more = _paginate(queries.review_queue(current_user), page)
    return render_template("community/review.html", posts=rows, page=page, more=more,
                           reports=queries.open_report_counts([p.id for p in rows]))


@bp.route("/forum/notifications")
@login_required
def notifications():
    page = _page()
    rows, more = _paginate(queries.notifications(current_user), page)
    return render_template("community/notifications.html", rows=rows, page=page, more=more, form=ConfirmForm())


@bp.post("/forum/notifications/read")
@login_required
def read_all():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    operations.mark_read(current_user)
    return redirect(url_for("community.notifications"))


@bp.post("/forum/notifications/<int:notification_id>")
@login_required
def open_notification(notification_id: int):
    """Mark one reminder read and go to its post: a POST (a button in the list), so that no
    link followed, prefetched or embedded elsewhere changes what the member has read."""
    found = db.session.get(Notification, notification_id) if notification_id <= MAX_ID else None
    if found is None or found.member_id != current_user.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    operations.mark_read(current_user, found.id)
    return redirect(url_for("community.thread", post_id=found.post_id))


@bp.route("/admin/forum/words", methods=["GET", "POST"])
@login_required
def words():
    require_admin()
    form = WordsForm()
    if form.validate_on_submit():
        try:
            saved = operations.set_held_words(current_user, (form.words.data or "").splitlines(),
                                              address=client_address())
        except PostingRefused as refused:
            form.words.errors = [refused.message]
        else:
            flash(_("已保存 %(n)d 个审核词。", n=len(saved)), "success")
            return redirect(url_for("community.words"))
    elif not form.is_submitted():
        form.words.data = "\n".join(queries.held_words())
    return render_template("community/words.html", form=form), 400 if form.is_submitted() else 200
