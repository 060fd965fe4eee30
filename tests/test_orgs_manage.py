"""Tree management, transfers across a year boundary, invitations, roles, the audit log and
personal-data rights."""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from helpers import AuthActions, csrf_from
from learning.audit.models import AuditEvent
from learning.audit.operations import record
from learning.invites.models import Invitation, JoinRequest
from learning.orgs.models import Member, Organization, OrgKind, OrgMembership, Transfer
from learning.orgs.operations import Refused, close_org, decide_transfer, move_org, request_transfer
from learning.orgs.queries import subtree_year_hours
from learning.study import operations as study
from learning.study.models import CourseCompletion
from learning.timeutil import local_today, utcnow


def post(client, url: str, data: dict | None = None, page: str = "/privacy"):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})})


def actions(db) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def org(code: str) -> Organization:
    from learning.orgs.queries import org_by_code

    return org_by_code(code)


def test_move_rewrites_the_whole_subtree_and_refuses_cycles(city, make_org, db):
    other = make_org("快递行业党委", parent=city["root"], kind=OrgKind.COMMITTEE, code="CB")
    general = make_org("总支", parent=org("CA"), kind=OrgKind.GENERAL_BRANCH, code="CA-Z")
    leaf = make_org("总支第一支部", parent=general, code="CA-Z1")
    move_org(general, other, actor=city["admin"])
    db.session.commit()
    general, leaf, other = (db.session.get(Organization, o.id) for o in (general, leaf, other))
    assert general.path == f"{other.path}{general.id}/" and general.depth == 2
    assert leaf.path == f"{general.path}{leaf.id}/" and leaf.depth == 3
    try:
        move_org(other, leaf, actor=city["admin"])
    except Refused:
        pass
    else:
        raise AssertionError("moved a node under its own descendant")
    assert "org_moved" in actions(db)


def test_statistics_survive_a_move(city, make_org, make_course, db):
    course = make_course(lessons=("text",))
    study.complete_lesson(city["member"], course.lessons[0], utcnow(), time_spent_s=600)
    db.session.commit()
    year = local_today().year
    before = subtree_year_hours(org("CA"), year)
    other = make_org("新党委", parent=city["root"], kind=OrgKind.COMMITTEE, code="CB")
    move_org(city["a1"], other, actor=city["admin"])
    db.session.commit()
    assert before == course.hours
    assert subtree_year_hours(db.session.get(Organization, other.id), year) == course.hours
    assert subtree_year_hours(db.session.get(Organization, org("CA").id), year) == 0


def test_close_refuses_with_members_then_closes_when_empty(app, city, make_org, db):
    try:
        close_org(city["a2"], actor=city["admin"])
    except Refused as refused:
        with app.test_request_context():
            assert "转接" in str(refused.message)
    else:
        raise AssertionError("closed a branch with members")
    empty = make_org("空支部", parent=org("CA"), code="CA-9")
    close_org(empty, actor=city["admin"])
    db.session.commit()
    assert empty.closed_at is not None and "org_closed" in actions(db)


def test_committee_secretary_creates_renames_and_moves_inside_subtree(client, city, db):
    AuthActions(client).login("13800000003")
    page = client.get("/orgs/new")
    created = client.post("/orgs/new", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                              "parent": "CA", "code": "CA-3", "name": "新支部",
                                              "kind": "branch", "industry": "外卖", "region": "城北"})
    assert created.status_code == 302
    dup = client.post("/orgs/new", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                          "parent": "CA", "code": "CA-3", "name": "重复", "kind": "branch"})
    assert dup.status_code == 400 and "已被使用" in dup.get_data(as_text=True)
    outside = client.post("/orgs/new", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                              "parent": "ROOT", "code": "X-1", "name": "越权", "kind": "branch"})
    assert outside.status_code == 400  # ROOT is not among the choices
    edit = client.get("/orgs/CA-3/edit")
    renamed = client.post("/orgs/CA-3/edit", data={"csrf_token": csrf_from(edit.get_data(as_text=True)),
                                                   "name": "城北\n支部", "kind": "branch"})
    assert renamed.status_code == 302
    assert post(client, "/orgs/CA-3/close").status_code == 302
    assert {"org_created", "org_updated", "org_closed"} <= set(actions(db))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "org_updated"))
    assert "\n" not in json.dumps(event.detail, ensure_ascii=False).replace("\\n", "")
    assert event.detail["changes"]["name"][1] == "城北\\n支部"


