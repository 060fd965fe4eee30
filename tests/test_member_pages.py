"""我的学习, 学习档案, the token page and the annual-target settings, in Chinese and English."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from helpers import AuthActions, api_token, bearer, csrf_from, finish_lesson
from learning.audit.models import AuditEvent
from learning.meetings.models import OfflineAttendance, OfflineSession
from learning.study import operations
from learning.study.models import AnnualTarget, MemberYear, StudyDay
from learning.timeutil import local_today, utcnow


@pytest.fixture
def member_client(app, city):
    client = app.test_client()
    assert AuthActions(client).login("13800000002").status_code == 302
    return client


def _page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_home_shows_target_points_streak_and_resume(city, db, make_course, member_client):
    member = city["member"]
    today = local_today()
    course = make_course(title="道路交通安全", hours=1.5)
    other = make_course(title="网约车安全驾驶", hours=2)
    first, second, _quiz = course.lessons
    finish_lesson(member, first, utcnow() - timedelta(hours=2))
    # The member opened lesson 2, scrolled, then stopped: 继续学习 reopens lesson 2.
    stopped = operations.lesson_progress(member, second)
    stopped.position, stopped.updated_at = 0.6, utcnow() - timedelta(hours=1)
    for lesson in other.required_lessons:
        finish_lesson(member, lesson, utcnow())
    db.session.get(MemberYear, (member.id, today.year)).points = 37
    for back in range(3):
        db.session.merge(StudyDay(member_id=member.id, day=today - timedelta(days=back)))
    db.session.commit()

    html = _page(member_client, "/")
    assert "我的学习" in html and "2 <small>/ 32 学时" in html
    assert ">37<" in html and "今年积分" in html and "连续学习天数" in html and ">3<" in html
    assert f'href="/courses/{course.slug}/lessons/{second.slug}"' in html and "上次学到：第2课" in html
    assert "继续学习" in html
    assert "网约车安全驾驶" in html and "+2 学时" in html  # completed this year, with its hours
    assert "/record" in html and "/account/tokens" in html and "/admin/targets" not in html
    english = _page(member_client, "/?lang=en")
    assert "Points this year" in english and "Day streak" in english and "Continue" in english


def test_home_resume_falls_back_to_next_lesson(city, make_course, member_client, db):
    course = make_course()
    finish_lesson(city["member"], course.lessons[0], utcnow())
    db.session.commit()
    html = _page(member_client, "/")
    assert f'/courses/{course.slug}/lessons/{course.lessons[1].slug}"' in html and "下一课：第2课" in html


def _credits(city, db, make_course, year: int):
    member = city["member"]
    course = make_course(title="党史故事", category="党史", hours=1.5)
    for lesson in course.required_lessons:
        finish_lesson(member, lesson, datetime(year, 12, 31, 15, 30))  # 23:30 in Beijing
    meeting = OfflineSession(org_id=city["a1"].id, title="七一主题党日", kind="主题党日",
                             held_on=datetime(year, 7, 1).date(), hours=3.0, category="理论学习")
    db.session.add(meeting)
    db.session.flush()
    db.session.add(OfflineAttendance(session_id=meeting.id, member_id=member.id, org_id=city["a1"].id,
                                     year=year, hours=3.0, category="理论学习"))
    db.session.commit()


def test_record_lists_the_years_credits_with_totals(city, db, make_course, member_client):
    year = local_today().year - 1
    _credits(city, db, make_course, year)
    html = _page(member_client, f"/record?year={year}")
    assert f"{year} 年度党员学习档案" in html
    assert "骑手小王" in html and "骑手之家党支部" in html and local_today().isoformat() in html
    assert f"{year}-12-31" in html and "党史故事" in html and "线上学习" in html
    assert f"{year}-07-01" in html and "七一主题党日" in html
    assert "4.5 <small>/ 32 学时" in html
    assert html.index("理论学习</td><td class=\"num\">3") < html.index("党史</td><td class=\"num\">1.5")
    assert f'<option value="{year}" selected' in html and f'<option value="{year + 1}"' in html
    assert 'data-print' in html and "js/print." in html
    # The current year has nothing yet; an unknown year falls back to it.
    assert "这一年没有完成的课程" in _page(member_client, "/record")
    assert f"{year + 1} 年度党员学习档案" in _page(member_client, "/record?year=1999")
    english = _page(member_client, f"/record?year={year}&lang=en")
    assert "Study record" in english and "Print / save as PDF" in english


def test_record_shows_only_own_credits(city, db, make_course, app):
    year = local_today().year - 1
    _credits(city, db, make_course, year)
    client = app.test_client()
    AuthActions(client).login("13800000005")
    html = _page(client, f"/record?year={year}")
    assert "党史故事" not in html and "七一主题党日" not in html and "骑手小李" in html


def test_admin_sets_targets_with_validation_and_audit(city, db, app, client):
    AuthActions(client).login("13800000000")
    year = local_today().year
    page = _page(client, "/admin/targets")
    assert 'value="32"' in page.replace("32.0", "32") and "年度学时目标" in page
    token = csrf_from(page)
    bad = client.post("/admin/targets", data={"csrf_token": token, "year": year, "member": "0", "secretary": "abc"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "学时目标应在 1 到 500 之间" in text
    saved = client.post("/admin/targets", data={"csrf_token": token, "year": year, "member": "24",
                                                "secretary": "48"})
    assert saved.status_code == 302
    db.session.rollback()
    stored = {r.role: r.hours for r in db.session.scalars(select(AnnualTarget).where(AnnualTarget.year == year))}
    assert stored == {"member": 24.0, "secretary": 48.0}
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "annual_target_set")).all()
    assert {(a.detail["role"], a.detail["previous"], a.detail["hours"]) for a in audit} == \
        {("member", 32.0, 24.0), ("secretary", 56.0, 48.0)}
    # Saving the same values again writes no new audit entries.
    client.post("/admin/targets", data={"csrf_token": token, "year": year, "member": "24", "secretary": "48"})
    db.session.rollback()
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "annual_target_set")).all()) == 2
    # Members see the new target at once, on the page and in the API.
    member = app.test_client()
    AuthActions(member).login("13800000002")
    assert "/ 24 学时" in _page(member, "/")
    assert member.get("/api/v1/me").json["target"] == 24
    assert "Annual study-hour targets" in _page(client, "/admin/targets?lang=en")


def test_token_page_lists_and_revokes(city, app, client, db, member_client):
    token = api_token(client, "13800000002", name="我的华为手机")
    html = _page(member_client, "/account/tokens")
    assert "我的华为手机" in html and token not in html
    ids = [t["id"] for t in client.get("/api/v1/tokens", headers=bearer(token)).json["items"]]
    revoked = member_client.post(f"/account/tokens/{ids[0]}/revoke", data={"csrf_token": csrf_from(html)})
    assert revoked.status_code == 302
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert "还没有令牌" in _page(member_client, "/account/tokens")
    assert "API tokens" in _page(member_client, "/account/tokens?lang=en")
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "api_token_revoked"))
