"""学习心得: written after finishing a course, reviewed by the member's branch secretary (or a
committee secretary above), approved once → points once, featured on the branch page; the API."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpers import AuthActions, api_token, bearer, csrf_from, finish_course
from learning.audit.models import AuditEvent
from learning.extensions import db as _db
from learning.reflections.models import Reflection
from learning.study.models import MemberYear, PointsEntry
from learning.study.points import REFLECTION_APPROVED
from learning.study.reconcile import differences
from learning.timeutil import local_today, utcnow

GOOD = "这门课让我明白了骑车安全的道理，以后送餐一定戴好头盔、不看手机、不闯红灯，也会提醒身边的骑手。" * 2


def _login(app, phone):
    client = app.test_client()
    assert AuthActions(client).login(phone).status_code == 302
    return client


def _post(client, url, **data):
    page = client.get("/login")
    return client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True)), **data})


@pytest.fixture
def finished(app, city, make_course, db):
    course = make_course()
    finish_course(city["member"], course, utcnow())
    db.session.commit()
    return course


def _points(member_id: int) -> tuple[int, int]:
    _db.session.rollback()
    entries = _db.session.scalar(select(func.count()).select_from(PointsEntry).where(
        PointsEntry.member_id == member_id, PointsEntry.behaviour == REFLECTION_APPROVED))
    year = _db.session.get(MemberYear, (member_id, local_today().year))
    return entries, year.points


def test_review_flow_pays_points_once_and_keeps_counters_right(app, city, finished, make_course, db):
    member = _login(app, "13800000002")
    unfinished = make_course(title="党史故事", category="党史")
    assert member.get(f"/courses/{unfinished.slug}/reflection").status_code == 403
    assert "写学习心得" in member.get(f"/courses/{finished.slug}").get_data(as_text=True)

    short = _post(member, f"/courses/{finished.slug}/reflection", body="很好")
    assert short.status_code == 400 and "至少 50 个字" in short.get_data(as_text=True)
    assert _post(member, f"/courses/{finished.slug}/reflection", body=GOOD).status_code == 302
    db.session.rollback()
    reflection = db.session.scalar(select(Reflection))
    assert reflection.status == "submitted" and reflection.body == GOOD.strip()

    # the sibling branch's secretary neither sees nor reviews it
    sibling = _login(app, "13800000004")
    assert sibling.get(f"/reflections/{reflection.id}").status_code == 403
    assert GOOD[:10] not in sibling.get("/reflections/review").get_data(as_text=True)
    assert _post(sibling, f"/reflections/{reflection.id}/review", decision="approve").status_code == 403

    secretary = _login(app, "13800000001")
    queue = secretary.get("/reflections/review").get_data(as_text=True)
    assert "骑手小王" in queue and finished.title in queue
    dashboard = secretary.get("/orgs/CA-1/dashboard").get_data(as_text=True)
    assert "待审核的学习心得（1 篇）" in dashboard
    # returning needs a comment
    assert _post(secretary, f"/reflections/{reflection.id}/review", decision="return").status_code == 400
    assert _post(secretary, f"/reflections/{reflection.id}/review", decision="return",
                 comment="请结合自己的工作再具体一些。").status_code == 302
    db.session.rollback()
    assert db.session.get(Reflection, reflection.id).status == "returned"
    assert _points(city["member"].id)[0] == 0

    page = member.get(f"/courses/{finished.slug}/reflection").get_data(as_text=True)
    assert "请结合自己的工作再具体一些。" in page
    assert _post(member, f"/courses/{finished.slug}/reflection", body=GOOD + "补充：我会带头遵守。").status_code == 302
    db.session.rollback()
    assert db.session.get(Reflection, reflection.id).submissions == 2

    before = _points(city["member"].id)[1]
    committee = _login(app, "13800000003")  # the committee above may review too
    assert _post(committee, f"/reflections/{reflection.id}/review", decision="approve").status_code == 302
    again = _post(secretary, f"/reflections/{reflection.id}/review", decision="approve")
    assert again.status_code == 409
    entries, points = _points(city["member"].id)
    assert entries == 1 and points == before + 5
    assert differences() == []  # `hongfan stats reconcile` stays clean

    # approved is final; it can be featured on the branch page
    assert _post(member, f"/courses/{finished.slug}/reflection", body=GOOD).status_code == 409
    assert "补充：我会带头遵守" not in secretary.get("/orgs/CA-1").get_data(as_text=True)
    assert _post(secretary, f"/reflections/{reflection.id}/feature", featured="1").status_code == 302
    assert "优秀学习心得" in secretary.get("/orgs/CA-1").get_data(as_text=True)
    db.session.rollback()
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.target == f"reflection:{reflection.id}")))
    assert actions == {"reflection_submitted", "reflection_reviewed", "reflection_featured"}


def test_api_lists_and_writes_the_callers_reflections(app, city, finished, make_course, db):
    token = api_token(app.test_client(), "13800000002")
    client = app.test_client()
    assert client.get("/api/v1/reflections", headers=bearer(token)).json == {"items": []}
    other = make_course(title="党史故事", category="党史")
    refused = client.post("/api/v1/reflections", json={"course": other.slug, "body": GOOD}, headers=bearer(token))
    assert refused.status_code == 409 and refused.json["status"] == 409
    short = client.post("/api/v1/reflections", json={"course": finished.slug, "body": "短"}, headers=bearer(token))
    assert short.status_code == 400 and short.json["field"] == "body"
    assert client.post("/api/v1/reflections", json={"course": "nope", "body": GOOD},
                       headers=bearer(token)).status_code == 404
    created = client.post("/api/v1/reflections", json={"course": finished.slug, "body": GOOD}, headers=bearer(token))
    assert created.status_code == 201 and created.json["status"] == "submitted" and created.json["reviewed_at"] is None
    updated = client.post("/api/v1/reflections", json={"course": finished.slug, "body": GOOD + "！"},
                          headers=bearer(token))
    assert updated.status_code == 200 and updated.json["id"] == created.json["id"]
    listed = client.get("/api/v1/reflections", headers=bearer(token)).json["items"]
    assert [(r["course"], r["body"][-1]) for r in listed] == [(finished.slug, "！")]


def test_length_limits_are_settings(app, city, finished, db):
    app.config["REFLECTION_MIN_CHARS"], app.config["REFLECTION_MAX_CHARS"] = 5, 10
    member = _login(app, "13800000002")
    long = _post(member, f"/courses/{finished.slug}/reflection", body="很" * 11)
    assert long.status_code == 400 and "最多 10 个字" in long.get_data(as_text=True)
    assert _post(member, f"/courses/{finished.slug}/reflection", body="很有收获！").status_code == 302
