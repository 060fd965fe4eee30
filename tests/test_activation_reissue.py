"""A secretary re-issues a one-time activation code (lost code, forgotten password)."""
from __future__ import annotations

import re

from sqlalchemy import select

from helpers import AuthActions, csrf_from
from learning.audit.models import AuditEvent
from learning.extensions import db
from learning.orgs.operations import grant_role
from learning.orgs.models import Role


def _issue(client, member_id: int):
    page = client.get(f"/members/{member_id}/record")
    return page, client.post(f"/members/{member_id}/activation-code",
                             data={"csrf_token": csrf_from(page.get_data(as_text=True))})


def _code(html: str) -> str:
    return re.search(r'class="code big"[^>]*>([A-Z0-9]{5}-[A-Z0-9]+)<', html).group(1)


def _activate(app, phone: str, code: str, password: str):
    client = app.test_client()
    page = client.get("/activate")
    return client.post("/activate", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "phone": phone,
                                          "code": code, "new": password, "confirm": password})


def test_secretary_reissues_a_code_the_member_activates_with(app, city, client):
    AuthActions(client).login("13800000001")
    member = city["member"]
    page, response = _issue(client, member.id)
    assert "发放新的激活码" in page.get_data(as_text=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    first = _code(html)
    assert member.phone not in html and "138****" in html
    _page, again = _issue(client, member.id)
    second = _code(again.get_data(as_text=True))
    assert first != second
    # the first code stopped working when the second was issued; the second works once
    assert _activate(app, member.phone, first, "新的密码很长12345").status_code == 401
    ok = _activate(app, member.phone, second, "新的密码很长12345")
    assert ok.status_code == 302
    assert _activate(app, member.phone, second, "另一个密码很长123").status_code == 401
    fresh = app.test_client()
    assert AuthActions(fresh).login(member.phone, "新的密码很长12345").status_code == 302
    db.session.rollback()  # end the test's read snapshot: the requests committed since
    issued = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "activation_code_issued")).all()
    assert [e.target for e in issued] == [f"member:{member.id}"] * 2


def test_who_may_issue_codes(app, city):
    def status(actor_phone: str, member) -> int:
        c = app.test_client()
        AuthActions(c).login(actor_phone)
        page = c.get("/login")
        return c.post(f"/members/{member.id}/activation-code",
                      data={"csrf_token": csrf_from(page.get_data(as_text=True))}).status_code

    member = city["member"]
    assert status("13800000004", member) == 403  # sibling branch's secretary
    assert status("13800000003", member) == 200  # committee above
    assert status("13800000002", member) == 403  # the member themself
    # a member who holds a role gets codes from an administrator only
    db.session.rollback()
    grant_role(member=city["member"], org=city["a1"], role=Role.SECRETARY, actor=city["admin"])
    db.session.commit()
    assert status("13800000003", member) == 403
    assert status("13800000000", member) == 200


def test_no_csrf_token_changes_nothing(app, city, client):
    AuthActions(client).login("13800000001")
    response = client.post(f"/members/{city['member'].id}/activation-code", data={})
    assert response.status_code == 400
    db.session.rollback()
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "activation_code_issued")).all()
