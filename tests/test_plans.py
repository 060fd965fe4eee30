"""The member's plan on the home page: from transparent rules before training, from the newest
model after `hongfan recommender train`, picked up without a restart."""
from __future__ import annotations

import json
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


# --- required assignments, the 学时 gap, dismissals, stability, the API -------------------------

from datetime import date  # noqa: E402

import pytest  # noqa: E402
from sqlalchemy import select  # noqa: E402

from helpers import csrf_from  # noqa: E402
from learning.assignments.models import Assignment  # noqa: E402
from learning.plans.current import current_plan  # noqa: E402
from learning.plans.frames import training_data  # noqa: E402
from learning.plans.models import Dismissal, LearningPlan  # noqa: E402
from learning.timeutil import utcnow  # noqa: E402

MONDAY = date(2026, 3, 2)
CATEGORIES = ("安全", "权益保障", "党史", "政策法规", "理论学习", "数字技能")


@pytest.fixture
def catalogue(make_course):
    return [make_course(title=f"课程{n}", category=CATEGORIES[n % len(CATEGORIES)], hours=2.0, lessons=("text",))
            for n in range(10)]


def _plan(member, today=MONDAY, hours=0.0, target=32.0):
    view = current_plan(member, today=today, hours_done=hours, target=target)
    db.session.commit()  # end the read transaction: the next call sees the stored plan
    return view


def _slugs(view) -> list[str]:
    return [course.slug for _, course in view.items]


def _assign(org, course, due, withdrawn=False):
    db.session.add(Assignment(org_id=org.id, course_id=course.id, due_on=due,
                              withdrawn_at=utcnow() if withdrawn else None))
    db.session.commit()


def test_required_courses_come_first_by_due_date(city, catalogue):
    c = catalogue
    _assign(city["a1"], c[5], date(2026, 6, 30))        # the member's branch
    _assign(city["committee"], c[7], date(2026, 4, 15))  # the committee above it
    _assign(city["a1"], c[8], date(2026, 3, 20), withdrawn=True)
    _assign(city["a2"], c[9], date(2026, 3, 10))        # a sibling branch: not theirs
    view = _plan(city["member"])
    first, second = view.items[0], view.items[1]
    assert [first[1].slug, second[1].slug] == [c[7].slug, c[5].slug]
    assert first[0].source == "required" and first[0].why.text("zh") == "支部要求，截止2026年4月15日"
    assert first[0].due_on == date(2026, 4, 15)
    assert all(item.source == "recommended" for item, _ in view.items[2:])
    # the withdrawn one is no longer required (it may still be recommended), the sibling's neither
    required = {course.slug for item, course in view.items if item.source == "required"}
    assert required == {c[5].slug, c[7].slug}
    # the sibling branch's member gets theirs
    assert _plan(city["other"]).items[0][1].slug == c[9].slug


def test_a_new_assignment_rebuilds_the_plan(city, catalogue):
    before = _plan(city["member"])
    assert all(item.source == "recommended" for item, _ in before.items)
    _assign(city["root"], catalogue[9], date(2026, 5, 1))
    after = _plan(city["member"], today=date(2026, 3, 3))
    assert after.items[0][1].slug == catalogue[9].slug and after.items[0][0].source == "required"


def test_the_plan_covers_the_remaining_hours(city, catalogue):
    assert sum(course.hours for _, course in _plan(city["member"], target=10.0).items) >= 10.0
    almost = _plan(city["other"], hours=31.0)   # 1 学时 to go: a short plan, still a few courses
    assert 1.0 <= sum(course.hours for _, course in almost.items) <= 6.0
    # paced over the weeks left: nothing before this week, nothing after the year
    assert all(9 <= item.due_week <= 53 for item, _ in almost.items)


