"""The thin path through the product, as a member, a secretary and an administrator see it."""
from __future__ import annotations

import re

from helpers import AuthActions, csrf_from, study_for


def _post(client, url, **data):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_member_finishes_a_course_and_sees_the_hours(city, make_course, app):
    course = make_course(title="道路交通安全", hours=1.5)
    client = app.test_client()
    AuthActions(client).login("13800000002")
    home = client.get("/").get_data(as_text=True)
    assert re.search(r"0\s*<small>/ 32", home), "hours this year against the default target of 32"
    assert "道路交通安全" in client.get("/courses").get_data(as_text=True)

    text1, text2, quiz = course.lessons
    lesson_page = client.get(f"/courses/{course.slug}/lessons/{text1.slug}").get_data(as_text=True)
    assert "第1课的正文" in lesson_page
    refused = _post(client, f"/lessons/{text1.id}/complete")  # pressed before the minimum dwell
    assert refused.status_code == 302 and "学习时间还不够" in client.get(refused.location).get_data(as_text=True)
    study_for(client, text1.id)
    assert _post(client, f"/lessons/{text1.id}/complete").status_code == 302
    # Halfway: the course shows up under 继续学习 with the next lesson.
    home = client.get("/").get_data(as_text=True)
    assert "继续学习" in home and "下一课：第2课" in home

    study_for(client, text2.id)
    assert _post(client, f"/lessons/{text2.id}/complete").status_code == 302
    failed = _post(client, f"/lessons/{quiz.id}/quiz", q0="1", q1="0").get_data(as_text=True)
    assert "0 <small>" in failed and "还差一点" in failed
    passed = _post(client, f"/lessons/{quiz.id}/quiz", q0="0", q1="1").get_data(as_text=True)
    assert "100 <small>" in passed

    home = client.get("/").get_data(as_text=True)
    assert re.search(r"1\.5\s*<small>/ 32", home)
    assert "今年已完成" in home and "+1.5" in home


def test_completing_twice_credits_once(city, make_course, app):
    course = make_course(lessons=("text",), hours=2)
    client = app.test_client()
    AuthActions(client).login("13800000002")
    study_for(client, course.lessons[0].id)
    for _ in range(3):
        _post(client, f"/lessons/{course.lessons[0].id}/complete")
    assert re.search(r"2\s*<small>/ 32", client.get("/").get_data(as_text=True))


def test_secretary_sees_branch_members_with_hours(city, make_course, app):
    course = make_course(lessons=("text",), hours=2)
    member_client = app.test_client()
    AuthActions(member_client).login("13800000002")
    study_for(member_client, course.lessons[0].id)
    _post(member_client, f"/lessons/{course.lessons[0].id}/complete")

    client = app.test_client()
    AuthActions(client).login("13800000001")
    page = client.get("/orgs/CA-1").get_data(as_text=True)
    assert "骑手小王" in page and "138****0002" in page and "13800000002" not in page
    assert "2 / 32" in page  # the member's hours against the member target
    assert "0 / 56" in page  # the secretary's own row carries the secretary target
    assert "骑手小李" not in page  # a sibling branch's member


def test_administrator_sees_the_tree(city, app):
    client = app.test_client()
    AuthActions(client).login("13800000000")
    page = client.get("/orgs").get_data(as_text=True)
    for name in ("市两新工委", "外卖行业党委", "骑手之家党支部", "城南配送站党支部"):
        assert name in page


def test_pages_are_chinese_by_default_and_english_on_request(city, app):
    client = app.test_client()
    AuthActions(client).login("13800000002")
    assert "我的学习" in client.get("/").get_data(as_text=True)
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "My study" in english and "我的学习" not in english
    # remembered for the next page
    assert "My study" in client.get("/courses").get_data(as_text=True)


def test_browser_language_picks_english(city, app):
    client = app.test_client()
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert 'lang="en"' in page
