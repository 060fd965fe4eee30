"""The forum over the API: GET /discussions, GET and POST /discussions/{id}/posts."""
from __future__ import annotations

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from learning.api import bp, spec
from learning.api.auth import api_member, member_required
from learning.api.jsonio import InvalidInput, error, int_arg, json_object, utc_iso
from learning.catalog.models import Course
from learning.community import operations, queries
from learning.community.models import Discussion, DiscussionKind, Post, PostStatus
from learning.community.operations import TITLE_MAX, PostingLimits, PostingRefused
from learning.extensions import db

DISCUSSION = spec.schema("Discussion", spec.obj({
    "id": {"type": "integer"},
    "kind": {"type": "string", "enum": [DiscussionKind.BOARD, DiscussionKind.COURSE]},
    "title": {"type": "string", "description": "The board's name, or the course title"},
    "course_slug": spec.nullable({"type": "string", "description": "The course of a course discussion"}),
}))
FORUM_POST = spec.schema("ForumPost", spec.obj({
    "id": {"type": "integer"},
    "discussion_id": {"type": "integer"},
    "thread_id": spec.nullable({"type": "integer", "description": "The thread starter; null for a thread starter"}),
    "reply_to": spec.nullable({"type": "integer"}),
    "quote": spec.nullable({"type": "integer", "description": "The post quoted (the one replied to)"}),
    "quote_excerpt": spec.nullable({"type": "string", "description": "Its text, unless hidden from the caller"}),
    "title": spec.nullable({"type": "string", "description": "Thread starters only"}),
    "author": spec.obj({"id": {"type": "integer"}, "name": {"type": "string"}, "branch": {"type": "string"}}),
    "body": {"type": "string", "description": "The Markdown as written"},
    "body_html": {"type": "string", "description": "Rendered and sanitized like a lesson body"},
    "status": {"type": "string", "enum": [PostStatus.PUBLISHED, PostStatus.PENDING, PostStatus.HIDDEN,
                                          PostStatus.REJECTED],
               "description": "Members see published posts and their own pending ones; moderators more"},
    "like_count": {"type": "integer", "minimum": 0},
    "reply_count": {"type": "integer", "minimum": 0},
    "liked": {"type": "boolean", "description": "The caller liked it"},
    "created_at": {"type": "string", "format": "date-time"},
}))
NEW_POST = spec.schema("NewForumPost", {**spec.obj({
    "body": {"type": "string", "minLength": 1, "maxLength": 5000, "pattern": r"\S",
             "description": "Markdown; @姓名 mentions; not only white space"},
    "title": {"type": "string", "maxLength": TITLE_MAX, "description": "For a new thread; derived from the body when absent"},
    "reply_to": {**spec.ID, "description": "Reply in this post's thread (404 when it names no post the caller sees)"},
    "quote": {"type": "boolean", "description": "Quote the post replied to (needs reply_to)"},
}, optional=("title", "reply_to", "quote")),
    # quote: true only together with reply_to
    "anyOf": [{"properties": {"quote": {"enum": [False]}}}, {"required": ["reply_to"]}]})
DISCUSSION_ID = {"name": "discussion_id", "in": "path", "required": True, "schema": spec.ID}


def _discussion_json(discussion: Discussion) -> dict:
    return {"id": discussion.id, "kind": discussion.kind, "title": queries.discussion_title(discussion),
            "course_slug": discussion.course.slug if discussion.course else None}


def _post_json(post: Post, caller, liked: set[int]) -> dict:
    quoted = post.quote
    return {"id": post.id, "discussion_id": post.discussion_id, "thread_id": post.thread_id,
            "reply_to": post.reply_to_id, "quote": post.quote_id,
            "quote_excerpt": quoted.excerpt if quoted is not None and queries.can_see_post(caller, quoted) else None,
            "title": post.title, "author": {"id": post.author.id, "name": post.author.name,
                                            "branch": post.author.home_org.name},
            "body": post.body_md, "body_html": post.body_html, "status": post.status,
            "like_count": post.like_count, "reply_count": post.reply_count, "liked": post.id in liked,
            "created_at": utc_iso(post.created_at)}


def _readable(discussion_id: int) -> Discussion | None:
    found = db.session.get(Discussion, discussion_id) if discussion_id <= spec.MAX_ID else None
    return found if found is not None and queries.can_read(api_member(), found) else None


spec.operation(
    "/discussions", "get", operationId="discussions", tags=["forum"], security=spec.MEMBER,
    summary="The open boards and the discussions of the courses the caller has started",
    responses={"200": spec.json_body(spec.obj({"items": {"type": "array", "items": DISCUSSION}}),
                                     "Boards first, then courses by title"),
               **spec.errors(401)})


