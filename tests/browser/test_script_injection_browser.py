"""Script smuggled into lesson Markdown never runs in the academy's pages.

The validator already refuses such packages (tests/content); this checks the second line of
defence in a real browser: what the sanitizer lets through, rendered on the lesson page, with
a listener for any dialog a script would open.
"""
from __future__ import annotations

from content import render_markdown
from helpers import PASSWORD
from learning.extensions import db

ATTACKS = """
正文。

<script>alert('script')</script>
<img src="x" onerror="alert('onerror')">
<a href="javascript:alert('link')">点我</a>
[也点我](javascript:alert('md-link'))
<iframe src="javascript:alert('frame')"></iframe>
<svg onload="alert('svg')"></svg>
<div style="background:url(javascript:alert('css'))" onmouseover="alert('hover')">悬停</div>
![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9ImFsZXJ0KDEpIi8+)
"""


def test_injected_script_does_not_run(city, make_course, live_server, phone, screenshot):
    course = make_course(title="注入测试", lessons=("text",))
    course.lessons[0].body_html = render_markdown(ATTACKS, media_base="../media/")
    db.session.commit()

    dialogs: list[str] = []
    phone.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    phone.goto(f"{live_server}/login")
    phone.get_by_label("手机号").fill("13800000002")
    phone.get_by_label("密码").fill(PASSWORD)
    phone.get_by_role("button", name="登录").click()
    phone.wait_for_url(f"{live_server}/")
    phone.goto(f"{live_server}/courses/{course.slug}/lessons/{course.lessons[0].slug}")
    body = phone.locator(".lesson-body")
    assert "正文" in body.inner_text()
    for text in ("点我", "也点我", "悬停"):
        target = phone.get_by_text(text, exact=True)
        if target.count():
            target.first.hover()
            target.first.click(no_wait_after=True)
    phone.wait_for_timeout(300)
    screenshot(phone, "lesson-with-injection")
    assert dialogs == []
    dangerous = phone.evaluate(r"""() => {
        const root = document.querySelector('.lesson-body');
        const found = [];
        for (const el of root.querySelectorAll('*')) {
            if (['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'SVG', 'svg'].includes(el.tagName)) found.push(el.tagName);
            for (const attr of el.attributes) {
                if (attr.name.startsWith('on') || attr.name === 'style') found.push(attr.name);
                if (/^\s*(javascript|data):/i.test(attr.value)) found.push(attr.name + '=' + attr.value);
            }
        }
        return found;
    }""")
    assert dangerous == []


def test_inline_script_is_blocked_by_the_content_security_policy(city, live_server, phone):
    """Even if markup slipped through, the CSP forbids inline script on every page."""
    violations: list[str] = []
    phone.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    phone.goto(f"{live_server}/login")
    phone.evaluate("""() => { const s = document.createElement('script');
                               s.textContent = 'window.__ran = true'; document.body.appendChild(s); }""")
    assert phone.evaluate("() => window.__ran === true") is False
    assert violations
