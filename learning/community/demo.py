"""A few forum posts for the demo city: a thread on a board and one on a course the demo
member studied, with a reply, a quote, a mention and a like."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from learning.catalog.models import Course
from learning.community import operations, queries
from learning.extensions import db
from learning.orgs.models import Member

_DEMO_LIMITS = operations.PostingLimits(per_10_min=1000, per_day=1000, max_chars=5000)


def seed_forum(member: Member, secretary: Member, now: datetime) -> None:
    board = operations.ensure_boards()[0]
    thread = operations.create_post(
        member, board, title="雨天送餐，大家怎么安排学习时间？", now=now - timedelta(days=2), limits=_DEMO_LIMITS,
        body="最近雨多，单子也多。我一般在**午高峰后**等单时学一课，晚上回家再做测验。\n\n大家有什么好办法？")
    reply = operations.create_post(
        secretary, board, reply_to=thread, now=now - timedelta(days=1, hours=20), limits=_DEMO_LIMITS,
        body=f"@{member.name} 这个办法好。支部每周四晚上还有线上集中学习，欢迎参加。")
    operations.toggle_like(member, reply)
    studied = db.session.scalar(select(Course).where(Course.id.in_(queries.studied_course_ids(member)))
                                .order_by(Course.title).limit(1))
    if studied is not None:
        discussion = operations.ensure_course_discussion(studied)
        first = operations.create_post(
            secretary, discussion, title="学完这门课，说说你的体会", now=now - timedelta(days=1), limits=_DEMO_LIMITS,
            body="大家学完以后在这里交流：哪一课对工作最有帮助？")
        operations.create_post(member, discussion, reply_to=first, quote=True, now=now - timedelta(hours=6),
                               limits=_DEMO_LIMITS, body="第一课讲的安全要点很实用，我已经分享给站里的兄弟们了。")
