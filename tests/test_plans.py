"""The member's plan on the home page: from transparent rules before training, from the newest
model after `hongfan recommender train`, picked up without a restart."""
from __future__ import annotations

from datetime import datetime

from helpers import AuthActions
from learning.extensions import db
from learning.study.operations import complete_lesson


def _home(app, phone="13800000002") -> str:
    client = app.test_client()
    AuthActions(client).login(phone)
    return client.get("/").get_data(as_text=True)


def test_plan_falls_back_to_rules_then_uses_the_trained_model(city, make_course, make_member, app, runner):
    safety = make_course(title="道路交通安全", category="安全", lessons=("text",), audience=("外卖骑手",))
    live = make_course(title="直播合规", category="政策法规", lessons=("text",), audience=("主播",))
    history = make_course(title="党史入门", category="党史", lessons=("text",))
    riders = [make_member(city["a2"], occupation="外卖骑手", phone=f"1360000{i:04d}") for i in range(8)]
    hosts = [make_member(city["a2"], occupation="主播", phone=f"1350000{i:04d}") for i in range(8)]
    for people, first in ((riders, safety), (hosts, live)):
        for n, person in enumerate(people):
            complete_lesson(person, first.lessons[0], datetime(2026, 3, 1 + n, 4), time_spent_s=300)
            complete_lesson(person, history.lessons[0], datetime(2026, 4, 1 + n, 4), time_spent_s=300)
    db.session.commit()

    page = _home(app)
    assert "我的学习计划" in page and "推荐模型尚未训练" in page
    assert "与你职业相同" in page or "同职业" in page  # the rule says why

    result = runner.invoke(args=["recommender", "train"])
    assert result.exit_code == 0, result.output
    page = _home(app)  # the rider 13800000002, no history yet
    assert "推荐模型尚未训练" not in page
    plan = page[page.index("我的学习计划"):]
    assert "道路交通安全" in plan
    assert "直播合规" not in plan or plan.index("道路交通安全") < plan.index("直播合规")
