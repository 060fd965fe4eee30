"""Operations: /healthz, the structured request log (and what it must never contain), proxy
trust only when configured, and the read-replica session for dashboards."""
from __future__ import annotations

import json
import os
import re
import sqlite3

import pytest
from flask import jsonify
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError

from helpers import PASSWORD, AuthActions, api_token, bearer, csrf_from
from learning import create_app
from learning.database import engines, has_replica, read_session
from learning.extensions import db as _db
from learning.netutil import client_address
from learning.orgs.models import Member, Organization, OrgKind
from learning.orgs.operations import create_org

PG_URL = os.environ.get("HONGFAN_TEST_DATABASE_URL")


def _log_lines(text_: str, logger: str | None = None) -> list[dict]:
    lines = []
    for raw in text_.splitlines():
        raw = raw.strip()
        if raw.startswith("{"):
            line = json.loads(raw)
            if logger is None or line.get("logger") == logger:
                lines.append(line)
    return lines


@pytest.fixture
def sqlite_app(tmp_path, monkeypatch):
    """An app on its own SQLite file, with extra settings (these tests are about the app
    around the database, not the database)."""
    for name in list(os.environ):
        if name.startswith("HONGFAN_") and name != "HONGFAN_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    made = []

    def make(**config):
        app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / f"instance{len(made)}"),
                          "DATABASE_URL": config.pop("DATABASE_URL", f"sqlite:///{tmp_path / f'db{len(made)}.sqlite3'}"),
                          "SECRET_KEY": "test-secret-not-for-production", **config})
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            for engine in engines():
                engine.dispose()


# --- /healthz ----------------------------------------------------------------------------------

def test_healthz_reports_ok_version_and_no_personal_data(client, city):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["checks"] == {"database": "ok"}
    assert re.fullmatch(r"\d+\.\d+\.\d+.*|unknown", body["version"])
    assert set(body) == {"status", "version", "checks"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    raw = response.get_data(as_text=True)
    assert city["member"].phone not in raw and city["member"].name not in raw


def test_healthz_is_503_when_the_database_does_not_answer(sqlite_app, tmp_path, capsys):
    app = sqlite_app(DATABASE_URL=f"sqlite:///{tmp_path / 'no-such-dir' / 'x.sqlite3'}")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"
    assert response.get_json()["checks"] == {"database": "unavailable"}
    assert "no-such-dir" not in response.get_data(as_text=True)  # details go to the log only
    warnings = [line for line in _log_lines(capsys.readouterr().err) if line["level"] == "WARNING"]
    assert warnings and "OperationalError" in warnings[0]["exception"]


# --- request log ------------------------------------------------------------------------------

def test_one_json_line_per_request_with_a_request_id(client, city, capsys):
    capsys.readouterr()
    response = client.get("/login")
    lines = _log_lines(capsys.readouterr().err, "learning.request")
    assert len(lines) == 1
    line = lines[0]
    assert (line["method"], line["path"], line["status"], line["member_id"]) == ("GET", "/login", 200, None)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
    assert response.headers["X-Request-ID"] == line["request_id"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])


def test_a_sane_x_request_id_is_kept_and_a_forged_one_replaced(client, capsys):
    capsys.readouterr()
    kept = client.get("/login", headers={"X-Request-ID": "nginx-1f2e3d"})
    forged = client.get("/login", headers={"X-Request-ID": 'x" injected\tline ' + "a" * 200})
    lines = _log_lines(capsys.readouterr().err, "learning.request")
    assert kept.headers["X-Request-ID"] == "nginx-1f2e3d" == lines[0]["request_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-ID"])
    assert lines[1]["request_id"] == forged.headers["X-Request-ID"]


def test_member_id_is_logged_for_session_and_bearer_requests(client, city, capsys):
    assert AuthActions(client).login(city["member"].phone).status_code == 302
    token = api_token(client.application.test_client(), city["secretary"].phone)
    capsys.readouterr()
    client.get("/")
    client.application.test_client().get("/api/v1/me", headers=bearer(token))
    lines = _log_lines(capsys.readouterr().err, "learning.request")
    assert [(line["path"], line["member_id"]) for line in lines] == [
        ("/", city["member"].id), ("/api/v1/me", city["secretary"].id)]


