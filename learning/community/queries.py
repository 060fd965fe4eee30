"""Reads for the forum, with authorization written twice like the rest of the app: predicates
for one discussion or post, and query conditions for lists, so the two cannot disagree."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true

from learning.catalog.models import Course, CourseStatus, Lesson
from learning.catalog.queries import can_view_course
from learning.community.models import (Discussion, DiscussionKind, HeldWord, ModerationEntry, Notification,
                                       Post, PostLike, PostReport, PostStatus)
from learning.extensions import db
from learning.orgs.models import Member
from learning.orgs.queries import can_view_member, is_admin, managed_paths, members_visible_to
from learning.study.models import LessonProgress

# The academy's open boards, in the order shown: key → title (the key is stored, the title translated).
BOARDS = {
    "study": _l("学习交流"),
    "experience": _l("经验分享"),
    "service": _l("我为群众办实事"),
}
BOARD_NOTES = {
    "study": _l("学习中的问题和体会，大家一起讨论。"),
    "experience": _l("工作和生活中的好做法，分享给身边的党员。"),
    "service": _l("记录为群众办的实事，互相学习。"),
}


def discussion_title(discussion: Discussion) -> str:
    if discussion.kind == DiscussionKind.BOARD:
        return str(BOARDS.get(discussion.board_key or "", discussion.board_key))
    return discussion.course.title if discussion.course else ""


def boards() -> list[Discussion]:
    found = {d.board_key: d for d in db.session.scalars(
        select(Discussion).where(Discussion.kind == DiscussionKind.BOARD))}
    return [found[key] for key in BOARDS if key in found]


def course_discussion(course: Course) -> Discussion | None:
    return db.session.scalar(select(Discussion).where(Discussion.course_id == course.id))


def studied_course_ids(member: Member) -> Select[tuple[int]]:
    """Published courses the member has opened: their discussions are "the member's"."""
    return (select(Lesson.course_id).join(LessonProgress, LessonProgress.lesson_id == Lesson.id)
            .join(Course, Course.id == Lesson.course_id)
            .where(LessonProgress.member_id == member.id, Course.status == CourseStatus.PUBLISHED)
            .distinct())


def can_read(actor: Member | None, discussion: Discussion) -> bool:
    if actor is None or not actor.active:
        return False
    if discussion.kind == DiscussionKind.BOARD:
        return True
    return discussion.course is not None and can_view_course(actor, discussion.course)


# --- moderation rights: the author's secretaries (subtree) and administrators ---------------

def is_moderator(actor: Member | None) -> bool:
    return is_admin(actor) or bool(managed_paths(actor))


def can_moderate(actor: Member | None, author: Member) -> bool:
    return is_admin(actor) or (bool(managed_paths(actor)) and can_view_member(actor, author))


def moderated_authors(actor: Member | None) -> ColumnElement[bool]:
    """Condition on Post.author_id: posts whose author the actor moderates."""
    if is_admin(actor):
        return true()
    if not managed_paths(actor):
        return false()
    return Post.author_id.in_(members_visible_to(actor).with_only_columns(Member.id))


def visible_condition(actor: Member) -> ColumnElement[bool]:
    """Published posts; the author's own pending posts; anything by authors the actor moderates."""
    return or_(Post.status == PostStatus.PUBLISHED,
               and_(Post.author_id == actor.id, Post.status == PostStatus.PENDING),
               moderated_authors(actor))


def can_see_post(actor: Member, post: Post) -> bool:
    if post.status == PostStatus.PUBLISHED:
        return True
    if post.status == PostStatus.PENDING and post.author_id == actor.id:
        return True
    return can_moderate(actor, post.author)


def threads(actor: Member, discussion: Discussion) -> Select[tuple[Post]]:
    return (select(Post).where(Post.discussion_id == discussion.id, Post.thread_id.is_(None),
                               visible_condition(actor))
            .order_by(Post.last_activity_at.desc(), Post.id.desc()))


