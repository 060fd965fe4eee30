"""The forum (党员网上论坛): sanitized posts, the held-word list, posting limits, mentions,
likes, reports and moderation by the author's secretaries, and the API."""
from __future__ import annotations

import re
import threading

import pytest

from sqlalchemy import func, select

from helpers import AuthActions, api_token, bearer, csrf_from, finish_lesson
from content import render_markdown
from learning.audit.models import AuditEvent
from learning.community import operations
from learning.community.models import Mention, ModerationEntry, Notification, Post, PostLike, PostStatus
from learning.timeutil import utcnow

HOSTILE = """<script>alert(1)</script>

<img src="x" onerror="alert(2)">

<a href="#" onclick="alert(3)">点我</a>

[链接](javascript:alert(4)) and <a href="javascript:alert(5)">raw</a> and [编码](jav&#x61;script:alert(6))

![远程图片](https://evil.example/p.png) <img src="https://evil.example/q.png"> <img src="//evil.example/r.png">

**加粗** [学院](https://example.org/x)"""


def _client(app, phone):
    client = app.test_client()
    assert AuthActions(client).login(phone).status_code == 302
    return client


def _board(client) -> int:
    assert client.get("/forum").status_code == 200
    return client.get("/api/v1/discussions").json["items"][0]["id"]


def _post(client, url, **data):
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def _latest(db) -> Post:
    db.session.rollback()
    return db.session.scalars(select(Post).order_by(Post.id.desc())).first()


def test_posts_are_sanitized_like_lessons(app, db, city):
    client = _client(app, "13800000002")
    board = _board(client)
    response = _post(client, f"/forum/{board}", title="测试", body=HOSTILE)
    assert response.status_code == 302
    post = _latest(db)
    html = post.body_html
    assert html == render_markdown(HOSTILE)
    lowered = html.lower()
    for forbidden in ("<script", "onerror", "onclick", "evil.example", "<img"):
        assert forbidden not in lowered, forbidden
    # javascript: survives only as visible text, never in an attribute
    assert re.findall(r'(?:href|src)="([^"]*)"', html) == ["#", "https://example.org/x"]
    assert "<strong>加粗</strong>" in html and 'href="https://example.org/x"' in html
    page = client.get(f"/forum/threads/{post.id}").get_data(as_text=True)
    assert "<strong>加粗</strong>" in page and "<script>alert" not in page and "onerror" not in page
    # the same through the API
    api = client.post(f"/api/v1/discussions/{board}/posts", json={"body": HOSTILE},
                      headers={"X-CSRFToken": csrf_from(page)})
    assert api.status_code == 201, api.json
    assert api.json["body_html"] == html and api.json["title"]


def test_held_word_waits_for_review(app, db, city):
    admin = _client(app, "13800000000")
    assert _post(admin, "/admin/forum/words", words="代购\n 刷单 \n").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "forum.words")) == 1
    member = _client(app, "13800000002")
    board = _board(member)
    assert _post(member, f"/forum/{board}", title="兼职", body="招人 刷 单，@邻支部书记 来看").status_code == 302
    post = _latest(db)
    assert post.status == PostStatus.PENDING
    assert db.session.scalars(select(ModerationEntry.action).where(ModerationEntry.post_id == post.id)).all() == ["held"]
    # the author sees it marked as waiting; another member does not see it at all
    assert "待审核" in member.get(f"/forum/threads/{post.id}").get_data(as_text=True)
    other = _client(app, "13800000005")
    assert other.get(f"/forum/threads/{post.id}").status_code == 404
    assert "兼职" not in other.get(f"/forum/{board}").get_data(as_text=True)
    # the author's secretary sees it in the queue, the sibling branch's secretary does not
    secretary, sibling = _client(app, "13800000001"), _client(app, "13800000004")
    assert "兼职" in secretary.get("/forum/review").get_data(as_text=True)
    assert "兼职" not in sibling.get("/forum/review").get_data(as_text=True)
    assert _post(sibling, f"/forum/posts/{post.id}/moderation", action="approve", reason="好").status_code == 404
    response = _post(secretary, f"/forum/posts/{post.id}/moderation", action="approve", reason="不是广告")
    assert response.status_code == 302
    db.session.rollback()
    db.session.refresh(post)
    assert post.status == PostStatus.PUBLISHED
    assert other.get(f"/forum/threads/{post.id}").status_code == 200


def test_posting_limits(app, db, city):
    app.config.update(FORUM_POSTS_PER_10_MIN=2, FORUM_POSTS_PER_DAY=3)
    member = _client(app, "13800000002")
    board = _board(member)
    for n in range(2):
        assert _post(member, f"/forum/{board}", title=f"第{n}帖", body="内容").status_code == 302
    refused = _post(member, f"/forum/{board}", title="第三帖", body="内容")
    assert refused.status_code == 429
    assert "每 10 分钟最多 2 条" in refused.get_data(as_text=True)
    token = api_token(app.test_client(), "13800000002")
    api = app.test_client().post(f"/api/v1/discussions/{board}/posts", json={"body": "再来"}, headers=bearer(token))
    assert api.status_code == 429 and "10 分钟" in api.json["error"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Post)) == 2
    # the daily limit counts the last 24 hours, whatever the 10-minute window says
    limits = operations.PostingLimits(per_10_min=100, per_day=3, max_chars=5000)
    discussion = _latest(db).discussion
    with app.test_request_context():
        operations.create_post(city["member"], discussion, body="三", limits=limits)
        with pytest.raises(operations.PostingRefused) as refused_day:
            operations.create_post(city["member"], discussion, body="四", limits=limits)
        assert refused_day.value.status == 429 and "24 小时" in refused_day.value.message


