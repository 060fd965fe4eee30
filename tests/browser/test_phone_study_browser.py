"""A member on a 390×844 phone: resume, finish a text and a video lesson, take a quiz, study a
course offline, keep quiz answers through an expired session.

The outbox sends to the real POST /api/v1/events.
"""
from __future__ import annotations

import re

import pytest

from helpers import PASSWORD, browser_login
from learning.extensions import db
from learning.study.models import LessonProgress

MEMBER = "13800000002"
LONG_TEXT = "".join(f"<p>第{i}段：骑车戴头盔，遵守交通信号，不看手机。安全是最大的效益。</p>" for i in range(90))


def outbox(page) -> list[dict]:
    """The events waiting on the phone (IndexedDB), as app.js keeps them."""
    return page.evaluate("() => window.Hongfan.records().then(rs => rs.map(r => r.event))")


def _wait_sent(page, recorded, timeout_s: float = 20) -> None:
    """Until the server has recorded what the test expects and the phone's outbox is empty."""
    for _ in range(int(timeout_s * 5)):
        if recorded() and not outbox(page):
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"not sent: outbox={outbox(page)}")


def _course(make_course, kinds, *, body=LONG_TEXT, title="安全骑行"):
    course = make_course(title=title, lessons=kinds, hours=1.5)
    for lesson in course.lessons:
        lesson.min_dwell_s = 1
        if lesson.kind == "text":
            lesson.body_html = body
    db.session.commit()
    return course


def _lesson_url(base, course, lesson):
    return f"{base}/courses/{course.slug}/lessons/{lesson.slug}"


def test_resume_a_text_lesson_and_finish_it(city, make_course, study, live_server, phone, screenshot):
    course = _course(make_course, ("text", "text"))
    lesson = course.lessons[0]
    db.session.add(LessonProgress(member_id=city["member"].id, lesson_id=lesson.id, progress=0.5,
                                  position=0.5, time_spent_s=40))
    db.session.commit()
    browser_login(phone, live_server, MEMBER)
    phone.wait_for_url(f"{live_server}/")
    screenshot(phone, "phone-home")

    phone.goto(_lesson_url(live_server, course, lesson))
    phone.get_by_text("已回到上次学到的位置").wait_for()
    # The script counts reading time itself: the server's note for browsers without script is gone.
    assert phone.locator("form[data-finish] input[name=csrf_token]").count() == 1
    assert phone.locator("input[name=opened]").count() == 0
    fraction = phone.evaluate("() => scrollY / (document.documentElement.scrollHeight - innerHeight)")
    assert abs(fraction - 0.5) < 0.05
    screenshot(phone, "phone-lesson-resumed")

    phone.evaluate("() => scrollTo(0, document.documentElement.scrollHeight)")
    phone.get_by_text("本课已学完，学习记录会自动上传").wait_for()
    _wait_sent(phone, lambda: study.progress(lesson.id).completed_at)
    row = study.progress(lesson.id)
    assert row.completed_at is not None and row.progress == 1.0
    assert len([e for e in study.events("complete") if e.lesson_id == lesson.id]) == 1


def test_finish_a_video_lesson(city, make_course, study, live_server, phone, tiny_video, app):
    course = _course(make_course, ("video",))
    lesson = course.lessons[0]
    lesson.media = "talk.mp4"
    course.media_dir = f"{course.slug}/v1"
    folder = app.instance_path + f"/courses/{course.media_dir}/media"
    import shutil
    from pathlib import Path

    Path(folder).mkdir(parents=True)
    shutil.copy(tiny_video, Path(folder) / "talk.mp4")
    db.session.add(LessonProgress(member_id=city["member"].id, lesson_id=lesson.id, progress=0.3, position=2.0))
    db.session.commit()

    browser_login(phone, live_server, MEMBER)
    phone.wait_for_url(f"{live_server}/")
    phone.goto(_lesson_url(live_server, course, lesson))
    # resumed at the saved second
    phone.wait_for_function("() => { const v = document.querySelector('video'); return v.readyState >= 1 && v.currentTime > 1.9; }")
    phone.evaluate("() => { const v = document.querySelector('video'); v.muted = true; v.currentTime = v.duration * 0.93; return v.play(); }")
    phone.get_by_text("本课已学完，学习记录会自动上传").wait_for()
    _wait_sent(phone, lambda: study.progress(lesson.id) and study.progress(lesson.id).completed_at)
    assert study.completions(course.id) == 1


def test_take_a_quiz_online(city, make_course, study, live_server, phone, screenshot):
    course = _course(make_course, ("quiz",))
    lesson = course.lessons[0]
    browser_login(phone, live_server, MEMBER)
    phone.wait_for_url(f"{live_server}/")
    phone.goto(_lesson_url(live_server, course, lesson))
    phone.get_by_label("戴头盔").check()
    phone.get_by_label("错误").check()
    phone.get_by_role("button", name="提交答案").click()
    phone.get_by_text("通过了！本课已学完。").wait_for()
    assert "100" in phone.locator(".bignum").inner_text()
    assert phone.get_by_text("解析：安全第一。").is_visible()
    screenshot(phone, "phone-quiz-result")
    # The copy held in the outbox while the form was posted is dropped: nothing counts twice.
    phone.wait_for_function("() => window.Hongfan.records().then(rs => rs.length === 0)")
    assert study.progress(lesson.id).best_score == 100
    assert study.completions(course.id) == 1