def test_transfer_across_a_year_boundary_keeps_both_branches_statistics(app, city, make_course, db):
    member, a1, a2 = city["member"], city["a1"], city["a2"]
    old_course, new_course = make_course(title="旧课", hours=2.0, lessons=("text",)), \
        make_course(title="新课", hours=3.0, lessons=("text",))
    study.complete_lesson(member, old_course.lessons[0], datetime(2025, 12, 31, 15, 0), time_spent_s=600)  # 23:00 Beijing
    db.session.commit()
    transfer = request_transfer(member, a2, date(2026, 1, 1), actor=city["secretary"], reason="换了站点")
    db.session.flush()
    decide_transfer(transfer, approve=True, actor=city["sibling"], today=date(2025, 12, 31))
    db.session.commit()
    assert transfer.status == "approved" and member.home_org_id == a1.id  # not yet effective
    from learning.orgs.operations import apply_due_transfers

    assert apply_due_transfers(date(2025, 12, 31)) == 0
    assert apply_due_transfers(date(2026, 1, 1)) == 1
    db.session.commit()
    assert member.home_org_id == a2.id
    study.complete_lesson(member, new_course.lessons[0], datetime(2026, 1, 1, 2, 0), time_spent_s=600)
    db.session.commit()
    by_org = dict(db.session.execute(select(CourseCompletion.org_id, func.sum(CourseCompletion.hours))
                                     .group_by(CourseCompletion.org_id)).all())
    assert by_org == {a1.id: 2.0, a2.id: 3.0}
    assert subtree_year_hours(a1, 2025) == 2.0 and subtree_year_hours(a1, 2026) == 0
    assert subtree_year_hours(a2, 2025) == 0 and subtree_year_hours(a2, 2026) == 3.0
    assert subtree_year_hours(org("CA"), 2025) == 2.0  # the parent sees both halves
    homes = db.session.execute(select(OrgMembership.org_id, OrgMembership.since, OrgMembership.until)
                               .where(OrgMembership.member_id == member.id, OrgMembership.kind == "home")
                               .order_by(OrgMembership.id)).all()
    assert [(h.org_id, h.until) for h in homes] == [(a1.id, date(2026, 1, 1)), (a2.id, None)]
    assert {"transfer_requested", "transfer_approved", "transfer_applied"} <= set(actions(db))


def test_transfer_pages_receiving_secretary_approves(app, city, db):
    sender, receiver = app.test_client(), app.test_client()
    AuthActions(sender).login("13800000001")
    page = sender.get("/orgs/transfers")
    response = sender.post("/orgs/transfers", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "phone": "138 0000 0002", "to_code": "CA-2",
        "effective_on": local_today().isoformat(), "reason": "工作变动"})
    assert response.status_code == 302
    transfer = db.session.scalar(select(Transfer))
    assert post(sender, f"/orgs/transfers/{transfer.id}/approve").status_code == 403
    AuthActions(receiver).login("13800000004")
    assert "骑手小王" in receiver.get("/orgs/transfers").get_data(as_text=True)
    assert post(receiver, f"/orgs/transfers/{transfer.id}/approve").status_code == 302
    db.session.rollback()
    assert db.session.get(Member, city["member"].id).home_org_id == city["a2"].id  # effective today


def test_member_requests_own_transfer(client, city, db):
    AuthActions(client).login("13800000002")
    page = client.get("/account/transfer")
    response = client.post("/account/transfer", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "to_code": "CA-2",
        "effective_on": (local_today() + timedelta(days=10)).isoformat()})
    assert response.status_code == 302
    again = client.post("/account/transfer", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "to_code": "CA-2",
        "effective_on": local_today().isoformat()})
    assert again.status_code == 400 and "未完成的转接" in again.get_data(as_text=True)