def test_no_passwords_tokens_phones_or_codes_in_the_log(app, client, city, capsys):
    """Everything a member types or receives that is a secret or personal, sent through the
    routes that handle it, and then searched for in everything the app logged."""
    phone, secretary = city["member"].phone, city["secretary"].phone
    capsys.readouterr()
    auth = AuthActions(client)
    auth.login(phone, "wrong-password-Zx81")                      # a failed login
    auth.login(phone)                                             # a successful one
    secret = api_token(app.test_client(), secretary)              # a bearer token is issued …
    app.test_client().get("/api/v1/me", headers=bearer(secret))   # … and used
    app.test_client().get("/join/Inv1tat10nTok3nSecret")          # an invitation link
    page = client.get("/points")
    client.post("/points/code", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    admin = app.test_client()
    AuthActions(admin).login(city["admin"].phone)
    admin.get(f"/admin/members?q={phone}")                        # a search for a phone number
    admin.get("/stations/1/redeem?code=RedeemC0de9876")           # a redemption code in the query
    activation = app.test_client()
    page = activation.get("/activate")
    activation.post("/activate", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "phone": "13912345678",
                                       "code": "ACT1VAT10N", "new": "new-password-Qw12", "confirm": "new-password-Qw12"})
    logged = capsys.readouterr().err
    lines = _log_lines(logged, "learning.request")
    assert len(lines) >= 12 and {line["path"] for line in lines} >= {"/login", "/join/<token>", "/admin/members"}
    for leaked in (phone, secretary, "13912345678", PASSWORD, "wrong-password-Zx81", secret, secret[-12:],
                   "Inv1tat10nTok3nSecret", "RedeemC0de9876", "ACT1VAT10N", "new-password-Qw12"):
        assert leaked not in logged, f"{leaked!r} appears in the log"


def test_errors_are_logged_with_traceback_request_id_and_no_sql_parameters(app, client, city, capsys):
    phone = city["member"].phone

    @app.get("/_test/boom")
    def _boom():  # a unique-phone violation: its SQL parameters name a phone number
        _db.session.execute(insert(Member.__table__).values(
            name="重复", phone=phone, password_hash="$argon2id$secret-hash-value", home_org_id=city["a1"].id,
            birth_year=1990, occupation="外卖骑手", member_kind="full", active=True))
        return "unreachable"

    capsys.readouterr()
    response = client.get("/_test/boom")
    assert response.status_code == 500
    logged = capsys.readouterr().err
    errors = [line for line in _log_lines(logged) if line["level"] == "ERROR"]
    unhandled = next(line for line in errors if line["logger"] == "learning")
    assert "IntegrityError" in unhandled["exception"] and "Traceback" in unhandled["exception"]
    assert unhandled["request_id"] == response.headers["X-Request-ID"]
    request_line = next(line for line in errors if line["logger"] == "learning.request")
    assert request_line["status"] == 500 and request_line["path"] == "/_test/boom"
    assert phone not in logged and "secret-hash-value" not in logged


def test_text_format_and_bad_settings(sqlite_app, capsys):
    app = sqlite_app(LOG_FORMAT="text")
    capsys.readouterr()
    response = app.test_client().get("/healthz?x=13800000000")
    err = capsys.readouterr().err
    assert "GET /healthz 200 method=GET path=/healthz status=200" not in err  # healthz is DEBUG …
    app.test_client().get("/login")
    err = capsys.readouterr().err
    assert re.search(r"Z INFO learning\.request GET /login 200 .*status=200 .*request_id=[0-9a-f]{32}", err)
    assert response.status_code == 200
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        sqlite_app(LOG_FORMAT="xml")
    with pytest.raises(ValueError, match="LOG_LEVEL"):
        sqlite_app(LOG_LEVEL="LOUD")


def test_request_lines_can_be_turned_off_but_errors_stay(sqlite_app, capsys):
    app = sqlite_app(LOG_REQUESTS=False, LOG_LEVEL="DEBUG")
    capsys.readouterr()
    app.test_client().get("/login")
    app.test_client().get("/healthz")
    assert _log_lines(capsys.readouterr().err, "learning.request") == []


# --- proxy headers ----------------------------------------------------------------------------

def _echo(app):
    @app.get("/_test/client")
    def _client():
        from flask import request

        return jsonify(address=client_address(), scheme=request.scheme, host=request.host)


