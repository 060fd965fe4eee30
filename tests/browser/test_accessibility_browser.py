"""axe-core (vendored, run offline) finds no serious or critical WCAG 2.1 AA violation on the
member's main pages. axe is injected as a script, which the app's CSP rightly forbids, so this
context alone bypasses the CSP."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers import browser_login
from test_redemption import code_for, grant_points, station  # noqa: F401  (station is a fixture)

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def axe_phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True,
                                  has_touch=True, bypass_csp=True)
    yield context.new_page()
    context.close()


def _violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    assert result["passes"], "axe checked nothing"
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_main_member_pages_pass_axe(city, make_course, live_server, axe_phone, screenshot):
    course = make_course(title="道路交通安全", lessons=("text", "quiz"))
    text, quiz = course.lessons
    found: dict[str, list[str]] = {}
    axe_phone.goto(f"{live_server}/login")
    found["login"] = _violations(axe_phone)
    browser_login(axe_phone, live_server, "13800000002")
    axe_phone.wait_for_url(f"{live_server}/")
    for name, url in [("home", "/"), ("course", f"/courses/{course.slug}"),
                      ("text lesson", f"/courses/{course.slug}/lessons/{text.slug}"),
                      ("quiz", f"/courses/{course.slug}/lessons/{quiz.slug}"), ("offline", "/offline")]:
        axe_phone.goto(live_server + url)
        found[name] = _violations(axe_phone)
    axe_phone.goto(f"{live_server}/courses/{course.slug}/lessons/{quiz.slug}")
    axe_phone.get_by_label("戴头盔").check()
    axe_phone.get_by_role("button", name="提交答案").click()
    axe_phone.get_by_text("解析：安全第一。").wait_for()
    found["quiz result"] = _violations(axe_phone)
    screenshot(axe_phone, "phone-quiz-result-partial")
    assert {page: v for page, v in found.items() if v} == {}


def test_station_scanner_pages_pass_axe(city, station, live_server, axe_phone):  # noqa: F811
    """The station's counter: the scanner's page before and after a code is looked up."""
    grant_points(city["member"], 100)
    code = code_for(city["member"])
    browser_login(axe_phone, live_server, "13700000001")
    axe_phone.wait_for_url(f"{live_server}/")
    found = {}
    for name, query in (("scanner", ""), ("code looked up", f"?code={code}")):
        axe_phone.goto(f"{live_server}/stations/{station['station'].id}/redeem{query}")
        found[name] = _violations(axe_phone)
    assert {page: v for page, v in found.items() if v} == {}
