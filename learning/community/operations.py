"""Writes for the forum. Operations flush, never commit; they take the actor and the objects
explicitly and raise PostingRefused with a message the caller shows as it is."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from learning.audit.operations import record
from learning.catalog.models import Course
from learning.community import queries
from learning.community.markup import find_mentions, held_by, render_post
from learning.community.models import (Discussion, DiscussionKind, HeldWord, Mention, ModerationEntry,
                                       Notification, Post, PostLike, PostReport, PostStatus)
from learning.extensions import db
from learning.orgs.models import Member
from learning.timeutil import utcnow

TITLE_MAX = 80
REASON_MAX = 200
WORD_MAX = 40


class PostingRefused(Exception):
    """Bad input (400), a post the caller may not touch (403/404) or too many posts (429)."""

    def __init__(self, message: str, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.status, self.field = message, status, field


@dataclass(frozen=True)
class PostingLimits:
    per_10_min: int
    per_day: int
    max_chars: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PostingLimits:
        return cls(int(config["FORUM_POSTS_PER_10_MIN"]), int(config["FORUM_POSTS_PER_DAY"]),
                   int(config["FORUM_POST_MAX_CHARS"]))


def _insert_once(row: Any) -> bool:
    """Add a row guarded by a unique key; False when it already exists (another request won)."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return False
    return True


def ensure_boards() -> list[Discussion]:
    """The open boards, created where missing. The migrations seed them (5c1d0a3e9b27), so
    only databases made without migrations (the tests' create_all) need this; reads never call it."""
    existing = {d.board_key for d in queries.boards()}
    for key in queries.BOARDS:
        if key not in existing:
            _insert_once(Discussion(kind=DiscussionKind.BOARD, board_key=key))
    return queries.boards()


def ensure_course_discussion(course: Course) -> Discussion:
    found = queries.course_discussion(course)
    if found is None:
        _insert_once(Discussion(kind=DiscussionKind.COURSE, course_id=course.id))
        found = queries.course_discussion(course)
    assert found is not None  # noqa: S101 -- inserted or found just above; for the type checker
    return found


def check_limits(member: Member, limits: PostingLimits, now: datetime) -> None:
    # The member's row is locked until the post is stored: two posts sent at once would both
    # count the same earlier posts and both pass (PostgreSQL; SQLite's writes are serialized).
    db.session.execute(select(Member.id).where(Member.id == member.id).with_for_update())
    if queries.posts_since(member, now - timedelta(minutes=10)) >= limits.per_10_min:
        raise PostingRefused(_("发帖太频繁：每 10 分钟最多 %(n)d 条，请稍后再发。", n=limits.per_10_min), 429)
    if queries.posts_since(member, now - timedelta(days=1)) >= limits.per_day:
        raise PostingRefused(_("今天发帖已达上限（24 小时内最多 %(n)d 条），明天再来吧。", n=limits.per_day), 429)


def _clean_title(title: str | None, excerpt: str) -> str:
    title = (title or "").strip()
    if len(title) > TITLE_MAX:
        raise PostingRefused(_("标题最多 %(n)d 个字。", n=TITLE_MAX), field="title")
    return title or excerpt[:30] or _("（无标题）")


def create_post(actor: Member, discussion: Discussion, *, body: str, limits: PostingLimits,
                title: str | None = None, reply_to: Post | None = None, quote: bool = False,
                now: datetime | None = None) -> Post:
    """A new thread (no reply_to) or a reply in reply_to's thread, quoting it when asked.
    Posts containing a held word wait for review instead of being published."""
    now = now or utcnow()
    body = (body or "").strip()
    if not body:
        raise PostingRefused(_("请填写内容。"), field="body")
    if len(body) > limits.max_chars:
        raise PostingRefused(_("内容最多 %(n)d 个字。", n=limits.max_chars), field="body")
    if reply_to is not None and (reply_to.discussion_id != discussion.id or not queries.can_see_post(actor, reply_to)
                                 or reply_to.status != PostStatus.PUBLISHED):
        raise PostingRefused(_("要回复的帖子不存在或已被隐藏。"), field="reply_to")
    if quote and reply_to is None:
        raise PostingRefused(_("引用时须指明要回复的帖子。"), field="quote")
    check_limits(actor, limits, now)
    body_html, excerpt = render_post(body)
    post = Post(discussion_id=discussion.id, author_id=actor.id, body_md=body, body_html=body_html,
                excerpt=excerpt, created_at=now, last_activity_at=now, like_count=0, reply_count=0,
                thread_id=reply_to.root_id if reply_to else None,
                reply_to_id=reply_to.id if reply_to else None,
                quote_id=reply_to.id if reply_to and quote else None,
                title=None if reply_to else _clean_title(title, excerpt))
    post.author = actor
    words = held_by([post.title or "", body], queries.held_words())
    post.status = PostStatus.PENDING if words else PostStatus.PUBLISHED
    db.session.add(post)
    db.session.flush()
    for member in find_mentions(body, queries.mention_candidates(actor, discussion, reply_to)):
        db.session.add(Mention(post_id=post.id, member_id=member.id))
    if words:
        db.session.add(ModerationEntry(post_id=post.id, actor_id=None, action="held", at=now,
                                       reason=_("含有审核词：%(w)s", w="、".join(words))[:REASON_MAX]))
    else:
        _published(post, now)
    db.session.flush()
    return post