def test_the_plan_is_stable_from_day_to_day(city, catalogue, make_member):
    member = city["member"]
    first = _plan(member)
    stored = db.session.scalar(select(LearningPlan).where(LearningPlan.member_id == member.id))
    generated = stored.generated_at
    # other riders now favour the last courses: the member's stored plan does not move
    for n in range(6):
        rider = make_member(city["a2"], phone=f"1370000{n:04d}")
        for course in catalogue[-3:]:
            complete_lesson(rider, course.lessons[0], datetime(2026, 3, 2, 8, n), time_spent_s=300)
    db.session.commit()
    second = _plan(member, today=date(2026, 3, 3))
    assert _slugs(second) == _slugs(first)
    db.session.expire_all()
    assert db.session.scalar(select(LearningPlan.generated_at).where(LearningPlan.member_id == member.id)) == generated
    # the member finishes their second item: the plan is rebuilt, the rest keeps its order and weeks
    done = first.items[1][1]
    complete_lesson(member, done.lessons[0], datetime(2026, 3, 3, 8), time_spent_s=300)
    db.session.commit()
    third = _plan(member, today=date(2026, 3, 4), hours=2.0)
    kept = [s for s in _slugs(first) if s != done.slug]
    assert _slugs(third)[:len(kept)] == kept[:len(_slugs(third))]
    weeks = {course.slug: item.due_week for item, course in first.items}
    assert all(item.due_week == weeks[course.slug] for item, course in third.items if course.slug in weeks)


def test_dismissed_courses_leave_the_plan_for_good(city, catalogue, app):
    client = app.test_client()
    AuthActions(client).login("13800000002")
    page = client.get("/").get_data(as_text=True)
    target = catalogue[0]
    assert f"/plan/{target.slug}/dismiss" in page and "不感兴趣" in page
    response = client.post(f"/plan/{target.slug}/dismiss", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/#plan-title")
    page = client.get("/").get_data(as_text=True)
    assert "已将《课程0》标记为不感兴趣" in page
    plan = page[page.index("我的学习计划"):]
    assert f'href="/courses/{target.slug}"' not in plan
    db.session.rollback()
    assert db.session.scalar(select(Dismissal.course_id).where(Dismissal.member_id == city["member"].id)) == target.id
    # without the CSRF token nothing happens
    assert client.post(f"/plan/{catalogue[1].slug}/dismiss").status_code == 400
    assert client.post("/plan/no-such-course/dismiss", data={"csrf_token": csrf_from(page)}).status_code == 404


def test_a_required_course_cannot_be_dismissed(city, catalogue, app):
    _assign(city["a1"], catalogue[3], date(2026, 12, 1))
    client = app.test_client()
    AuthActions(client).login("13800000002")
    page = client.get("/").get_data(as_text=True)
    assert f"/plan/{catalogue[3].slug}/dismiss" not in page  # no button on a required item
    client.post(f"/plan/{catalogue[3].slug}/dismiss", data={"csrf_token": csrf_from(page)})
    assert "是支部要求的必修课程" in client.get("/").get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(Dismissal.course_id)) is None


def test_plan_api_shape_and_language(city, catalogue, app):
    _assign(city["committee"], catalogue[2], date(2026, 12, 20))
    client = app.test_client()
    assert client.get("/api/v1/plan").status_code == 401
    assert client.get("/api/v1/plan").get_json()["status"] == 401
    AuthActions(client).login("13800000002")
    body = client.get("/api/v1/plan").get_json()
    assert {"year", "hours_done", "target", "model", "rules", "note", "items"} <= set(body)
    assert body["rules"] is True and body["model"] is None and "透明规则" in body["note"]
    first = body["items"][0]
    assert first["required"] is True and first["source"] == "required"
    assert first["course"]["slug"] == catalogue[2].slug and first["course"]["id"] == catalogue[2].id
    assert {"title", "hours", "category", "url"} <= set(first["course"])
    assert first["due_on"].endswith("-12-20") and first["reason"].startswith("支部要求")
    assert all(isinstance(i["week"], int) and i["reason"] for i in body["items"])
    assert [i["position"] for i in body["items"]] == list(range(1, len(body["items"]) + 1))
    english = client.get("/api/v1/plan?lang=en").get_json()
    assert english["items"][0]["reason"].startswith("Required by your branch, due")
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "get" in spec["paths"]["/plan"] and "post" in spec["paths"]["/plan/dismissals"]
    assert "Plan" in spec["components"]["schemas"]