@pytest.mark.parametrize("attempt", range(3))
def test_posting_limits_hold_when_posts_race(app, db, city, attempt):
    """Six posts sent at the same moment with room for two: two are stored, four refused."""
    app.config.update(FORUM_POSTS_PER_10_MIN=2, FORUM_POSTS_PER_DAY=40)
    board = _board(_client(app, "13800000002"))
    token = api_token(app.test_client(), "13800000002")
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def post(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/api/v1/discussions/{board}/posts", json={"body": f"第{n}条"}, headers=bearer(token))
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 201, 429, 429, 429, 429]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Post)) == 2


def test_mentions_notify_members_in_reach(app, db, city):
    secretary = _client(app, "13800000001")
    board = _board(secretary)
    # 骑手小王 is in the author's branch; 骑手小李 (another branch, never posted here) is out of reach
    body = "请@骑手小王和@骑手小李 看看这个。"
    assert _post(secretary, f"/forum/{board}", title="通知", body=body).status_code == 302
    post = _latest(db)
    assert db.session.scalars(select(Mention.member_id).where(Mention.post_id == post.id)).all() == [city["member"].id]
    member = _client(app, "13800000002")
    home = member.get("/forum").get_data(as_text=True)
    assert 'class="badge"' in home
    page = member.get("/forum/notifications").get_data(as_text=True)
    assert "支部书记 在帖子中提到了你" in page
    note = db.session.scalar(select(Notification).where(Notification.member_id == city["member"].id))
    # opening a reminder marks it read: a button (POST) on the list, never a plain link
    assert f'<form class="row-form" method="post" action="/forum/notifications/{note.id}">' in page
    assert member.get(f"/forum/notifications/{note.id}").status_code == 405
    db.session.rollback()
    assert db.session.get(Notification, note.id).read_at is None
    token = csrf_from(page)
    opened = member.post(f"/forum/notifications/{note.id}", data={"csrf_token": token})
    assert opened.headers["Location"].endswith(f"/forum/threads/{post.id}")
    db.session.rollback()
    assert db.session.get(Notification, note.id).read_at is not None
    stranger = _client(app, "13800000005")
    token = csrf_from(stranger.get("/forum/notifications").get_data(as_text=True))
    assert stranger.post(f"/forum/notifications/{note.id}", data={"csrf_token": token}).status_code == 404
    # a reply notifies the author of the post replied to
    assert _post(member, f"/forum/threads/{post.id}", body="收到", reply_to=str(post.id)).status_code == 302
    db.session.rollback()
    kinds = db.session.scalars(select(Notification.kind).where(Notification.member_id == city["secretary"].id)).all()
    assert kinds == ["reply"]


def test_one_like_per_member(app, db, city):
    limits = operations.PostingLimits(per_10_min=100, per_day=100, max_chars=5000)
    board = operations.ensure_boards()[0]
    post = operations.create_post(city["member"], board, title="点赞", body="好", limits=limits)
    db.session.commit()
    a, b = _client(app, "13800000001"), _client(app, "13800000005")
    url = f"/forum/posts/{post.id}/like"
    assert _post(b, url).status_code == 302 and _post(a, url).status_code == 302
    db.session.rollback()
    db.session.refresh(post)
    assert post.like_count == 2
    assert _post(a, url).status_code == 302  # a second press takes the like back
    db.session.rollback()
    db.session.refresh(post)
    assert post.like_count == 1
    # a duplicate row can never be stored, even when two presses race past the first check
    assert operations._insert_once(PostLike(post_id=post.id, member_id=city["other"].id)) is False
    assert db.session.scalar(select(func.count()).select_from(PostLike).where(PostLike.post_id == post.id)) == 1