def _published(post: Post, now: datetime) -> None:
    """What publishing a post sets off: the thread's counters, and notifications."""
    if post.thread_id is not None:
        db.session.execute(update(Post).where(Post.id == post.thread_id).values(
            reply_count=Post.reply_count + 1, last_activity_at=now))
    mentioned = set(db.session.scalars(select(Mention.member_id).where(Mention.post_id == post.id)))
    for member_id in sorted(mentioned):
        db.session.add(Notification(member_id=member_id, kind="mention", post_id=post.id,
                                    actor_id=post.author_id, created_at=now))
    if post.reply_to_id is not None:
        target = db.session.get(Post, post.reply_to_id)
        if target is not None and target.author_id != post.author_id and target.author_id not in mentioned:
            db.session.add(Notification(member_id=target.author_id, kind="reply", post_id=post.id,
                                        actor_id=post.author_id, created_at=now))


def _unpublished(post: Post) -> None:
    if post.thread_id is not None:
        db.session.execute(update(Post).where(Post.id == post.thread_id).values(reply_count=Post.reply_count - 1))
    db.session.execute(delete(Notification).where(Notification.post_id == post.id))


def toggle_like(member: Member, post: Post) -> bool:
    """Like (or take back the like of) a published post; True when it is liked afterwards.
    The primary key (post, member) keeps it to one like per member, even when two taps race."""
    if post.status != PostStatus.PUBLISHED:
        raise PostingRefused(_("这条帖子不能点赞。"), 409)
    removed = db.session.execute(delete(PostLike).where(PostLike.post_id == post.id,
                                                        PostLike.member_id == member.id)).rowcount
    if removed:
        db.session.execute(update(Post).where(Post.id == post.id).values(like_count=Post.like_count - removed))
        liked = False
    else:
        liked = _insert_once(PostLike(post_id=post.id, member_id=member.id))
        if liked:
            db.session.execute(update(Post).where(Post.id == post.id).values(like_count=Post.like_count + 1))
    db.session.refresh(post)
    return liked


def report_post(member: Member, post: Post, reason: str) -> bool:
    """False when the member had already reported it."""
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise PostingRefused(_("请写明举报理由（最多 %(n)d 个字）。", n=REASON_MAX), field="reason")
    if post.author_id == member.id:
        raise PostingRefused(_("不能举报自己的帖子。"))
    return _insert_once(PostReport(post_id=post.id, reporter_id=member.id, reason=reason))


# action → (statuses it applies to, status afterwards)
MODERATION = {
    "hide": ((PostStatus.PUBLISHED,), PostStatus.HIDDEN),
    "restore": ((PostStatus.HIDDEN,), PostStatus.PUBLISHED),
    "approve": ((PostStatus.PENDING,), PostStatus.PUBLISHED),
    "reject": ((PostStatus.PENDING,), PostStatus.REJECTED),
    "dismiss": ((PostStatus.PUBLISHED,), PostStatus.PUBLISHED),  # reports unfounded
}


def moderate(actor: Member, post: Post, action: str, reason: str, *, address: str | None = None,
             now: datetime | None = None) -> ModerationEntry:
    """Hide, restore, approve, reject a post or dismiss its reports; logged with the reason
    on the post and in the audit log. The caller has checked can_moderate."""
    now = now or utcnow()
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise PostingRefused(_("请写明理由（最多 %(n)d 个字）。", n=REASON_MAX), field="reason")
    if action not in MODERATION:
        raise PostingRefused(_("未知的操作。"), field="action")
    allowed, after = MODERATION[action]
    if post.status not in allowed:
        raise PostingRefused(_("帖子当前的状态不能执行这个操作。"), 409)
    before = post.status
    if before == PostStatus.PUBLISHED and after != PostStatus.PUBLISHED:
        _unpublished(post)
    post.status = after
    if before != PostStatus.PUBLISHED and after == PostStatus.PUBLISHED:
        _published(post, now)
    if action in ("hide", "dismiss"):
        db.session.execute(update(PostReport).where(PostReport.post_id == post.id, PostReport.resolved_at.is_(None))
                           .values(resolved_at=now, resolved_by_id=actor.id))
    entry = ModerationEntry(post_id=post.id, actor_id=actor.id, action=action, reason=reason, at=now)
    db.session.add(entry)
    record(f"forum.{action}", actor_id=actor.id, target=f"post:{post.id}", address=address,
           reason=reason, author_id=post.author_id, status_before=before, status_after=after)
    db.session.flush()
    return entry


def set_held_words(actor: Member, words: list[str], *, address: str | None = None) -> list[str]:
    cleaned = sorted({w.strip() for w in words if w.strip()})
    too_long = [w for w in cleaned if len(w) > WORD_MAX]
    if too_long:
        raise PostingRefused(_("每个词最多 %(n)d 个字：%(w)s", n=WORD_MAX, w="、".join(too_long[:3])), field="words")
    before = queries.held_words()
    db.session.execute(delete(HeldWord).where(HeldWord.word.not_in(cleaned)))
    for word in cleaned:
        if word not in before:
            db.session.add(HeldWord(word=word))
    record("forum.words", actor_id=actor.id, target="held_words", address=address,
           added=[w for w in cleaned if w not in before], removed=[w for w in before if w not in cleaned])
    db.session.flush()
    return cleaned


def mark_read(member: Member, notification_id: int | None = None, now: datetime | None = None) -> None:
    query = update(Notification).where(Notification.member_id == member.id, Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    db.session.execute(query.values(read_at=now or utcnow()))
