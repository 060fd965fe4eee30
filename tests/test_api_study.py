"""GET /me, /courses, /courses/{slug} and /progress: the numbers a phone shows."""
from __future__ import annotations

from datetime import datetime, timedelta

from helpers import api_token, bearer, finish_lesson
from learning.catalog.models import CourseStatus
from learning.meetings.models import OfflineAttendance, OfflineSession
from learning.study import operations
from learning.study.models import AnnualTarget, MemberYear, StudyDay
from learning.timeutil import local_today, utcnow


def _get(client, token, url):
    response = client.get(url, headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_me_reports_profile_hours_target_points_streak(city, client, db, make_course):
    member = city["member"]
    today = local_today()
    course = make_course(title="道路交通安全", category="安全", hours=1.5)
    now = utcnow()
    for lesson in course.required_lessons:
        finish_lesson(member, lesson, now)
    counters = db.session.get(MemberYear, (member.id, today.year))
    counters.points = 42
    # Studied today and the three days before; a gap, then older days that do not count.
    for back in (0, 1, 2, 3, 5, 6):
        db.session.merge(StudyDay(member_id=member.id, day=today - timedelta(days=back)))  # today: already a study day
    meeting = OfflineSession(org_id=city["a1"].id, title="七一集中学习", kind="集中学习", held_on=today,
                             hours=2.0, category="理论学习", recorded_by_id=city["secretary"].id)
    db.session.add(meeting)
    db.session.flush()
    db.session.add(OfflineAttendance(session_id=meeting.id, member_id=member.id, org_id=city["a1"].id,
                                     year=today.year, hours=2.0, category="理论学习"))
    db.session.add(AnnualTarget(year=today.year, role="member", hours=24))
    db.session.commit()

    me = _get(client, api_token(client, "13800000002"), "/api/v1/me")
    assert me["name"] == "骑手小王" and me["phone"] == "138****0002"
    assert me["branch"] == {"code": "CA-1", "name": "骑手之家党支部"}
    assert me["occupation"] == "外卖骑手" and me["member_kind"] == "full"
    assert me["year"] == today.year
    assert me["hours"] == 1.5 and me["courses_done"] == 1
    assert me["target"] == 24 and me["points"] == 42 and me["streak_days"] == 4
    assert me["hours_by_category"] == [{"category": "理论学习", "hours": 2.0}, {"category": "安全", "hours": 1.5}]


def test_streak_may_end_yesterday_and_secretary_target(city, client, db):
    today = local_today()
    secretary = city["secretary"]
    for back in (1, 2):
        db.session.add(StudyDay(member_id=secretary.id, day=today - timedelta(days=back)))
    db.session.commit()
    me = _get(client, api_token(client, "13800000001"), "/api/v1/me")
    assert me["streak_days"] == 2 and me["target"] == 56 and me["hours"] == 0 and me["points"] == 0
    db.session.add(StudyDay(member_id=secretary.id, day=today - timedelta(days=2, weeks=1)))
    db.session.execute(StudyDay.__table__.delete().where(StudyDay.day == today - timedelta(days=1)))
    db.session.commit()
    assert _get(client, api_token(client, "13800000001"), "/api/v1/me")["streak_days"] == 0


def test_courses_hide_drafts_from_members_and_filter(city, client, make_course):
    make_course(title="道路交通安全", category="安全")
    make_course(title="党史故事", category="党史", audience=("快递员",))
    make_course(title="未发布的课", category="安全", status=CourseStatus.DRAFT)
    member = api_token(client, "13800000002")
    admin = api_token(client, "13800000000")
    listed = _get(client, member, "/api/v1/courses")
    assert listed["total"] == 2 and {c["title"] for c in listed["items"]} == {"道路交通安全", "党史故事"}
    assert all(c["status"] == "published" for c in listed["items"])
    assert _get(client, admin, "/api/v1/courses")["total"] == 3
    assert [c["title"] for c in _get(client, member, "/api/v1/courses?category=党史")["items"]] == ["党史故事"]
    assert [c["title"] for c in _get(client, member, "/api/v1/courses?q=交通")["items"]] == ["道路交通安全"]
    # The member is a rider: the courier course is not "mine".
    assert [c["title"] for c in _get(client, member, "/api/v1/courses?mine=true")["items"]] == ["道路交通安全"]
    assert _get(client, member, "/api/v1/courses?length=short")["total"] == 2  # 15 min each
    assert _get(client, member, "/api/v1/courses?length=long")["total"] == 0
    first = _get(client, member, "/api/v1/courses?per_page=1&page=2")
    assert first["page"] == 2 and first["per_page"] == 1 and len(first["items"]) == 1 and first["total"] == 2
    assert _get(client, member, "/api/v1/courses?per_page=1&page=3")["items"] == []
    for bad in ("page=0", "per_page=101", "page=x", "length=forever", "mine=maybe", "q=" + "长" * 51):
        response = client.get(f"/api/v1/courses?{bad}", headers=bearer(member))
        assert response.status_code == 400 and response.json["field"], bad


def test_course_detail_with_progress_and_resume(city, client, db, make_course):
    course = make_course()
    draft = make_course(title="草稿", status=CourseStatus.DRAFT)
    member = city["member"]
    first, second, quiz = course.lessons
    finish_lesson(member, first, utcnow())
    row = operations.lesson_progress(member, second)
    row.position, row.progress, row.time_spent_s = 0.4, 0.4, 90
    db.session.commit()
    token = api_token(client, "13800000002")
    detail = _get(client, token, f"/api/v1/courses/{course.slug}")
    assert [lesson["kind"] for lesson in detail["lessons"]] == ["text", "text", "quiz"]
    assert detail["done"] == 1 and detail["total"] == 3 and detail["resume_lesson_id"] == second.id
    by_id = {lesson["id"]: lesson for lesson in detail["lessons"]}
    assert by_id[first.id]["progress"]["completed_at"] is not None
    assert by_id[second.id]["progress"] == {"lesson_id": second.id, "progress": 0.4, "position": 0.4,
                                            "time_spent_s": 90, "best_score": None, "completed_at": None}
    assert by_id[quiz.id]["progress"] is None
    assert client.get(f"/api/v1/courses/{draft.slug}", headers=bearer(token)).status_code == 404
    assert client.get("/api/v1/courses/no-such-course", headers=bearer(token)).status_code == 404
    admin = api_token(client, "13800000000")
    assert _get(client, admin, f"/api/v1/courses/{draft.slug}")["status"] == "draft"


def test_progress_lists_own_rows_since(city, client, db, make_course):
    course = make_course()
    member, other = city["member"], city["other"]
    finish_lesson(member, course.lessons[0], datetime(2025, 3, 1, 8, 0))
    later = operations.lesson_progress(member, course.lessons[1])
    later.position, later.updated_at = 120.0, datetime(2025, 3, 2, 8, 0)
    finish_lesson(other, course.lessons[0], utcnow())
    db.session.commit()
    token = api_token(client, "13800000002")
    items = _get(client, token, "/api/v1/progress")["items"]
    assert [i["lesson_id"] for i in items] == [course.lessons[0].id, course.lessons[1].id]
    assert items[0]["completed_at"] == "2025-03-01T08:00:00+00:00" and items[0]["course_id"] == course.id
    assert items[1]["position"] == 120.0 and items[1]["updated_at"] == "2025-03-02T08:00:00+00:00"
    since = _get(client, token, "/api/v1/progress?since=2025-03-02T15:00:00%2B08:00")["items"]
    assert [i["lesson_id"] for i in since] == [course.lessons[1].id]
    assert _get(client, token, "/api/v1/progress?since=2025-03-02T08:00:01Z")["items"] == []
    for bad in ("2025-03-02", "2025-03-02T08:00:00", "yesterday", "2025-02-30T00:00:00Z"):
        response = client.get(f"/api/v1/progress?since={bad}", headers=bearer(token))
        assert response.status_code == 400 and response.json["field"] == "since", bad


def test_api_speaks_english_on_request(city, client):
    token = api_token(client, "13800000002")
    response = client.get("/api/v1/courses?page=0&lang=en", headers=bearer(token))
    assert response.status_code == 400 and "whole number" in response.json["error"]
