"""The thin path in a real browser at 390 px: log in, open a text lesson, finish it, see the hours."""
from __future__ import annotations

import re

from helpers import browser_login as _login
from helpers import study_event


def test_member_thin_path_on_a_phone(city, make_course, live_server, phone, screenshot):
    course = make_course(title="道路交通安全", lessons=("text",), hours=1.5)
    errors: list[str] = []
    phone.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    _login(phone, live_server, "13800000002")
    phone.wait_for_url(f"{live_server}/")
    assert phone.get_by_text("骑手小王").count() >= 1
    screenshot(phone, "member-home")
    # no horizontal scrolling at 390 px
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.get_by_role("link", name="课程").first.click()
    phone.get_by_role("link", name=re.compile("道路交通安全")).click()
    screenshot(phone, "course")
    phone.get_by_role("link", name="开始学习").click()
    assert phone.get_by_text("第1课的正文").is_visible()
    screenshot(phone, "lesson")
    # Five minutes of reading, reported through the events API with the page's session and CSRF
    # token: the minimum dwell is met before 我已学完本课.
    token = phone.locator("input[name=csrf_token]").first.get_attribute("value")
    sent = phone.request.post(f"{live_server}/api/v1/events", headers={"X-CSRFToken": token},
                              data=[study_event(course.lessons[0].id, time_spent_s=300, progress=0.5)])
    assert sent.ok and len(sent.json()["accepted"]) == 1
    phone.get_by_role("button", name="我已学完本课").click()
    assert phone.get_by_text("获得 1.5 学时").is_visible()

    phone.get_by_role("link", name="我的学习").click()
    assert re.search(r"1\.5\s*/ 32", phone.locator(".bignum").inner_text())
    assert phone.get_by_text("今年已完成").is_visible()
    screenshot(phone, "member-home-after")
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_secretary_and_admin_pages_on_a_phone(city, live_server, phone, screenshot):
    _login(phone, live_server, "13800000001")
    phone.goto(f"{live_server}/orgs")
    assert phone.get_by_role("heading", name="骑手之家党支部").is_visible()
    screenshot(phone, "secretary-branch")
    phone.context.clear_cookies()
    _login(phone, live_server, "13800000000")
    phone.goto(f"{live_server}/orgs")
    assert phone.get_by_text("城南配送站党支部").is_visible()
    screenshot(phone, "admin-tree")
