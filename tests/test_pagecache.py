"""Kept member pages (learning/pagecache): served again only while nothing they show changed —
whoever changed it, in whichever process."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import brotli
import pytest
from sqlalchemy import create_engine, event, select
from sqlalchemy.orm import Session

from helpers import AuthActions, post_events, study_event, study_for
from learning.assignments.operations import assign
from learning.community.models import Discussion, Post
from learning.orgs.models import Member
from learning.pagecache import STORE, PageStore
from learning.pagecache.models import PageEpoch
from learning.study.models import MemberYear
from learning.timeutil import local_today


@contextmanager
def statements(db):
    """Count the SQL statements run inside the block."""
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _versions(db, member: Member) -> tuple[int, int]:
    db.session.expire_all()
    return (db.session.scalar(select(Member.page_version).where(Member.id == member.id)),
            db.session.scalar(select(PageEpoch.version)))


@pytest.fixture
def member_client(app, city):
    client = app.test_client()
    assert AuthActions(client).login("13800000002").status_code == 302
    return client


def _home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_unchanged_home_page_is_served_without_rebuilding_it(app, db, city, make_course, member_client):
    make_course(title="道路交通安全")
    with statements(db) as first:
        page = _home(member_client)
    with statements(db) as again:
        assert _home(member_client) == page
    # BEGIN and the member with the epoch — not the plan, counters and lists again
    assert len(again) <= 3 < len(first)
    assert len(app.extensions[STORE]) >= 1
    english = member_client.get("/?lang=en").get_data(as_text=True)
    assert "Points this year" in english and english != page


def test_compressed_forms_are_kept_with_the_page(db, city, make_course, member_client):
    make_course()
    plain = _home(member_client)
    for _ in range(2):
        response = member_client.get("/", headers={"Accept-Encoding": "br"})
        assert response.headers["Content-Encoding"] == "br"
        assert brotli.decompress(response.data).decode() == plain
    assert "no-store" in response.headers["Cache-Control"]


def test_study_through_the_api_shows_at_once(db, city, make_course, member_client):
    course = make_course(title="骑手交通安全")
    first = course.lessons[0]
    before = _home(member_client)
    assert "下一课：第2课" not in before
    study_for(member_client, first.id)
    response = post_events(member_client, [study_event(first.id, "complete", position=1.0, progress=1.0)])
    assert response.get_json()["accepted"]
    after = _home(member_client)
    assert "下一课：第2课 · 1/3" in after  # now in 继续学习, one lesson of three done


def test_another_members_study_leaves_the_page_kept(app, db, city, make_course, member_client):
    course = make_course()
    page = _home(member_client)
    other = app.test_client()
    assert AuthActions(other).login("13800000005").status_code == 302
    study_for(other, course.lessons[0].id)
    with statements(db) as again:
        assert _home(member_client) == page
    assert len(again) <= 3
    assert "骑手小李" in _home(other) and "骑手小李" not in page


def test_a_secretarys_assignment_reaches_the_members_page(db, city, make_course, member_client):
    course = make_course(title="新就业群体权益保障")
    page = _home(member_client)
    assign(actor=city["secretary"], org=city["a1"], course=course, due_on=local_today() + timedelta(days=30))
    db.session.commit()
    after = _home(member_client)
    assert after != page and "支部要求" in after


def test_points_written_through_another_connection_show(app, db, city, member_client):
    """As another server or a CLI command would: its own engine and session on the database."""
    page = _home(member_client)
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with Session(engine) as other:
            year = local_today().year
            row = other.get(MemberYear, (city["member"].id, year))
            if row is None:
                row = MemberYear(member_id=city["member"].id, year=year, hours=0.0, points=0)
                other.add(row)
            row.points = 4321
            other.commit()
    finally:
        engine.dispose()
    after = _home(member_client)
    assert after != page and ">4321<" in after


def test_a_flashed_message_is_shown_once(db, city, member_client):
    _home(member_client)
    with member_client.session_transaction() as session:
        session["_flashes"] = [("success", "一条只显示一次的消息")]
    assert "一条只显示一次的消息" in _home(member_client)
    assert "一条只显示一次的消息" not in _home(member_client)


def test_writes_mark_their_member_everyone_or_no_one(db, city, make_course):
    member, other = city["member"], city["other"]
    start_member, start_epoch = _versions(db, member)
    start_other, _ = _versions(db, other)

    db.session.add(MemberYear(member_id=member.id, year=1999, hours=1.0, points=1))  # a member's row
    db.session.commit()
    assert _versions(db, member) == (start_member + 1, start_epoch)
    assert _versions(db, other)[0] == start_other

    make_course()  # the catalogue: every member's plan may change
    assert _versions(db, member) == (start_member + 1, start_epoch + 1)

    board = db.session.scalars(select(Discussion)).first()
    db.session.add(Post(discussion_id=board.id, author_id=other.id, body_md="大家好", body_html="<p>大家好</p>",
                        excerpt="大家好"))
    db.session.commit()  # the forum is on no member's home page
    assert _versions(db, member) == (start_member + 1, start_epoch + 1)

    db.session.get(Member, member.id).name = "骑手小王（改）"
    db.session.rollback()  # nothing written, nothing marked
    db.session.add(MemberYear(member_id=other.id, year=1999, hours=1.0, points=1))
    db.session.commit()
    assert _versions(db, member) == (start_member + 1, start_epoch + 1)
    assert _versions(db, other)[0] == start_other + 1


def test_the_store_forgets_the_least_recently_used_and_stays_in_its_budget():
    store = PageStore(max_bytes=3 * 1100)
    for key in "abc":
        store.set(key, b"x" * 1000)
    store.get("a")  # used: b is now the oldest
    store.set("d", b"y" * 1000)
    assert store.get("b") is None and store.get("a") and store.get("c") and store.get("d")
    assert store.size <= store.max_bytes
    store.set("br;-", b"z" * 10)  # a response that is not a kept page
    assert store.get("br;-") is None
    store.set("huge", b"h" * 10_000)  # larger than the whole budget: not kept, nothing evicted
    assert store.get("huge") is None and len(store) == 3
