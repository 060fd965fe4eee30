"""Bearer tokens: made with a mobile number and password, shown once, stored hashed, listed and
revoked by their owner, ended by expiry, password change, logout everywhere or deactivation."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from helpers import PASSWORD, AuthActions, api_token, bearer, csrf_from
from learning.api.models import ApiToken
from learning.audit.models import AuditEvent
from learning.timeutil import utcnow


def test_token_is_made_shown_once_and_stored_hashed(city, client, db):
    response = client.post("/api/v1/tokens", json={"phone": "138 0000 0002", "password": PASSWORD,
                                                   "name": "我的手机"})
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"token", "id", "name", "created_at", "expires_at"}
    assert body["token"].startswith("hf_") and len(body["token"]) > 40
    assert body["name"] == "我的手机"
    db.session.rollback()
    row = db.session.get(ApiToken, body["id"])
    assert row.member_id == city["member"].id
    assert body["token"] not in (row.token_hash, row.name) and len(row.token_hash) == 64
    assert row.expires_at - row.created_at == timedelta(days=90)
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == city["member"].id)))
    assert {"login", "api_token_created"} <= actions


def test_token_authenticates_and_lists_without_secrets(city, client):
    first = api_token(client, "13800000002", name="phone")
    second = api_token(client, "13800000002", name="tablet")
    me = client.get("/api/v1/me", headers=bearer(first))
    assert me.status_code == 200 and me.json["name"] == "骑手小王"
    listed = client.get("/api/v1/tokens", headers=bearer(second))
    assert listed.status_code == 200
    items = listed.json["items"]
    assert [t["name"] for t in items] == ["tablet", "phone"]
    assert [t["current"] for t in items] == [True, False]
    assert first not in listed.get_data(as_text=True) and second not in listed.get_data(as_text=True)
    # Another member's list does not show them.
    other = api_token(client, "13800000005")
    theirs = client.get("/api/v1/tokens", headers=bearer(other)).json["items"]
    assert len(theirs) == 1 and theirs[0]["name"].startswith("token-") and theirs[0]["current"]


def test_member_revokes_own_token_only(city, client):
    mine = api_token(client, "13800000002")
    theirs = api_token(client, "13800000005")
    theirs_id = client.get("/api/v1/tokens", headers=bearer(theirs)).json["items"][0]["id"]
    mine_id = client.get("/api/v1/tokens", headers=bearer(mine)).json["items"][0]["id"]
    refused = client.delete(f"/api/v1/tokens/{theirs_id}", headers=bearer(mine))
    assert refused.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(theirs)).status_code == 200
    assert client.delete(f"/api/v1/tokens/{mine_id}", headers=bearer(mine)).status_code == 204
    after = client.get("/api/v1/me", headers=bearer(mine))
    assert after.status_code == 401
    assert "令牌" in after.json["error"] and after.json["status"] == 401
    assert client.delete("/api/v1/tokens/99999999999", headers=bearer(theirs)).status_code == 404


def test_expired_token_is_refused(city, client, db):
    token = api_token(client, "13800000002")
    row = db.session.scalar(select(ApiToken))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get("/api/v1/me?lang=en", headers=bearer(token))
    assert response.status_code == 401
    assert "expired" in response.json["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_lifetime_is_a_setting(city, app, client, db):
    app.config["API_TOKEN_DAYS"] = 7
    body = client.post("/api/v1/tokens", json={"phone": "13800000002", "password": PASSWORD}).json
    db.session.rollback()
    row = db.session.get(ApiToken, body["id"])
    assert row.expires_at - row.created_at == timedelta(days=7)


def test_password_change_and_logout_end_tokens(city, app, client):
    token = api_token(client, "13800000002")
    browser = app.test_client()
    auth = AuthActions(browser)
    auth.login("13800000002")
    page = browser.get("/account/password")
    changed = browser.post("/account/password", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "current": PASSWORD,
        "new": "a brand new password", "confirm": "a brand new password"})
    assert changed.status_code == 302
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    again = api_token(client, "13800000002", password="a brand new password")
    assert client.get("/api/v1/me", headers=bearer(again)).status_code == 200
    auth.logout()  # logout ends every session of the account, tokens included
    assert client.get("/api/v1/me", headers=bearer(again)).status_code == 401


def test_deactivated_member_loses_tokens(city, client, db):
    token = api_token(client, "13800000002")
    db.session.rollback()
    city["member"].active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    refused = client.post("/api/v1/tokens", json={"phone": "13800000002", "password": PASSWORD})
    assert refused.status_code == 401


def test_token_creation_has_the_login_limits_and_audit(city, app, client, db):
    for _ in range(5):
        wrong = client.post("/api/v1/tokens", json={"phone": "13800000002", "password": "wrong password"})
        assert wrong.status_code == 401 and wrong.json["error"] == "手机号或密码不正确。"
    blocked = client.post("/api/v1/tokens", json={"phone": "13800000002", "password": PASSWORD})
    assert blocked.status_code == 429
    # The login page shares the same counter.
    assert AuthActions(app.test_client()).login("13800000002").status_code == 429
    db.session.rollback()
    failures = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
    assert len(failures) == 5 and all(f.target == "138****0002" for f in failures)
    assert db.session.scalar(select(ApiToken)) is None


def test_bad_token_requests_get_clear_errors(city, client):
    cases = [
        ({"data": "phone=1", "content_type": "application/x-www-form-urlencoded"}, None),
        ({"json": ["13800000002", PASSWORD]}, None),
        ({"json": {"phone": "13800000002"}}, "password"),
        ({"json": {"phone": 13800000002, "password": PASSWORD}}, "phone"),
        ({"json": {"phone": "13800000002", "password": PASSWORD, "name": "x" * 65}}, "name"),
        ({"json": {"phone": "13800000002", "password": PASSWORD, "scope": "all"}}, "scope"),
    ]
    for kwargs, field in cases:
        response = client.post("/api/v1/tokens", **kwargs)
        assert response.status_code == 400, kwargs
        assert response.json["error"] and response.json.get("field") == field, response.json


def test_malformed_authorization_header(city, client):
    for value in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer hf_nope"):
        response = client.get("/api/v1/me", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.json["status"] == 401
    assert client.get("/api/v1/me").status_code == 401


def test_initial_password_must_be_changed_first(city, client, db):
    city["member"].must_change_password = True
    db.session.commit()
    response = client.post("/api/v1/tokens", json={"phone": "13800000002", "password": PASSWORD})
    assert response.status_code == 403


def test_cookie_calls_need_csrf_bearer_calls_do_not(city, app, client):
    browser = app.test_client()
    AuthActions(browser).login("13800000002")
    one = api_token(client, "13800000002", name="one")
    two = api_token(client, "13800000002", name="two")
    ids = {t["name"]: t["id"] for t in browser.get("/api/v1/tokens").json["items"]}  # cookie GET: fine
    without = browser.delete(f"/api/v1/tokens/{ids['one']}")
    assert without.status_code == 400 and "CSRF" in without.json["error"]
    wrong = browser.delete(f"/api/v1/tokens/{ids['one']}", headers={"X-CSRFToken": "forged"})
    assert wrong.status_code == 400
    assert client.get("/api/v1/me", headers=bearer(one)).status_code == 200
    token = csrf_from(browser.get("/").get_data(as_text=True))
    assert browser.delete(f"/api/v1/tokens/{ids['one']}", headers={"X-CSRFToken": token}).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(one)).status_code == 401
    # A bearer call carries no ambient credential: no CSRF token needed.
    assert client.delete(f"/api/v1/tokens/{ids['two']}", headers=bearer(two)).status_code == 204