@bp.get("/discussions")
@member_required
def discussions():
    member = api_member()
    # boards are seeded by the migrations and a course's discussion opens with the course: a
    # read creates nothing
    found = queries.boards()
    found += db.session.scalars(select(Discussion).join(Course, Course.id == Discussion.course_id)
                                .where(Course.id.in_(queries.studied_course_ids(member)))
                                .order_by(Course.title, Course.id))
    return jsonify({"items": [_discussion_json(d) for d in found]})


spec.operation(
    "/discussions/{discussion_id}/posts", "get", operationId="discussion_posts", tags=["forum"],
    security=spec.MEMBER, summary="Posts of a discussion the caller can read, oldest first, a page at a time",
    parameters=[DISCUSSION_ID,
                spec.query("thread", spec.ID, "Only this thread (its starter and replies)"),
                spec.query("page", {"type": "integer", "minimum": 1, "maximum": 10000}, "1-based page"),
                spec.query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "Posts per page (20)")],
    responses={"200": spec.json_body(spec.obj({
        "discussion": DISCUSSION, "items": {"type": "array", "items": FORUM_POST},
        "page": {"type": "integer"}, "per_page": {"type": "integer"},
        "more": {"type": "boolean", "description": "A next page exists"}}), "One page of posts"),
        **spec.errors(400, 401, 404)})


@bp.get("/discussions/<int:discussion_id>/posts")
@member_required
def discussion_posts(discussion_id: int):
    member = api_member()
    found = _readable(discussion_id)
    if found is None:
        return error(404, _("没有这个讨论区。"))
    thread = int_arg("thread", 0, 1, spec.MAX_ID) if "thread" in request.args else None
    page = int_arg("page", 1, 1, 10000)
    per_page = int_arg("per_page", 20, 1, 100)
    rows = list(db.session.scalars(queries.discussion_posts(member, found, thread)
                                   .offset((page - 1) * per_page).limit(per_page + 1)))
    shown = rows[:per_page]
    liked = queries.liked_ids(member, [p.id for p in shown])
    return jsonify({"discussion": _discussion_json(found), "items": [_post_json(p, member, liked) for p in shown],
                    "page": page, "per_page": per_page, "more": len(rows) > per_page})


spec.operation(
    "/discussions/{discussion_id}/posts", "post", operationId="create_discussion_post", tags=["forum"],
    security=spec.MEMBER,
    summary="Start a thread, or reply (optionally quoting) with reply_to",
    description="Posts containing a word on the academy's review list are stored as pending until a "
                "secretary approves them. Each member may post a limited number of times per 10 minutes "
                "and per day (429). Cookie callers send the CSRF token in X-CSRFToken.",
    parameters=[DISCUSSION_ID],
    requestBody={"required": True, **spec.json_body(NEW_POST, "The post")},
    responses={"201": spec.json_body(FORUM_POST, "Stored: published, or pending review"),
               **spec.errors(400, 401, 404),
               "429": spec.json_body(spec.ERROR, "Posting limit reached (per 10 minutes or per day); try later")})


def _new_post_fields(body: dict) -> tuple[str, str | None, int | None, bool]:
    unknown = sorted(set(body) - {"body", "title", "reply_to", "quote"})
    if unknown:
        raise InvalidInput(_("未知的字段：%(f)s。", f=", ".join(unknown)), unknown[0])
    text, title, reply_to, quote = body.get("body"), body.get("title"), body.get("reply_to"), body.get("quote", False)
    if not isinstance(text, str):
        raise InvalidInput(_("body 应为字符串。"), "body")
    if title is not None and not isinstance(title, str):
        raise InvalidInput(_("title 应为字符串。"), "title")
    if reply_to is not None and (type(reply_to) is not int or not 1 <= reply_to <= spec.MAX_ID):
        raise InvalidInput(_("reply_to 应为帖子编号（正整数）。"), "reply_to")
    if not isinstance(quote, bool):
        raise InvalidInput(_("quote 应为 true 或 false。"), "quote")
    return text, title, reply_to, quote


@bp.post("/discussions/<int:discussion_id>/posts")
@member_required
def create_discussion_post(discussion_id: int):
    member = api_member()
    found = _readable(discussion_id)
    if found is None:
        return error(404, _("没有这个讨论区。"))
    text, title, reply_to_id, quote = _new_post_fields(json_object())
    reply_to = db.session.get(Post, reply_to_id) if reply_to_id is not None else None
    if reply_to_id is not None and reply_to is None:
        return error(404, _("要回复的帖子不存在或已被隐藏。"), field="reply_to")
    try:
        post = operations.create_post(member, found, body=text, title=title, reply_to=reply_to, quote=quote,
                                      limits=PostingLimits.from_config(current_app.config))
    except PostingRefused as refused:
        return error(refused.status, refused.message, **({"field": refused.field} if refused.field else {}))
    return jsonify(_post_json(post, member, set())), 201