def test_plan_api_dismissals(city, catalogue, app):
    _assign(city["a1"], catalogue[4], date(2026, 12, 1))
    client = app.test_client()
    AuthActions(client).login("13800000002")
    token = csrf_from(client.get("/").get_data(as_text=True))
    post = lambda body, **kw: client.post("/api/v1/plan/dismissals", headers={"X-CSRFToken": token}, **kw)  # noqa: E731
    assert post(None, data="course=x").status_code == 400
    bad = post(None, json={"course": 7})
    assert bad.status_code == 400 and "JSON" in bad.get_json()["error"]
    assert post(None, json={"course": "no-such-course"}).status_code == 404
    assert post(None, json={"course": catalogue[4].slug}).status_code == 409
    ok = post(None, json={"course": catalogue[0].slug})
    assert ok.status_code == 200
    assert ok.get_json()["course"] == catalogue[0].slug
    assert catalogue[0].slug not in [i["course"]["slug"] for i in ok.get_json()["plan"]["items"]]
    assert post(None, json={"course": catalogue[0].slug}).status_code == 200  # idempotent
    plan = client.get("/api/v1/plan").get_json()
    assert catalogue[0].slug not in [i["course"]["slug"] for i in plan["items"]]
    db.session.rollback()
    assert len(db.session.scalars(select(Dismissal)).all()) == 1


def test_training_learns_from_dismissals_and_branches(city, make_course, make_member, runner):
    courses = [make_course(title=f"课程{n}", lessons=("text",)) for n in range(7)]
    riders = [make_member(city["a2"], phone=f"1360000{i:04d}") for i in range(8)]
    for n, rider in enumerate(riders):
        for k, course in enumerate(courses[n % 3:n % 3 + 3]):
            complete_lesson(rider, course.lessons[0], datetime(2026, 3, 1 + n, 4 + k), time_spent_s=300)
    db.session.add(Dismissal(member_id=riders[0].id, course_id=courses[6].id, dismissed_at=utcnow()))
    db.session.commit()
    data = training_data(2026)
    assert data.dismissals.to_dict("records") == [{"member_id": riders[0].id, "course_id": courses[6].slug}]
    row = data.members.set_index("member_id").loc[riders[0].id]
    assert (row["branch"], row["parent_org"]) == ("CA-2", "CA")
    result = runner.invoke(args=["recommender", "train"])
    assert result.exit_code == 0, result.output
    assert "'dismissals': 1" in result.output
    from learning.plans.models_store import current_model

    name, model = current_model()
    assert model.summary_["dismissals"] == 1
    assert {"branch", "parent_org"} <= set(model.summary_["member_attributes"])


def _eight_members_studied(city, catalogue, make_member) -> None:
    """History to train on: eight members of the sibling branch, four overlapping courses each."""
    members = [make_member(city["a2"], phone=f"1360000{i:04d}") for i in range(8)]
    for n, person in enumerate(members):
        for k, course in enumerate(catalogue[n % 4:n % 4 + 4]):
            complete_lesson(person, course.lessons[0], datetime(2026, 2, 1 + n, 4 + k), time_spent_s=300)
    db.session.commit()