def replies(actor: Member, root: Post) -> Select[tuple[Post]]:
    return (select(Post).where(Post.thread_id == root.id, visible_condition(actor))
            .order_by(Post.created_at, Post.id))


def discussion_posts(actor: Member, discussion: Discussion, thread_id: int | None = None) -> Select[tuple[Post]]:
    """Every post the actor may see in the discussion (or one thread), oldest first; replies
    go with a thread starter the actor may not see."""
    visible_roots = select(Post.id).where(Post.discussion_id == discussion.id, Post.thread_id.is_(None),
                                          visible_condition(actor))
    query = select(Post).where(Post.discussion_id == discussion.id, visible_condition(actor),
                               or_(Post.thread_id.is_(None), Post.thread_id.in_(visible_roots)))
    if thread_id is not None:
        query = query.where(or_(Post.id == thread_id, Post.thread_id == thread_id))
    return query.order_by(Post.created_at, Post.id)


def liked_ids(member: Member, post_ids: list[int]) -> set[int]:
    if not post_ids:
        return set()
    return set(db.session.scalars(select(PostLike.post_id).where(
        PostLike.member_id == member.id, PostLike.post_id.in_(post_ids))))


def open_report_counts(post_ids: list[int]) -> dict[int, int]:
    if not post_ids:
        return {}
    return dict(db.session.execute(
        select(PostReport.post_id, func.count()).where(PostReport.post_id.in_(post_ids),
                                                       PostReport.resolved_at.is_(None))
        .group_by(PostReport.post_id)).all())


def has_reported(member: Member, post: Post) -> bool:
    return db.session.scalar(select(PostReport.id).where(
        PostReport.post_id == post.id, PostReport.reporter_id == member.id)) is not None


def review_queue(actor: Member) -> Select[tuple[Post]]:
    """Held posts and posts with open reports, by authors the actor moderates."""
    reported = select(PostReport.post_id).where(PostReport.resolved_at.is_(None))
    return (select(Post).where(moderated_authors(actor),
                               or_(Post.status == PostStatus.PENDING,
                                   and_(Post.status == PostStatus.PUBLISHED, Post.id.in_(reported))))
            .order_by(Post.created_at, Post.id))


def review_count(actor: Member) -> int:
    if not is_moderator(actor):
        return 0
    return db.session.scalar(select(func.count()).select_from(review_queue(actor).subquery())) or 0


def history(post: Post) -> list[ModerationEntry]:
    return list(db.session.scalars(select(ModerationEntry).where(ModerationEntry.post_id == post.id)
                                   .order_by(ModerationEntry.at, ModerationEntry.id)))


def reports_of(post: Post) -> list[PostReport]:
    return list(db.session.scalars(select(PostReport).where(PostReport.post_id == post.id)
                                   .order_by(PostReport.created_at, PostReport.id)))


def posts_since(member: Member, since: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(Post).where(
        Post.author_id == member.id, Post.created_at >= since)) or 0


def held_words() -> list[str]:
    return list(db.session.scalars(select(HeldWord.word).order_by(HeldWord.word)))


def notifications(member: Member) -> Select[tuple[Notification]]:
    return (select(Notification).where(Notification.member_id == member.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc()))


def unread_count(member: Member) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.member_id == member.id, Notification.read_at.is_(None))) or 0


def mention_candidates(author: Member, discussion: Discussion, reply_to: Post | None) -> list[Member]:
    """Whom "@姓名" may name: active members of the author's home branch and everyone who has
    published in this discussion. A small, local set keeps same-name clashes rare and never
    lets a post probe the whole academy's roster."""
    participants = select(Post.author_id).where(Post.discussion_id == discussion.id,
                                                Post.status == PostStatus.PUBLISHED)
    query = select(Member).where(Member.active.is_(True), Member.id != author.id,
                                 or_(Member.home_org_id == author.home_org_id, Member.id.in_(participants),
                                     *([Member.id == reply_to.author_id] if reply_to else [])))
    return list(db.session.scalars(query.order_by(Member.name, Member.id).limit(2000)))