def test_study_a_course_offline(city, make_course, study, live_server, phone, screenshot):
    course = _course(make_course, ("text", "quiz"))
    text, quiz = course.lessons
    browser_login(phone, live_server, MEMBER)
    phone.wait_for_url(f"{live_server}/")
    phone.goto(f"{live_server}/courses/{course.slug}")
    phone.wait_for_function("() => navigator.serviceWorker.controller !== null")
    phone.get_by_role("button", name="下载离线学习").click()
    phone.get_by_text("已下载到手机").wait_for()
    screenshot(phone, "phone-course-offline")

    phone.context.set_offline(True)
    phone.goto(_lesson_url(live_server, course, text))  # answered by the service worker
    assert phone.get_by_text("第89段", exact=False).count() == 1
    phone.evaluate("() => scrollTo(0, document.documentElement.scrollHeight)")
    phone.get_by_text("本课已学完，学习记录会自动上传").wait_for()
    phone.get_by_role("link", name="下一课").click()
    phone.get_by_label("戴头盔").check()
    phone.get_by_label("错误").check()
    phone.get_by_role("button", name="提交答案").click()
    phone.get_by_text("答案已保存在手机上").wait_for()
    phone.locator("#sync").get_by_text("当前离线").wait_for()
    screenshot(phone, "phone-offline-outbox")
    kinds = sorted(e["kind"] for e in outbox(phone))
    assert "complete" in kinds and "answer" in kinds
    assert study.progress(text.id) is None and study.completions(course.id) == 0

    phone.context.set_offline(False)
    _wait_sent(phone, lambda: study.completions(course.id))
    phone.reload()
    assert study.progress(text.id).completed_at is not None
    assert study.progress(quiz.id).best_score == 100
    assert study.completions(course.id) == 1
    assert len(study.events("complete")) == 1 and len(study.events("answer")) == 1
    assert phone.locator("#sync").is_hidden()


def test_expired_session_keeps_quiz_answers(city, make_course, study, live_server, phone, screenshot):
    course = _course(make_course, ("quiz",))
    lesson = course.lessons[0]
    browser_login(phone, live_server, MEMBER)
    phone.wait_for_url(f"{live_server}/")
    url = _lesson_url(live_server, course, lesson)
    phone.goto(url)
    phone.context.clear_cookies()  # the session ends while the quiz is open
    phone.get_by_label("戴头盔").check()
    phone.get_by_label("正确").check()
    phone.get_by_role("button", name="提交答案").click()
    phone.get_by_text("登录已过期。答案已保存在手机上").wait_for()
    phone.locator("#sync").get_by_role("link", name="重新登录").wait_for()
    screenshot(phone, "phone-session-expired")
    assert [e["answers"] for e in outbox(phone)] == [[[0], [0]]]

    phone.locator("#sync").get_by_role("link", name="重新登录").click()
    phone.get_by_label("手机号").fill(MEMBER)
    phone.get_by_label("密码").fill(PASSWORD)
    phone.get_by_role("button", name="登录").click()
    phone.wait_for_url(re.compile(re.escape(url)))
    _wait_sent(phone, lambda: study.progress(lesson.id))
    row = study.progress(lesson.id)
    assert row.best_score == 50 and row.completed_at is None  # one of two right; pass mark 60
    assert len(study.events("answer")) == 1


@pytest.fixture
def pages(city, make_course):
    course = _course(make_course, ("text", "quiz"))
    text, quiz = course.lessons
    return {"course": f"/courses/{course.slug}", "text": f"/courses/{course.slug}/lessons/{text.slug}",
            "quiz": f"/courses/{course.slug}/lessons/{quiz.slug}"}


def test_csp_blocks_inline_script_on_every_page(pages, live_server, phone):
    own_violations: list[str] = []
    phone.on("console", lambda m: own_violations.append(m.text) if "Content Security Policy" in m.text else None)
    probe = """() => new Promise(resolve => {
        document.addEventListener('securitypolicyviolation', e => resolve(e.effectiveDirective), {once: true});
        const s = document.createElement('script'); s.textContent = 'window.__ran = true';
        document.body.appendChild(s);
        setTimeout(() => resolve(null), 2000);
    })"""
    urls = ["/login"]
    browser_login(phone, live_server, MEMBER)
    phone.wait_for_url(f"{live_server}/")
    urls += ["/", "/courses", pages["course"], pages["text"], pages["quiz"], "/offline", "/account/password"]
    for url in urls:
        phone.goto(live_server + url)
        phone.wait_for_load_state("load")
        assert own_violations == [], (url, own_violations)  # the page itself needs no exception
        assert phone.evaluate(probe) == "script-src-elem", url
        assert phone.evaluate("() => window.__ran === true") is False, url
        own_violations.clear()