def test_a_newer_model_rebuilds_the_plan_keeping_its_order(city, catalogue, make_member, runner):
    _eight_members_studied(city, catalogue, make_member)
    member = city["member"]
    assert runner.invoke(args=["recommender", "train"]).exit_code == 0
    first = _plan(member)
    assert first.model is not None
    assert runner.invoke(args=["recommender", "train", "--random-state", "1"]).exit_code == 0
    second = _plan(member, today=date(2026, 3, 3))
    assert second.model != first.model
    kept = [s for s in _slugs(first) if s in _slugs(second)]
    assert _slugs(second)[:len(kept)] == kept and len(kept) >= len(_slugs(first)) - 1


def test_the_first_plan_from_a_model_is_the_models_not_the_rules(city, catalogue, make_member, runner):
    """While no model exists the rules stand in; once one is trained the member's plan is the
    model's own ranking, not the rules' order carried over (only started courses keep a place)."""
    _eight_members_studied(city, catalogue, make_member)
    member = city["member"]
    rules = _plan(member)
    assert rules.rules
    assert runner.invoke(args=["recommender", "train"]).exit_code == 0
    from learning.plans.current import CANDIDATES
    from learning.plans.models_store import current_model
    from recommender import Profile

    first = _plan(member)
    assert not first.rules
    name, model = current_model()
    ranked = [r.course_id for r in model.recommend(Profile(occupation=member.occupation,
                                                           age=2026 - member.birth_year if member.birth_year else None,
                                                           attributes={"branch": member.home_org.code,
                                                                       "parent_org": member.home_org.parent.code}),
                                                   k=CANDIDATES)]
    recommended = [item.course_id for item, _ in first.items if item.source == "recommended"]
    assert recommended == [c for c in ranked if c in recommended]     # the model's order