def test_report_hide_restore_with_history(app, db, city):
    limits = operations.PostingLimits(per_10_min=100, per_day=100, max_chars=5000)
    board = operations.ensure_boards()[0]
    post = operations.create_post(city["member"], board, title="出售", body="低价出售电动车", limits=limits)
    reply = operations.create_post(city["other"], board, body="我要", reply_to=post, quote=True, limits=limits)
    db.session.commit()
    other = _client(app, "13800000005")
    assert _post(other, f"/forum/posts/{post.id}/report", reason="广告").status_code == 302
    assert "已经举报过" in other.get(  # a second report of the same post is not stored twice
        _post(other, f"/forum/posts/{post.id}/report", reason="广告").headers["Location"]).get_data(as_text=True)
    secretary, sibling = _client(app, "13800000001"), _client(app, "13800000004")
    assert "被举报 1 次" in secretary.get("/forum/review").get_data(as_text=True)
    assert "出售" not in sibling.get("/forum/review").get_data(as_text=True)
    assert _post(sibling, f"/forum/posts/{post.id}/moderation", action="hide", reason="广告").status_code == 403
    assert _post(secretary, f"/forum/posts/{post.id}/moderation", action="hide", reason="").status_code == 400
    assert _post(secretary, f"/forum/posts/{post.id}/moderation", action="hide", reason="商业广告").status_code == 302
    db.session.rollback()
    db.session.refresh(post)
    assert post.status == PostStatus.HIDDEN
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "forum.hide"))
    assert event.actor_id == city["secretary"].id and event.detail["reason"] == "商业广告"
    # gone for members (its author too), still there for moderators with its history
    assert other.get(f"/forum/threads/{post.id}").status_code == 404
    assert _client(app, "13800000002").get(f"/forum/threads/{post.id}").status_code == 404
    assert "出售" not in other.get(f"/forum/{board.id}").get_data(as_text=True)
    history = secretary.get(f"/forum/posts/{post.id}/moderation").get_data(as_text=True)
    assert "商业广告" in history and "广告" in history
    assert "已隐藏" in _client(app, "13800000000").get(f"/forum/threads/{post.id}").get_data(as_text=True)
    # the whole thread goes with its starter, on the page and in the API
    assert other.get(f"/forum/threads/{reply.id}", follow_redirects=True).status_code == 404
    api = app.test_client().get(f"/api/v1/discussions/{board.id}/posts",
                                headers=bearer(api_token(app.test_client(), "13800000005")))
    assert api.json["items"] == []
    moderator_view = app.test_client().get(f"/api/v1/discussions/{board.id}/posts",
                                           headers=bearer(api_token(app.test_client(), "13800000001"))).json
    assert [(p["id"], p["status"]) for p in moderator_view["items"]] == [(post.id, "hidden"), (reply.id, "published")]
    assert _post(secretary, f"/forum/posts/{post.id}/moderation", action="restore", reason="误判").status_code == 302
    assert other.get(f"/forum/threads/{post.id}").status_code == 200
    db.session.rollback()
    actions = db.session.scalars(select(ModerationEntry.action).where(ModerationEntry.post_id == post.id)
                                 .order_by(ModerationEntry.id)).all()
    assert actions == ["hide", "restore"]


def test_api_discussions_and_posts(app, db, city, make_course):
    course = make_course(title="安全骑行")
    finish_lesson(city["member"], course.lessons[0], utcnow())
    db.session.commit()
    client = app.test_client()
    headers = bearer(api_token(client, "13800000002"))
    items = client.get("/api/v1/discussions", headers=headers).json["items"]
    assert [i["kind"] for i in items] == ["board", "board", "board", "course"]
    assert items[0]["title"] == "学习交流" and items[3]["course_slug"] == course.slug
    course_id = items[3]["id"]
    created = client.post(f"/api/v1/discussions/{course_id}/posts", json={"body": "第一课很实用", "title": "体会"},
                          headers=headers)
    assert created.status_code == 201 and created.json["status"] == "published"
    root = created.json["id"]
    reply = client.post(f"/api/v1/discussions/{course_id}/posts", json={"body": "同意", "reply_to": root, "quote": True},
                        headers=headers)
    assert reply.status_code == 201 and reply.json["thread_id"] == root and reply.json["quote_excerpt"] == "第一课很实用"
    for bad in ({"body": "x", "reply_to": True}, {"body": 3}, {"body": "x", "extra": 1}, {"body": "   "},
                {"body": "x", "quote": True}, {"body": "x", "title": "长" * 81}):
        response = client.post(f"/api/v1/discussions/{course_id}/posts", json=bad, headers=headers)
        assert response.status_code == 400, (bad, response.json)
    # a reply to a post that is not there (or not visible) names a missing resource
    missing = client.post(f"/api/v1/discussions/{course_id}/posts", json={"body": "x", "reply_to": 999999},
                          headers=headers)
    assert missing.status_code == 404 and missing.json["field"] == "reply_to"
    page = client.get(f"/api/v1/discussions/{course_id}/posts?per_page=1", headers=headers).json
    assert [p["id"] for p in page["items"]] == [root] and page["more"] is True
    thread = client.get(f"/api/v1/discussions/{course_id}/posts?thread={root}&page=2&per_page=1", headers=headers).json
    assert [p["id"] for p in thread["items"]] == [reply.json["id"]] and thread["more"] is False
    assert client.get(f"/api/v1/discussions/{course_id}/posts?page=0", headers=headers).status_code == 400
    assert client.get("/api/v1/discussions/99999/posts", headers=headers).status_code == 404
    # the course page links to its discussion
    web = _client(app, "13800000002")
    assert f"/courses/{course.slug}/discussion" in web.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert web.get(f"/courses/{course.slug}/discussion").headers["Location"].endswith(f"/forum/{course_id}")
