"""Learners beyond Party members: kinds in targets and statistics (non-members carry no target
and are not counted in meeting-target figures), courses limited to kinds, the roster import's
spellings and the non-members' points ranking."""
from __future__ import annotations

import io
import re

from openpyxl import Workbook
from sqlalchemy import select

from helpers import AuthActions, api_token, bearer, csrf_from, finish_course
from learning.audit.models import AuditEvent
from learning.catalog.models import Course
from learning.orgs.models import Member, MemberKind
from learning.plans.current import member_plan
from learning.stats.queries import Period, by_kind, child_rows, member_rows, summary
from learning.study.models import MemberYear
from learning.study.targets import target_for
from learning.timeutil import local_today, utcnow


def _hours(db, member, hours, points=0):
    db.session.add(MemberYear(member_id=member.id, year=local_today().year, hours=hours, points=points,
                              courses_done=0))
    db.session.commit()


def test_non_members_have_no_target_and_do_not_count_in_meeting_figures(app, city, make_member, db):
    year = local_today().year
    masses = make_member(city["a1"], name="群众小张", kind=MemberKind.MASSES)
    activist = make_member(city["a1"], name="积极分子小赵", kind=MemberKind.ACTIVIST)
    _hours(db, city["member"], 40)  # a Party member at target
    _hours(db, masses, 50)  # a non-member with many hours: not "meeting" anything
    _hours(db, activist, 1)  # a non-member with few hours: not "behind" either
    with app.test_request_context():
        assert target_for(city["member"], year) == 32 and target_for(masses, year) is None
        s = summary(city["a1"], Period(year))
        # learners: secretary, member, masses, activist; Party members: secretary and member
        assert (s.members, s.with_target, s.meeting_target, s.behind) == (4, 2, 1, 1)
        assert s.meeting_rate == 0.5
        behind = [r.name for r in member_rows(city["a1"], year, behind_only=True)]
        assert behind == ["支部书记"]
        assert [r.name for r in member_rows(city["a1"], year, kind=MemberKind.MASSES)] == ["群众小张"]
        kinds = {r.key: (r.members, r.with_target, r.meeting) for r in by_kind(city["a1"], year)}
        assert kinds == {"full": (2, 2, 1), "masses": (1, 0, 0), "activist": (1, 0, 0)}
        child = next(c for c in child_rows(city["a1"].parent, Period(year)) if c.org.code == "CA-1")  # the committee node (city["committee"] is its secretary)
        assert (child.members, child.with_target, child.meeting_target, child.rate) == (4, 2, 1, 0.5)

    client = app.test_client()
    AuthActions(client).login("13800000001")
    page = client.get("/orgs/CA-1/dashboard?kind=masses").get_data(as_text=True)
    assert "按学员类别" in page and "群众学时" in page and "群众小张" in page
    detail = client.get("/orgs/CA-1").get_data(as_text=True)
    assert "无年度目标" in detail and "入党积极分子" in detail
    stats = client.get(f"/api/v1/orgs/CA-1/stats?year={year}").json
    assert (stats["members"], stats["members_with_target"], stats["members_meeting_target"]) == (4, 2, 1)
    masses_client = app.test_client()
    AuthActions(masses_client).login(masses.phone)
    assert "年度学时目标只适用于党员" in masses_client.get("/").get_data(as_text=True)
    token = api_token(app.test_client(), masses.phone)
    me = app.test_client().get("/api/v1/me", headers=bearer(token)).json
    assert me["member_kind"] == "masses" and me["target"] is None


def test_course_limited_to_kinds_is_hidden_from_others(app, city, make_member, make_course, db):
    masses = make_member(city["a1"], name="群众小张", kind=MemberKind.MASSES)
    party = make_course(title="党章学习", category="党章党规")
    skills = make_course(title="电动车维修", category="职业技能")
    for course in (party, skills):
        course.allowed_kinds = ["full", "probationary"]
    db.session.commit()

    members = app.test_client()
    AuthActions(members).login(masses.phone)
    catalog = members.get("/courses").get_data(as_text=True)
    assert "党章学习" not in catalog and "电动车维修" in catalog  # skills courses stay open to all
    assert members.get(f"/courses/{party.slug}").status_code == 404
    assert members.get(f"/courses/{party.slug}/lessons/01-text").status_code == 404
    token = api_token(app.test_client(), masses.phone)
    api = app.test_client()
    assert api.get(f"/api/v1/courses/{party.slug}", headers=bearer(token)).status_code == 404
    assert party.slug not in {c["slug"] for c in api.get("/api/v1/courses", headers=bearer(token)).json["items"]}
    with app.test_request_context():
        assert party.slug not in {c.slug for _item, c in member_plan(masses, local_today()).items}
        assert party.slug in {c.slug for _item, c in member_plan(city["member"], local_today()).items}

    party_member = app.test_client()
    AuthActions(party_member).login("13800000002")
    assert party_member.get(f"/courses/{party.slug}").status_code == 200


