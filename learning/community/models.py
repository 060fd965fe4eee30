"""Discussions (one per course, plus a few open boards), their posts and everything around a
post: likes, mentions, reports, the moderation log, notifications and the held-word list."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.catalog.models import Course
from learning.extensions import db
from learning.orgs.models import Member
from learning.timeutil import utcnow


class DiscussionKind:
    BOARD = "board"
    COURSE = "course"


class PostStatus:
    PUBLISHED = "published"
    PENDING = "pending"  # held by the word list until a moderator decides
    HIDDEN = "hidden"
    REJECTED = "rejected"


class Discussion(db.Model):
    __tablename__ = "discussion"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    # boards: a stable key ("study", …); course discussions: the course
    board_key: Mapped[str | None] = mapped_column(String(20), unique=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    course: Mapped[Course | None] = relationship()


class Post(db.Model):
    """A thread starter (thread_id None, with a title) or a reply in a thread."""

    __tablename__ = "discussion_post"
    __table_args__ = (
        Index("ix_discussion_post_threads", "discussion_id", "thread_id", "last_activity_at"),
        Index("ix_discussion_post_thread_created", "thread_id", "created_at"),
        Index("ix_discussion_post_author_created", "author_id", "created_at"),
        Index("ix_discussion_post_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    discussion_id: Mapped[int] = mapped_column(ForeignKey("discussion.id"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("discussion_post.id"))
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("discussion_post.id"))
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("discussion_post.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    title: Mapped[str | None] = mapped_column(String(80))
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    excerpt: Mapped[str] = mapped_column(String(140))  # plain text, for quotes and notifications
    status: Mapped[str] = mapped_column(String(10), default=PostStatus.PUBLISHED)
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)  # published replies (thread starters)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    discussion: Mapped[Discussion] = relationship()
    author: Mapped[Member] = relationship(foreign_keys=[author_id])
    quote: Mapped[Post | None] = relationship(foreign_keys=[quote_id], remote_side=[id])

    @property
    def root_id(self) -> int:
        return self.thread_id or self.id


class PostLike(db.Model):
    __tablename__ = "discussion_like"

    post_id: Mapped[int] = mapped_column(ForeignKey("discussion_post.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Mention(db.Model):
    __tablename__ = "discussion_mention"

    post_id: Mapped[int] = mapped_column(ForeignKey("discussion_post.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)


class PostReport(db.Model):
    __tablename__ = "discussion_report"
    __table_args__ = (UniqueConstraint("post_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("discussion_post.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))

    reporter: Mapped[Member] = relationship(foreign_keys=[reporter_id])


class ModerationEntry(db.Model):
    """The post's history: held by the word list, hidden, restored, approved, rejected, dismissed reports."""

    __tablename__ = "discussion_moderation"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("discussion_post.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))  # None: the word list
    action: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    actor: Mapped[Member | None] = relationship()


class Notification(db.Model):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_member_read", "member_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    kind: Mapped[str] = mapped_column(String(12))  # mention | reply
    post_id: Mapped[int] = mapped_column(ForeignKey("discussion_post.id"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    post: Mapped[Post] = relationship()
    actor: Mapped[Member] = relationship(foreign_keys=[actor_id])


class HeldWord(db.Model):
    """A word that holds a post for review instead of publishing it."""

    __tablename__ = "discussion_held_word"

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