def test_invitation_registration_approval_expiry_and_max_uses(app, city, db):
    secretary = app.test_client()
    AuthActions(secretary).login("13800000001")
    page = secretary.get("/orgs/CA-1/invitations")
    created = secretary.post("/orgs/CA-1/invitations", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "days": "7", "max_uses": "2"})
    assert created.status_code == 302
    show = secretary.get(created.headers["Location"]).get_data(as_text=True)
    assert 'src="data:image/svg+xml' in show
    link = re.search(r'(http://[^<]+/join/[A-Za-z0-9_-]+)', show).group(1)
    path = link.split("localhost", 1)[1]

    def register(client, phone):
        form = client.get(path)
        return client.post(path, data={"csrf_token": csrf_from(form.get_data(as_text=True)), "name": "新骑手",
                                       "phone": phone, "birth_year": "1998", "occupation": "外卖骑手",
                                       "password": "a long password", "confirm": "a long password"})

    phone1, phone2 = app.test_client(), app.test_client()
    assert register(phone1, "13712340001").status_code == 200
    assert AuthActions(phone1).login("13712340001", "a long password").status_code == 401  # pending
    dup = register(app.test_client(), "13712340001")
    assert dup.status_code == 400 and "已经注册" in dup.get_data(as_text=True)
    assert register(phone2, "13712340002").status_code == 200
    used_up = app.test_client().get(path)
    assert used_up.status_code == 410 and "名额已用完" in used_up.get_data(as_text=True)
    db.session.rollback()
    requests = {r.member.phone: r.id for r in db.session.scalars(
        select(JoinRequest))}
    assert post(secretary, f"/join-requests/{requests['13712340001']}/approve").status_code == 302
    assert post(secretary, f"/join-requests/{requests['13712340002']}/decline").status_code == 302
    assert AuthActions(phone1).login("13712340001", "a long password").status_code == 302
    db.session.rollback()
    declined = db.session.scalar(select(Member).where(Member.name == "已注销成员"))
    assert declined is not None and not declined.active
    invitation = db.session.scalar(select(Invitation))
    invitation.uses, invitation.expires_at = 0, utcnow() - timedelta(minutes=1)
    db.session.commit()
    expired = app.test_client().get(path)
    assert expired.status_code == 410 and "已过期" in expired.get_data(as_text=True)
    assert {"invitation_created", "join_registered", "join_approved", "join_declined"} <= set(actions(db))


def test_logged_in_member_joins_as_activity_member(app, city, db):
    from learning.invites.operations import create_invitation

    invitation = create_invitation(city["a1"], actor=city["secretary"], days=1, max_uses=5)
    db.session.commit()
    other = app.test_client()
    AuthActions(other).login("13800000005")
    assert post(other, f"/join/{invitation.token}", page=f"/join/{invitation.token}").status_code == 200
    secretary = app.test_client()
    AuthActions(secretary).login("13800000001")
    request_id = re.search(r"/join-requests/(\d+)/approve", secretary.get("/orgs/CA-1/invitations")
                           .get_data(as_text=True)).group(1)
    assert post(secretary, f"/join-requests/{request_id}/approve").status_code == 302
    db.session.rollback()
    kinds = set(db.session.scalars(select(OrgMembership.kind).where(
        OrgMembership.member_id == city["other"].id, OrgMembership.org_id == city["a1"].id)))
    assert kinds == {"activity"}


def test_roles_granted_and_revoked_by_admin(client, city, db):
    AuthActions(client).login("13800000000")
    page = client.get("/admin/roles")
    granted = client.post("/admin/roles", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                 "phone": "13800000002", "org": "CA-1", "role": "org_admin"})
    assert granted.status_code == 302
    grant_id = re.search(r"/admin/roles/(\d+)/revoke", client.get("/admin/roles").get_data(as_text=True))
    assert grant_id
    db.session.rollback()
    member = db.session.get(Member, city["member"].id)
    grant = next(g for g in member.roles if g.role == "org_admin")
    assert post(client, f"/admin/roles/{grant.id}/revoke").status_code == 302
    assert actions(db)[-2:] == ["role_granted", "role_revoked"]


def test_audit_log_filters_and_resists_forged_lines(client, city, db):
    record("org_updated", actor_id=city["admin"].id, target="org:CA-1\nFAKE login ok",
           changes={"name": ["a", "b\r\n2026-01-01 admin deleted everything"]}, password="secret",
           phone="13812345678")
    db.session.commit()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "org_updated"))
    assert event.target == "org:CA-1\\nFAKE login ok"
    assert "\n" not in event.detail["changes"]["name"][1] and "password" not in event.detail
    assert event.detail["phone"] == "138****5678"
    AuthActions(client).login("13800000001", "wrong password")
    AuthActions(client).login("13800000000")
    html = client.get("/admin/audit?action=login_failed").get_data(as_text=True)
    assert "138****0001" in html and "13800000001" not in html
    html = client.get("/admin/audit?actor=13800000000&target=CA-1").get_data(as_text=True)
    assert "<td>org_updated</td>" in html and "<td>login_failed</td>" not in html
    tomorrow = (utcnow().date() + timedelta(days=1)).isoformat()
    assert "没有符合条件" in client.get(f"/admin/audit?since={tomorrow}").get_data(as_text=True)
    assert client.get("/admin/audit?since=garbage&page=-3").status_code == 200