def test_admin_sets_allowed_kinds_on_the_metadata_page(app, city, make_course, db):
    course = make_course(title="党章学习", category="党章党规")
    client = app.test_client()
    AuthActions(client).login("13800000000")
    page = client.get(f"/admin/courses/{course.slug}/edit").get_data(as_text=True)
    assert "限定学员类别" in page and 'value="activist"' in page
    ok = client.post(f"/admin/courses/{course.slug}/edit", data={
        "csrf_token": csrf_from(page), "title": "党章学习", "category": "党章党规", "hours": "1.5",
        "allowed_kinds": ["full", "probationary", "candidate"]})
    assert ok.status_code == 302
    bad = client.post(f"/admin/courses/{course.slug}/edit", data={
        "csrf_token": csrf_from(page), "title": "党章学习", "category": "党章党规", "hours": "1.5",
        "allowed_kinds": ["pirate"]})
    assert bad.status_code == 400
    db.session.rollback()
    assert db.session.get(Course, course.id).allowed_kinds == ["candidate", "full", "probationary"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "course_edited"))
    assert event.detail["changes"]["allowed_kinds"] == [[], ["candidate", "full", "probationary"]]


def test_roster_import_reads_the_chinese_spellings_of_every_kind(app, city, db):
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "手机号", "出生年份", "职业", "支部编码", "政治面貌", "入党日期"])
    sheet.append(["甲", "13911110001", 1995, "快递员", "CA-1", "积极分子", None])
    sheet.append(["乙", "13911110002", 1996, "快递员", "CA-1", "群众", None])
    sheet.append(["丙", "13911110003", 1997, "快递员", "CA-1", "发展对象", None])
    sheet.append(["丁", "13911110004", 1990, "快递员", "CA-1", "中共党员", "2015-07-01"])
    sheet.append(["戊", "13911110005", 1990, "快递员", "CA-1", "入党积极分子", None])
    out = io.BytesIO()
    book.save(out)
    client = app.test_client()
    AuthActions(client).login("13800000001")
    form = client.get("/orgs/CA-1/import").get_data(as_text=True)
    preview = client.post("/orgs/CA-1/import", data={"csrf_token": csrf_from(form),
                                                     "roster": (io.BytesIO(out.getvalue()), "r.xlsx")},
                          content_type="multipart/form-data").get_data(as_text=True)
    action = re.search(r'action="(/orgs/CA-1/import/[^"]+)"', preview).group(1)
    assert client.post(action, data={"csrf_token": csrf_from(preview)}).status_code == 200
    db.session.rollback()
    kinds = dict(db.session.execute(select(Member.name, Member.member_kind).where(Member.phone.like("139111100%"))).all())
    assert kinds == {"甲": "activist", "乙": "masses", "丙": "candidate", "丁": "full", "戊": "activist"}


def test_roster_import_refuses_a_joining_date_for_non_members(app, city, db):
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "手机号", "出生年份", "职业", "支部编码", "党员类别", "入党日期"])
    sheet.append(["乙", "13911110002", 1996, "快递员", "CA-1", "群众", "2020-07-01"])
    out = io.BytesIO()
    book.save(out)
    client = app.test_client()
    AuthActions(client).login("13800000001")
    form = client.get("/orgs/CA-1/import").get_data(as_text=True)
    preview = client.post("/orgs/CA-1/import", data={"csrf_token": csrf_from(form),
                                                     "roster": (io.BytesIO(out.getvalue()), "r.xlsx")},
                          content_type="multipart/form-data").get_data(as_text=True)
    assert "群众不是党员，不应填写入党日期" in preview and "确认导入" not in preview


def test_secretary_sees_and_exports_the_non_members_ranking(app, city, make_member, db):
    masses = make_member(city["a1"], name="群众小张", kind=MemberKind.MASSES)
    sibling_masses = make_member(city["a2"], name="邻支部群众", kind=MemberKind.MASSES)
    _hours(db, masses, 3, points=40)
    _hours(db, sibling_masses, 3, points=90)
    _hours(db, city["member"], 10, points=99)  # a Party member: not in this ranking
    client = app.test_client()
    AuthActions(client).login("13800000001")
    page = client.get("/orgs/CA-1/prospects").get_data(as_text=True)
    assert "群众小张" in page and "骑手小王" not in page and "邻支部群众" not in page
    response = client.get("/orgs/CA-1/dashboard/export?table=prospects&format=csv")
    text = response.get_data().decode("utf-8-sig")
    response.close()
    assert "群众小张" in text and "骑手小王" not in text and ",40" in text
    db.session.rollback()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "stats_exported"))
    assert event.detail["table"] == "prospects" and event.target == "org:CA-1"
    assert AuthActions(sibling := app.test_client()).login("13800000004").status_code == 302
    assert sibling.get("/orgs/CA-1/prospects").status_code == 403


def test_plan_for_a_non_member_has_no_target_but_still_recommends(app, city, make_member, make_course, db):
    masses = make_member(city["a1"], kind=MemberKind.MASSES)
    make_course(title="电动车维修", category="职业技能")
    done = make_course(title="交通安全", category="安全")
    finish_course(masses, done, utcnow())
    db.session.commit()
    with app.test_request_context():
        view = member_plan(masses, local_today())
    assert view.target is None and [c.title for _item, c in view.items] == ["电动车维修"]