def test_demo_member_plan_and_the_evaluate_command(empty_app, tmp_path):
    """On the demo: the rider's plan fits their job and history with readable reasons, a new
    member's fits their job, and `hongfan recommender evaluate` puts the shipped model ahead of
    every baseline on the demo's own data."""
    import json

    from learning.catalog.models import Course
    from learning.orgs.models import Member
    from learning.plans.queries import history
    from learning.study.models import LessonProgress

    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0
    member = db.session.scalar(select(Member).where(Member.phone == "13800000002"))
    done = set(history(member))
    newcomer = db.session.scalar(select(Member).where(
        Member.occupation.in_(("货车司机", "外卖骑手", "快递员", "主播")), Member.phone.not_like("138000000%"),
        ~Member.id.in_(select(LessonProgress.member_id))).order_by(Member.id))
    people = [(member, member.phone, done), (newcomer, newcomer.phone, set())]
    audience = dict(db.session.execute(select(Course.slug, Course.audience)).all())
    db.session.rollback()
    for person, phone, completed in people:
        client = empty_app.test_client()
        assert AuthActions(client).login(phone, password="hongfan").status_code == 302
        plan = client.get("/api/v1/plan").get_json()
        assert plan["model"] and not plan["rules"] and len(plan["items"]) >= 5
        reasons = {i["reason"] for i in plan["items"][:5]}
        assert all(r and r != "根据你的学习情况推荐" for r in reasons), plan["items"][:5]
        recommended = [i for i in plan["items"] if i["source"] == "recommended" and i["reason_code"] != "prerequisite"]
        top = recommended[:3]
        # the top recommendations never target another occupation; at least one is for the
        # member's own, and at least two say why in terms of the member (job, history, age)
        auds = [audience[i["course"]["slug"]] for i in top]
        assert not any(a and person.occupation not in a for a in auds), top
        assert any(a and person.occupation in a for a in auds), top
        personal = {"because_completed", "popular_with_occupation", "suits_occupation", "popular_with_age",
                    "similar_to_completed"}
        assert sum(i["reason_code"] in personal for i in top) >= 2, top
        for item in plan["items"]:
            assert item["course"]["slug"] not in completed
            if item["reason_code"] == "because_completed":
                assert any(item["reason"] == f"因为你学完了《{t}》" for t in plan_titles(completed))

    out = tmp_path / "evaluation.json"
    # every test member (a sample of them would leave the cold-start figures to chance)
    result = runner.invoke(args=["recommender", "evaluate", "--no-ablation", "--splits", "latest,cold_start",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "hongfan" in result.output and "EASE" in result.output and "HR@10" in result.output
    assert "every unseen course is a negative" in result.output and "10 folds" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report["splits"]) == {"latest", "cold_start"}
    assert set(report["splits"]["latest"]) == {"hongfan", "popularity", "group popularity", "item-kNN", "EASE"}
    for split in report["splits"].values():
        ours = split["hongfan"]
        assert ours["negatives"] < ours["negatives_sampled"]        # 16 courses: all unseen, and said
        assert ours["NDCG@10"] > max(v["NDCG@10"] for name, v in split.items() if name != "hongfan")
    bad = runner.invoke(args=["recommender", "evaluate", "--splits", "everything"])
    assert bad.exit_code == 2 and "--splits" in bad.output
    bad = runner.invoke(args=["recommender", "evaluate", "--synthetic", "10,3"])
    assert bad.exit_code == 2 and "--synthetic" in bad.output


def plan_titles(slugs) -> list[str]:
    from learning.catalog.models import Course

    return list(db.session.scalars(select(Course.title).where(Course.slug.in_(slugs))))


def test_evaluate_on_a_generated_academy(app, runner, tmp_path):
    out = tmp_path / "synthetic.json"
    result = runner.invoke(args=["recommender", "evaluate", "--synthetic", "600,40,6000", "--no-ablation",
                                 "--splits", "latest", "--max-members", "200", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["data"]["members"] > 500 and report["data"]["courses"] == 40
    latest = report["splits"]["latest"]
    assert latest["hongfan"]["members"] == 200 and "EASE" in latest
    assert "NDCG@10 margin" in latest["hongfan"]


def test_a_damaged_model_file_falls_back_to_the_rules(city, catalogue, app):
    from learning.plans.models_store import models_dir

    (models_dir() / "model-29990101T000000000000Z.bin").write_bytes(b"not a model")
    view = _plan(city["member"])
    assert view.rules and view.items


# --- course prerequisites ----------------------------------------------------------------------

def test_a_missing_prerequisite_is_planned_first_with_its_reason(city, catalogue, make_course):
    basics = catalogue[9]
    advanced = make_course(title="进阶课程", category="党史", hours=2.0, lessons=("text",),
                           prerequisites=(basics.slug, "not-published-anywhere"))
    _assign(city["a1"], advanced, date(2026, 6, 30))
    view = _plan(city["member"])
    (first, first_course), (second, second_course) = view.items[:2]
    assert [first_course.slug, second_course.slug] == [basics.slug, advanced.slug]
    assert first.why.code == "prerequisite" and first.why.text("zh") == "学习《进阶课程》前需要先学"
    assert first.why.text("en") == "Needed before “进阶课程”"
    assert second.source == "required"
    # an unknown prerequisite does not keep the course out of the plan; a done one is not planned again
    other = city["other"]
    complete_lesson(other, basics.lessons[0], datetime(2026, 3, 1, 4), time_spent_s=300)
    db.session.commit()
    _assign(city["a2"], advanced, date(2026, 6, 30))
    view = _plan(other)
    assert view.items[0][1].slug == advanced.slug
    assert basics.slug not in _slugs(view)
    assert all(item.why.code != "prerequisite" for item, _ in view.items)


def test_a_new_prerequisite_rebuilds_the_plan(city, catalogue):
    member = city["member"]
    _assign(city["a1"], catalogue[3], date(2026, 6, 30))
    assert _plan(member).items[0][1].slug == catalogue[3].slug
    catalogue[3].prerequisites = [catalogue[8].slug]  # what importing a new version does
    db.session.commit()
    assert _slugs(_plan(member))[:2] == [catalogue[8].slug, catalogue[3].slug]
