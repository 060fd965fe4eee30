"""Shared fixtures (flaskr/indico style): app, client, db and factories.

SQLite by default (a fresh file per test); PostgreSQL when HONGFAN_TEST_DATABASE_URL is set (the
schema is created once per run and every table is emptied after each test).
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.serving import make_server

from helpers import CHROMIUM, CHROMIUM_ARGS, PASSWORD, AuthActions, empty_database
from learning import create_app
from learning.auth.passwords import hash_password
from learning.catalog.models import Course, CourseStatus, Lesson
from learning.community.operations import ensure_course_discussion
from learning.database import engines
from learning.extensions import db as _db
from learning.orgs.models import Member, Organization, OrgKind, Role
from learning.orgs.operations import create_member, create_org, grant_role

PG_URL = os.environ.get("HONGFAN_TEST_DATABASE_URL")
_schema_ready = False


class IsolatedClient(FlaskClient):
    """Runs every request in its own thread, as a real server would: the request gets its own
    app context, database session and `g`, instead of sharing the test body's."""

    def open(self, *args, **kwargs):
        outcome: dict[str, object] = {}

        def run() -> None:
            try:
                outcome["response"] = super(IsolatedClient, self).open(*args, **kwargs)
            except BaseException as error:  # re-raised in the test's thread
                outcome["error"] = error

        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        return outcome["response"]


@pytest.fixture
def app(tmp_path, monkeypatch) -> Iterator[Flask]:
    global _schema_ready
    for name in list(os.environ):
        if name.startswith("HONGFAN_") and name != "HONGFAN_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    url = PG_URL or f"sqlite:///{tmp_path / 'test.sqlite3'}"
    app = create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-not-for-production",
    })
    app.test_client_class = IsolatedClient
    with app.app_context():
        if not PG_URL or not _schema_ready:
            if PG_URL:
                _db.drop_all()
            _db.create_all()
            _schema_ready = True
        # what the migrations seed (boards); a course's discussion comes with make_course
        from learning.community.operations import ensure_boards
        from learning.pagecache import ensure_epoch

        ensure_boards()
        ensure_epoch()
        _db.session.commit()
        yield app
        _db.session.remove()
        if PG_URL:
            tables = ", ".join(t.name for t in _db.metadata.sorted_tables)
            with _db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        for engine in engines():
            engine.dispose()


@pytest.fixture
def fresh_url(tmp_path):
    """An empty database of its own (no schema): for migrations and the demo command."""
    with empty_database(tmp_path, "migrated") as url:
        yield url


@pytest.fixture
def empty_app(fresh_url, tmp_path) -> Iterator[Flask]:
    """An app on an empty database (nothing created): what `hongfan demo` meets on a new machine."""
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": fresh_url,
                      "SECRET_KEY": "test-secret-not-for-production"})
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        _db.session.remove()
        for engine in engines():
            engine.dispose()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_hash_cache: dict[str, str] = {}


@pytest.fixture
def make_org(app) -> Callable[..., Organization]:
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, *, parent: Organization | None = None,
             kind: str = OrgKind.BRANCH, code: str | None = None) -> Organization:
        n = next(counter)
        org = create_org(code=code or f"T{n:04d}", name=name or f"测试党支部{n}", kind=kind, parent=parent)
        _db.session.commit()
        return org

    return make


@pytest.fixture
def make_member(app) -> Callable[..., Member]:
    counter = iter(range(1, 10_000))

    def make(org: Organization, *, name: str | None = None, phone: str | None = None,
             password: str = PASSWORD, occupation: str = "外卖骑手", birth_year: int = 1990,
             role: str | None = None, role_org: Organization | None = None, kind: str = "full") -> Member:
        n = next(counter)
        if password not in _hash_cache:
            _hash_cache[password] = hash_password(password)
        member = create_member(name=name or f"党员{n}", phone=phone or f"139{n:08d}", home_org=org,
                               password_hash=_hash_cache[password], birth_year=birth_year,
                               occupation=occupation, member_kind=kind,
                               joined_at=date(2015, 7, 1) if kind in ("full", "probationary") else None,
                               since=date(2020, 1, 1))
        if role:
            grant_role(member=member, org=role_org or org, role=role, actor=None)
        _db.session.commit()
        return member

    return make


@pytest.fixture
def make_course(app) -> Callable[..., Course]:
    counter = iter(range(1, 10_000))

    def make(*, title: str = "道路交通安全", category: str = "安全", hours: float = 1.5,
             lessons: tuple[str, ...] = ("text", "text", "quiz"), status: str = CourseStatus.PUBLISHED,
             audience: tuple[str, ...] = (), prerequisites: tuple[str, ...] = ()) -> Course:
        n = next(counter)
        course = Course(slug=f"course-{n}", version="1.0.0", title=title, summary=f"{title}的要点。",
                        category=category, hours=hours, audience=list(audience), tags=[], status=status,
                        prerequisites=list(prerequisites))
        for position, kind in enumerate(lessons, start=1):
            course.lessons.append(Lesson(
                slug=f"{position:02d}-{kind}", position=position, title=f"第{position}课", kind=kind,
                body_html=f"<p>第{position}课的正文。</p>", duration_s=300, min_dwell_s=120,
                pass_score=60 if kind == "quiz" else None, digest=f"{n}-{position}",
                questions=[{"kind": "single", "prompt": "骑车时应当？", "options": ["戴头盔", "看手机"],
                            "answer": [0], "explanation": "安全第一。"},
                           {"kind": "truefalse", "prompt": "可以闯红灯。", "options": ["正确", "错误"],
                            "answer": [1], "explanation": "不可以。"}] if kind == "quiz" else [],
            ))
        _db.session.add(course)
        _db.session.flush()
        ensure_course_discussion(course)  # as importing a package does
        _db.session.commit()
        return course

    return make


@pytest.fixture
def city(make_org, make_member):
    """A small tree for authorization tests:
    root (admin) → committee A (secretary) → branch A1 (secretary, member), branch A2 (secretary, member)."""
    root = make_org("市两新工委", kind=OrgKind.COMMITTEE, code="ROOT")
    committee = make_org("外卖行业党委", parent=root, kind=OrgKind.COMMITTEE, code="CA")
    a1 = make_org("骑手之家党支部", parent=committee, code="CA-1")
    a2 = make_org("城南配送站党支部", parent=committee, code="CA-2")
    people = {
        "admin": make_member(root, name="管理员", phone="13800000000", role=Role.ACADEMY_ADMIN),
        "committee": make_member(committee, name="工委书记", phone="13800000003", role=Role.SECRETARY),
        "secretary": make_member(a1, name="支部书记", phone="13800000001", role=Role.SECRETARY),
        "sibling": make_member(a2, name="邻支部书记", phone="13800000004", role=Role.SECRETARY),
        "member": make_member(a1, name="骑手小王", phone="13800000002"),
        "other": make_member(a2, name="骑手小李", phone="13800000005"),
    }
    return {"root": root, "committee": committee, "a1": a1, "a2": a2, **people}


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


# --- browser tests: Playwright driving Debian's Chromium, headless, a 390×844 phone ----------

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (Debian package 'chromium'); browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS))
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot():
    def take(page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