HEADERS = {"X-Forwarded-For": "203.0.113.7, 198.51.100.2", "X-Forwarded-Proto": "https",
           "X-Forwarded-Host": "xuexi.example.cn"}


def test_proxy_headers_are_ignored_unless_configured(sqlite_app):
    app = sqlite_app()
    _echo(app)
    response = app.test_client().get("/_test/client", headers=HEADERS, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert response.get_json() == {"address": "192.0.2.1", "scheme": "http", "host": "localhost"}
    assert "Strict-Transport-Security" not in response.headers


def test_trusted_proxies_take_the_client_and_scheme_from_that_many_hops(sqlite_app):
    app = sqlite_app(TRUSTED_PROXIES=1)
    _echo(app)
    response = app.test_client().get("/_test/client", headers=HEADERS, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    # one trusted proxy: its own X-Forwarded-For entry (the last) is the client it saw
    assert response.get_json() == {"address": "198.51.100.2", "scheme": "https", "host": "xuexi.example.cn"}
    assert "Strict-Transport-Security" in response.headers  # served over https, as the proxy says
    two = sqlite_app(TRUSTED_PROXIES=2)
    _echo(two)
    response = two.test_client().get("/_test/client", headers=HEADERS, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.get_json()["address"] == "203.0.113.7"


def test_failed_login_limit_per_address_follows_the_real_client(sqlite_app):
    """Behind one trusted proxy, two phones behind it are two addresses for the login limit."""
    app = sqlite_app(TRUSTED_PROXIES=1, LOGIN_LIMIT_PER_ADDRESS=2, LOGIN_LIMIT_PER_ACCOUNT=100)
    with app.app_context():
        _db.create_all()
    client = app.test_client()

    def attempt(address: str) -> int:
        page = client.get("/login")
        return client.post("/login", headers={"X-Forwarded-For": address}, data={
            "csrf_token": csrf_from(page.get_data(as_text=True)), "phone": "13900000000", "password": "nope"}).status_code

    assert [attempt("203.0.113.1") for _ in range(3)][-1] == 429
    assert attempt("203.0.113.2") != 429


# --- read replica -----------------------------------------------------------------------------

def _two_orgs(app) -> None:
    with app.app_context():
        _db.create_all()
        create_org(code="R1", name="第一", kind=OrgKind.COMMITTEE, parent=None)
        _db.session.commit()


def test_without_a_replica_read_session_is_the_primary_session(sqlite_app):
    app = sqlite_app()
    with app.app_context():
        assert not has_replica() and read_session() is _db.session()


def test_sqlite_replica_serves_reads_and_refuses_writes(sqlite_app, tmp_path):
    primary = tmp_path / "primary.sqlite3"
    replica = tmp_path / "replica.sqlite3"
    first = sqlite_app(DATABASE_URL=f"sqlite:///{primary}")
    _two_orgs(first)
    source, copy = sqlite3.connect(primary), sqlite3.connect(replica)
    source.backup(copy)  # the replica: the primary as it was
    source.close(), copy.close()
    app = sqlite_app(DATABASE_URL=f"sqlite:///{primary}", REPLICA_DATABASE_URL=f"sqlite:///{replica}")
    with app.app_context():
        root = _db.session.scalar(select(Organization))
        create_org(code="R2", name="第二", kind=OrgKind.BRANCH, parent=root)
        _db.session.commit()
        assert has_replica()
        count = select(func.count()).select_from(Organization)
        assert _db.session.scalar(count) == 2
        assert read_session().scalar(count) == 1  # the replica has not seen the new branch yet
        assert read_session() is read_session()  # one session per app context
        with pytest.raises(DBAPIError, match="readonly|read-only|query_only"):
            read_session().execute(text("DELETE FROM organization"))
        read_session().rollback()
    with app.app_context():
        assert read_session() is not _db.session()
    assert app.test_client().get("/healthz").get_json()["checks"] == {"database": "ok", "replica": "ok"}


def test_a_replica_leaves_other_apps_in_the_process_alone(sqlite_app, tmp_path):
    sqlite_app(REPLICA_DATABASE_URL=f"sqlite:///{tmp_path / 'r.sqlite3'}")
    other = sqlite_app()
    with other.app_context():
        _db.create_all()  # would look for the replica's bind if the replica were one
        _db.drop_all()


def test_a_replica_that_does_not_answer_is_degraded_not_down(sqlite_app, tmp_path):
    app = sqlite_app(REPLICA_DATABASE_URL=f"sqlite:///{tmp_path / 'gone' / 'replica.sqlite3'}")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "degraded"
    assert response.get_json()["checks"] == {"database": "ok", "replica": "unavailable"}


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL replica settings need HONGFAN_TEST_DATABASE_URL")
def test_postgresql_replica_transactions_are_read_only(app, city):
    """Pointed at the primary itself (no standby here), the replica bind still cannot write."""
    replicated = create_app({"TESTING": True, "INSTANCE_PATH": app.instance_path, "DATABASE_URL": PG_URL,
                             "REPLICA_DATABASE_URL": PG_URL, "SECRET_KEY": "test-secret-not-for-production"})
    with replicated.app_context():
        try:
            assert read_session().scalar(select(func.count()).select_from(Member)) == 6
            with pytest.raises(DBAPIError, match="read-only"):
                read_session().execute(text("DELETE FROM api_token"))
            read_session().rollback()
        finally:
            read_session().close()
            for engine in engines():
                engine.dispose()


def test_the_formatters_scrub_phone_numbers_and_postgresql_row_details():
    import logging

    from learning.ops.logs import JsonFormatter, TextFormatter

    detail = "new row violates check constraint\nDETAIL:  Failing row contains (7, 小王, 13912345678, $argon2id$x)"
    try:
        raise RuntimeError(detail)  # (the traceback quotes this line, not the value)
    except RuntimeError:
        import sys

        record = logging.LogRecord("learning", logging.ERROR, __file__, 1, "member %s failed", ("13912345678",),
                                   sys.exc_info())
    for formatter in (JsonFormatter(), TextFormatter()):
        out = formatter.format(record)
        assert "13912345678" not in out and "$argon2id$x" not in out and "小王" not in out
        assert "[phone]" in out and "RuntimeError" in out and "values not logged" in out
    assert "request_id" not in JsonFormatter().format(record)  # outside a request there is none
    # a number that is not a mobile number stays (ids, durations, years)
    plain = logging.LogRecord("learning", logging.INFO, __file__, 1, "org 12345678901234 year 2025", (), None)
    assert "12345678901234" in JsonFormatter().format(plain)


def test_dashboards_read_the_replica(sqlite_app, tmp_path):
    """Statistics come from the replica when one is configured: here a copy that has not seen
    the members added since (a replica lagging the primary)."""
    from datetime import date

    from learning.auth.passwords import hash_password
    from learning.orgs.models import Role
    from learning.orgs.operations import create_member, grant_role

    primary, replica = tmp_path / "primary.sqlite3", tmp_path / "replica.sqlite3"
    first = sqlite_app(DATABASE_URL=f"sqlite:///{primary}")
    with first.app_context():
        _db.create_all()
        root = create_org(code="R1", name="第一", kind=OrgKind.COMMITTEE, parent=None)
        admin = create_member(name="管理员", phone="13800000000", home_org=root, password_hash=hash_password("hongfan1"),
                              birth_year=1980, occupation="其他", member_kind="full", joined_at=date(2010, 7, 1),
                              since=date(2020, 1, 1))
        grant_role(member=admin, org=root, role=Role.ACADEMY_ADMIN, actor=None)
        _db.session.commit()
    source, copy = sqlite3.connect(primary), sqlite3.connect(replica)
    source.backup(copy)
    source.close(), copy.close()

    app = sqlite_app(DATABASE_URL=f"sqlite:///{primary}", REPLICA_DATABASE_URL=f"sqlite:///{replica}")
    with app.app_context():
        root = _db.session.scalar(select(Organization).where(Organization.code == "R1"))
        for n in range(3):
            create_member(name=f"新党员{n}", phone=f"1390000000{n}", home_org=root, password_hash=None,
                          birth_year=1990, occupation="外卖骑手", member_kind="full", joined_at=date(2015, 7, 1),
                          since=date(2020, 1, 1))
        _db.session.commit()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"csrf_token": csrf_from(page), "phone": "13800000000",
                                       "password": "hongfan1"}).status_code == 302
    stats = client.get("/api/v1/orgs/R1/stats").get_json()
    assert stats["members"] == 1  # the replica's count; the primary has 4
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Member)) == 4
