"""The catalog: search over Chinese titles and summaries, category, length and occupation filters."""
from __future__ import annotations

from helpers import AuthActions


def _titles(client, query: str) -> str:
    return client.get(f"/courses?{query}").get_data(as_text=True)


def test_search_and_filters(city, make_course, app):
    make_course(title="道路交通安全", category="安全", lessons=("text", "text", "quiz"), audience=("外卖骑手",))
    make_course(title="直播电商合规", category="政策法规", lessons=("text",) * 9, audience=("主播",))
    make_course(title="党史中的关键节点", category="党史", lessons=("text", "quiz"))
    client = app.test_client()
    AuthActions(client).login("13800000002")  # a rider (外卖骑手)

    page = _titles(client, "q=交通")
    assert "道路交通安全" in page and "直播电商合规" not in page
    page = _titles(client, "q=要点")  # matches the summary
    assert "道路交通安全" in page and "党史中的关键节点" in page
    page = _titles(client, "category=党史")
    assert "党史中的关键节点" in page and "道路交通安全" not in page
    page = _titles(client, "mine=1")
    assert "道路交通安全" in page and "党史中的关键节点" in page and "直播电商合规" not in page
    page = _titles(client, "length=long")  # 9 lessons × 5 minutes
    assert "直播电商合规" in page and "道路交通安全" not in page
    page = _titles(client, "length=short")
    assert "道路交通安全" in page and "党史中的关键节点" in page and "直播电商合规" not in page


def test_course_page_suggests_a_prerequisite_until_it_is_completed(city, make_course, app):
    from datetime import datetime

    from learning.extensions import db
    from learning.study.operations import complete_lesson

    basics = make_course(title="入门课", lessons=("text",))
    hidden = make_course(title="草稿课", lessons=("text",), status="draft")
    advanced = make_course(title="进阶课", prerequisites=(basics.slug, hidden.slug))
    client = app.test_client()
    AuthActions(client).login("13800000002")
    page = client.get(f"/courses/{advanced.slug}").get_data(as_text=True)
    assert f'建议先学<a href="/courses/{basics.slug}">《入门课》</a></p>' in page  # not the draft
    english = client.get(f"/courses/{advanced.slug}?lang=en").get_data(as_text=True)
    assert f'Study first: <a href="/courses/{basics.slug}">“入门课”</a>' in english
    complete_lesson(city["member"], basics.lessons[0], datetime(2026, 3, 1, 4), time_spent_s=300)
    db.session.commit()
    assert "建议先学" not in client.get(f"/courses/{advanced.slug}").get_data(as_text=True)
