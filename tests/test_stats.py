"""Dashboards, exports, the JSON figures, required courses and confirmed offline study."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from helpers import AuthActions, csrf_from
from learning.assignments.models import Assignment
from learning.audit.models import AuditEvent
from learning.meetings.models import OfflineAttendance, OfflineSession
from learning.study import operations as study
from learning.study.models import MemberYear
from learning.timeutil import local_today


@pytest.fixture
def studied(city, make_course, db):
    """Credits in A1 (the secretary's branch) and A2 (the sibling's), this year."""
    course = make_course(title="骑手安全十讲", hours=2.0)
    at = datetime.combine(local_today(), datetime.min.time()) - timedelta(hours=12)
    study.credit_course(city["member"], course, at, source="online")
    study.credit_course(city["other"], course, at, source="online")
    study.credit_course(city["secretary"], course, at, source="online")
    db.session.commit()
    return {**city, "course": course}


def _login(client, phone):
    assert AuthActions(client).login(phone).status_code == 302


def _table_rows(html: str, name: str) -> list[list[str]]:
    section = re.search(rf'<section class="dash-table" id="t-{name}">(.*?)</section>', html, re.S).group(1)
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", section, re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        if cells:
            rows.append(cells)
    return rows


def _norm(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _canon(text: str) -> str:
    """12.5% on the page, 12.5 (per cent) in the sheet; 2 and 2.0 alike."""
    try:
        return f"{round(float(text.rstrip('%')), 1):g}"
    except ValueError:
        return text


@pytest.mark.parametrize("name", ["members", "children", "courses", "behind"])
def test_export_equals_screen(app, client, studied, name):
    _login(client, "13800000003")  # committee secretary: children exist
    html = client.get("/orgs/CA/dashboard").get_data(as_text=True)
    screen = _table_rows(html, name)
    response = client.get(f"/orgs/CA/dashboard/export?table={name}&format=xlsx")
    assert response.status_code == 200
    assert re.match(rf'attachment; filename="CA-{name}-\d{{4}}-\d{{8}}-\d{{6}}\.xlsx"',
                    response.headers["Content-Disposition"])
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    response.close()
    assert "外卖行业党委" in lines[0][0] and str(local_today().year) in lines[0][0]
    width = len(lines[1])  # the header's: a sheet has no trailing empty cells, the page shows "—"
    exported = [[_norm(v) for v in line] + ["—"] * (width - len(line)) for line in lines[2:]]
    assert [[_canon(c) for c in row] for row in screen] == [[_canon(c) for c in row] for row in exported]
    assert screen, "the table should not be empty in this world"

    csv_response = client.get(f"/orgs/CA/dashboard/export?table={name}&format=csv")
    assert csv_response.data.startswith("\ufeff".encode())
    csv_lines = list(csv.reader(io.StringIO(csv_response.data.decode("utf-8-sig"))))
    assert len(csv_lines) == len(lines)
    csv_response.close()


def test_dashboard_numbers_and_masked_phones(client, studied):
    _login(client, "13800000001")
    html = client.get("/orgs/CA-1/dashboard").get_data(as_text=True)
    assert "138****0002" in html and "13800000002" not in html
    assert "骑手小李" not in html and "138****0005" not in html  # the sibling branch's member
    assert 'type="application/json" id="trend-data"' in html and "<script>" not in html


def test_committee_children_roll_up(client, studied):
    _login(client, "13800000003")
    data = client.get("/api/v1/orgs/CA/stats").get_json()
    assert data["members"] == 5 and data["completions"] == 3 and data["hours"] == 6.0
    children = {c["org"]["code"]: c for c in data["children"]}
    assert children["CA-1"]["completions"] == 2 and children["CA-2"]["completions"] == 1
    assert sum(c["members"] for c in data["children"]) == data["members"] - 1  # the committee's own secretary


def test_sibling_gets_403_json_and_no_figures(client, studied):
    _login(client, "13800000004")
    response = client.get("/api/v1/orgs/CA-1/stats")
    assert response.status_code == 403 and response.is_json and "members" not in response.get_json()
    assert client.get("/orgs/CA-1/dashboard/export?table=members&format=csv").status_code == 403
    assert client.get("/api/v1/orgs/CA-2/stats?year=abc").status_code == 400


def test_personal_export_is_audited(app, client, studied, db):
    _login(client, "13800000001")
    client.get("/orgs/CA-1/dashboard/export?table=members&format=csv").close()
    client.get("/orgs/CA-1/dashboard/export?table=trend&format=csv").close()
    db.session.rollback()
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "stats_exported")))
    assert [(e.actor_id, e.detail["table"], e.target) for e in events] == [(studied["secretary"].id, "members", "org:CA-1")]


def test_offline_study_credits_attendees_and_is_audited(app, client, city, db):
    _login(client, "13800000001")
    page = client.get("/orgs/CA-1/meetings").get_data(as_text=True)
    assert "邻支部书记" not in page  # attendees come from this branch's roster only
    today = local_today()
    form = {"csrf_token": csrf_from(page), "title": "集中学习：党章", "kind": "study", "held_on": today.isoformat(),
            "hours": "2.5", "category": "党章党规", "attendees": [str(city["member"].id), str(city["secretary"].id)]}
    response = client.post("/orgs/CA-1/meetings", data=form)
    assert response.status_code == 302
    db.session.rollback()
    session = db.session.scalar(select(OfflineSession))
    attendances = list(db.session.scalars(select(OfflineAttendance).order_by(OfflineAttendance.member_id)))
    assert [(a.member_id, a.org_id, a.year, a.hours) for a in attendances] == sorted(
        [(city["member"].id, city["a1"].id, today.year, 2.5), (city["secretary"].id, city["a1"].id, today.year, 2.5)])
    assert db.session.get(MemberYear, (city["member"].id, today.year)).hours == 2.5
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "offline_study_recorded"))
    assert event.actor_id == city["secretary"].id and event.target == f"offline_session:{session.id}"
    record = client.get(f"/members/{city['member'].id}/record").get_data(as_text=True)
    assert "集中学习：党章" in record and "线下确认" in record

    # someone outside the roster, a future date, no attendees: refused whole, nothing stored
    bad = dict(form, attendees=[str(city["other"].id)], held_on=(today + timedelta(days=2)).isoformat())
    response = client.post("/orgs/CA-1/meetings", data=bad)
    assert response.status_code == 400 and "日期不能晚于今天" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(OfflineSession).where(OfflineSession.id != session.id)) is None


def test_assign_and_withdraw_a_required_course(app, client, studied, db):
    _login(client, "13800000003")
    page = client.get("/orgs/CA/assignments").get_data(as_text=True)
    due = local_today() + timedelta(days=20)
    form = {"csrf_token": csrf_from(page), "org": "CA-1", "course": studied["course"].slug,
            "due_on": due.isoformat(), "note": ""}
    assert client.post("/orgs/CA/assignments", data=form).status_code == 302
    refused = client.post("/orgs/CA/assignments", data=dict(form, org="ROOT"))  # not a child of CA
    assert refused.status_code == 400
    past = client.post("/orgs/CA/assignments", data=dict(form, due_on="2001-01-01"))
    assert past.status_code == 400 and "截止日期不能早于今天" in past.get_data(as_text=True)
    db.session.rollback()
    assignment = db.session.scalar(select(Assignment))
    assert assignment.org_id == studied["a1"].id and assignment.due_on == due

    html = client.get("/orgs/CA-1/dashboard").get_data(as_text=True)
    rows = _table_rows(html, "assignments")
    assert rows[0][:2] == ["骑手安全十讲", "骑手之家党支部"] and rows[0][3:5] == ["2", "2"]

    _login(client, "13800000004")  # the sibling cannot withdraw it
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post(f"/assignments/{assignment.id}/withdraw", data={"csrf_token": token}).status_code == 403
    _login(client, "13800000001")
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post(f"/assignments/{assignment.id}/withdraw", data={"csrf_token": token}).status_code == 302
    db.session.rollback()
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("assignment_%"))))
    assert actions == ["assignment_created", "assignment_withdrawn"]


def test_overdue_members_listed(app, client, studied, make_member, db):
    from learning.assignments.operations import assign

    late = make_member(studied["a1"], name="迟到的骑手", phone="13900000077")
    assign(actor=None, org=studied["a1"], course=studied["course"], due_on=local_today() - timedelta(days=1))
    assign(actor=None, org=studied["a1"].parent, course=studied["course"], due_on=local_today() + timedelta(days=5))
    db.session.commit()
    _login(client, "13800000001")
    html = client.get("/orgs/CA-1/dashboard").get_data(as_text=True)
    # member and secretary finished the course; only the newcomer is late, and only on the past-due one
    assert [row[2:4] for row in _table_rows(html, "overdue")] == [["迟到的骑手", "139****0077"]]
    progress = _table_rows(html, "assignments")
    assert [(row[3], row[4], row[6]) for row in progress] == [("3", "2", "1"), ("3", "2", "0")]
    assert late.id


def test_cli_export(app, runner, studied, tmp_path, db):
    out = tmp_path / "ca.csv"
    result = runner.invoke(args=["stats", "export", "--org", "CA", "--year", str(local_today().year),
                                 "--format", "csv", "--out", str(out), "--table", "members"])
    assert result.exit_code == 0, result.output
    lines = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert len(lines) == 2 + 5 + 1  # title, header, five members, total
    assert all("138****" in line[1] for line in lines[2:-1])
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "stats_exported"))
    bad = runner.invoke(args=["stats", "export", "--org", "NOPE", "--out", str(out)])
    assert bad.exit_code != 0 and "NOPE" in bad.output