def test_member_sees_and_downloads_their_data(client, city, make_course, db):
    course = make_course(lessons=("text",))
    study.complete_lesson(city["member"], course.lessons[0], utcnow(), time_spent_s=600)
    db.session.commit()
    AuthActions(client).login("13800000002")
    page = client.get("/account/data").get_data(as_text=True)
    assert "骑手小王" in page and course.title in page
    download = post(client, "/account/data.json")
    data = json.loads(download.get_data(as_text=True))
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert data["profile"]["phone"] == "13800000002" and data["completions"][0]["course"] == course.title
    assert data["memberships"][0]["org"]["code"] == "CA-1" and "login" in {a["action"] for a in data["audit"]}
    assert "personal_data_exported" in actions(db)


def test_deactivation_ends_sessions_and_erasure_keeps_statistics(app, city, make_course, db):
    course = make_course(lessons=("text",))
    study.complete_lesson(city["member"], course.lessons[0], utcnow(), time_spent_s=600)
    db.session.commit()
    year = local_today().year
    hours = subtree_year_hours(city["a1"], year)
    phone = app.test_client()
    AuthActions(phone).login("13800000002")
    assert phone.get("/").status_code == 200
    admin = app.test_client()
    AuthActions(admin).login("13800000000")
    member_id = city["member"].id
    assert post(admin, f"/admin/members/{member_id}/deactivate").status_code == 302
    assert phone.get("/").status_code == 302  # the session ended at once
    assert post(admin, f"/admin/members/{member_id}/erase").status_code == 302
    db.session.rollback()
    erased = db.session.get(Member, member_id)
    assert erased.name == "已注销成员" and erased.phone == f"0{member_id:010d}" and erased.birth_year is None
    assert erased.password_hash is None and not erased.active
    assert subtree_year_hours(db.session.get(Organization, city["a1"].id), year) == hours
    assert {"member_deactivated", "member_erased"} <= set(actions(db))
    assert post(admin, f"/admin/members/{city['admin'].id}/deactivate").status_code == 303  # not oneself


def test_privacy_notice_linked_from_login_and_footer(client):
    page = client.get("/login").get_data(as_text=True)
    assert page.count('href="/privacy"') >= 2


def test_org_page_pages_its_roster_and_counts_the_whole_subtree(app, city, make_member, db):
    """An academy node holds 100,000 learners: the page shows 50 at a time, best first, and
    its counts cover every one of them (the secretary's higher target included)."""
    from learning.orgs.models import MemberKind
    from learning.orgs.roster import PAGE_SIZE
    from learning.study.models import MemberYear

    year = local_today().year
    people = [make_member(city["a2"], name=f"学员{n:02d}") for n in range(PAGE_SIZE + 5)]
    people.append(make_member(city["a2"], name="群众学员", kind=MemberKind.MASSES))
    for n, person in enumerate(people[:12]):
        db.session.add(MemberYear(member_id=person.id, year=year, hours=40.0 - n))  # 40 … 29: 9 meet 32
    db.session.add(MemberYear(member_id=city["sibling"].id, year=year, hours=40.0))  # below the secretary's 56
    db.session.commit()

    client = app.test_client()
    AuthActions(client).login("13800000004")  # the A2 secretary
    first = client.get("/orgs/CA-2").get_data(as_text=True)
    rows = re.findall(r"<tr><td>([^<]+)</td><td>139\*{4}|<tr><td>([^<]+)</td><td>138\*{4}", first)
    assert len(rows) == PAGE_SIZE
    assert first.index("学员00") < first.index("学员01") < first.index("学员11")  # by hours
    party = len(people) - 1 + 2  # the members, the secretary and the branch's member 骑手小李
    assert f"<b>{party}</b>党员" in first.replace("\n", "") and "<b>1</b>其他学员" in first.replace("\n", "")
    assert "<b>9</b>达到年度学时" in first.replace("\n", "")
    assert "page=2" in first
    second = client.get("/orgs/CA-2?page=2").get_data(as_text=True)
    names = set(re.findall(r"<tr><td>([^<]+)</td>", first)) | set(re.findall(r"<tr><td>([^<]+)</td>", second))
    assert len(names) == len(people) + 2 and "page=1" in second
    assert client.get("/orgs/CA-2?page=999").status_code == 200  # past the end: the last page
