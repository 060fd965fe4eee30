"""No state change on GET: every GET route (walked from app.url_map, with the access matrix's
seeded world) leaves every table as it was, for every role, over the session cookie, a bearer
token and a remember-me cookie alone, and on a database nothing has been lazily seeded in yet.

Reading is safe to repeat, to prefetch and to follow from anywhere: a link on another site, a
crawler or a phone's link preview must never change what a member has read, studied or been
given. The exceptions are listed in ALLOWED, each with its reason.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from helpers import AuthActions, api_token, bearer
from learning.extensions import db
from route_walk import Call, walk
import test_access_matrix
from test_access_matrix import MATRIX, PHONES, ROLES

world = test_access_matrix.world  # the access matrix's seeded world, as a fixture here too


@dataclass(frozen=True)
class Allowed:
    tables: frozenset[str]
    reason: str
    idempotent: bool  # the same GET again must then change nothing at all


_EXPORT = Allowed(frozenset({"audit_event"}), idempotent=False, reason=(
    "an export of personal data is logged (PIPL; DESIGN.md §7: log every administrative read of a "
    "roster export). The audit row records that a read happened; it changes no resource the request "
    "names, and each export is a new read, so each one is logged"))
_PLAN = Allowed(frozenset({"learning_plan", "plan_item"}), idempotent=True, reason=(
    "the stored plan is a memo of what the member is shown, rebuilt only when what it derives from "
    "(completions, assignments, the model, the catalogue, the week) changed, and kept so that the "
    "next rebuild keeps planned courses in place (learning/plans/current.py). Its own short "
    "transaction writes the same plan whichever request builds it first; no member action, count or "
    "point depends on the GET, and a repeat of the GET writes nothing"))
ALLOWED = {
    "stats.export": _EXPORT,
    "redemption.export": _EXPORT,
    "study.home": _PLAN,
    "api.plan": _PLAN,
}


def fingerprint() -> dict[str, str]:
    """A digest of every row of every table (read outside the test's session)."""
    digests = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def changed_by(get, url: str) -> list[str]:
    before = fingerprint()
    get(url).close()
    after = fingerprint()
    return sorted(name for name in before if before[name] != after[name])


def check(get, calls) -> list[str]:
    problems = []
    before = fingerprint()
    for c in calls:
        get(c.url).close()
        after = fingerprint()  # and the next call's "before": nothing else runs in between
        changed = sorted(name for name in before if before[name] != after[name])
        before = after
        if not changed:
            continue
        allowed = ALLOWED.get(c.endpoint)
        if allowed is None or not set(changed) <= allowed.tables:
            problems.append(f"GET {c.url} ({c.endpoint}) changed {changed}")
        elif allowed.idempotent and (again := changed_by(get, c.url)):
            problems.append(f"GET {c.url} ({c.endpoint}) changed {again} again when repeated")
            before = fingerprint()
    return problems


@pytest.mark.parametrize("role", ROLES)
def test_no_get_changes_state(app, world, role):
    client = app.test_client()
    if role != "anonymous":
        assert AuthActions(client).login(PHONES[role]).status_code == 302
    problems = check(client.get, walk(app, world, {"GET"}))
    assert not problems, f"{role}:\n" + "\n".join(problems)


def test_no_api_get_changes_state_with_a_bearer_token(app, world):
    client = app.test_client()
    headers = bearer(api_token(client, PHONES["member"]))
    calls = [c for c in walk(app, world, {"GET"}) if c.url.startswith("/api/")]
    problems = check(lambda url: client.get(url, headers=headers), calls)
    assert not problems, "\n".join(problems)


def test_a_remembered_login_restored_on_get_changes_nothing(app, world):
    """A phone coming back after its session cookie expired is logged in again from the
    remember-me cookie by whatever GET it makes first."""
    client = app.test_client()
    assert AuthActions(client).login(PHONES["secretary"], remember=True).status_code == 302
    client.get("/")  # the plan memo (ALLOWED) is made by the first visit, not by the restore
    client.delete_cookie("session")
    assert client.get_cookie("remember_token") is not None
    calls = [c for c in walk(app, world, {"GET"}) if c.endpoint in ("study.home", "api.me", "catalog.index")]
    problems = check(client.get, calls)
    assert not problems, "\n".join(problems)
    home = client.get("/")
    assert home.status_code == 200 and 'action="/logout"' in home.get_data(as_text=True)  # logged in again


def test_no_get_seeds_anything_on_a_fresh_database(app, city, make_course):
    """Nothing is seeded lazily on a read: a database with only people and a course (the app
    fixture adds what the migrations seed) stays as it is under every GET without parameters."""
    make_course()
    fixed = [Call(endpoint, "GET", url, url) for endpoint, method, url, _expected in MATRIX
             if method == "GET" and "{" not in url]
    problems = []
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            assert AuthActions(client).login(PHONES[role]).status_code == 302
        problems += [f"{role}: {problem}" for problem in check(client.get, fixed)]
    assert not problems, "\n".join(problems)


def test_the_walk_notices_a_write(app, world):
    """The fingerprint sees a change a GET would make (so a green run means something)."""
    from learning.community.models import Discussion

    def writing_get(url: str):
        db.session.add(Discussion(kind="board", board_key="extra"))
        db.session.commit()
        return app.test_client().get(url)

    assert changed_by(writing_get, "/login") == ["discussion"]


def test_forum_reads_create_no_discussion(app, city, make_course):
    """The forum used to create its boards and a course's discussion on first view. Now they
    exist before anyone reads (migration 5c1d0a3e9b27, catalog import); a read that finds one
    missing creates nothing: 404 for the course, no board listed."""
    from sqlalchemy import delete

    from learning.community.models import Discussion
    from helpers import finish_lesson
    from learning.timeutil import utcnow

    course = make_course()
    finish_lesson(city["member"], course.lessons[0], utcnow())
    db.session.execute(delete(Discussion))
    db.session.commit()
    client = app.test_client()
    assert AuthActions(client).login(PHONES["member"]).status_code == 302
    assert changed_by(client.get, "/forum") == []
    assert changed_by(client.get, f"/courses/{course.slug}/discussion") == []
    assert client.get(f"/courses/{course.slug}/discussion").status_code == 404
    assert changed_by(client.get, "/api/v1/discussions") == []
    assert client.get("/api/v1/discussions").json["items"] == []


def test_an_imported_course_opens_its_discussion(app, city):
    from content import validate_path
    from learning.catalog.operations import import_package
    from learning.catalog.storage import course_store
    from learning.community.queries import course_discussion
    from learning.demo import LIBRARY

    folder = sorted(p for p in LIBRARY.iterdir() if (p / "course.toml").is_file())[0]
    pkg, problems = validate_path(str(folder))
    assert not problems
    with pkg:
        course = import_package(pkg, store_root=course_store(), actor=None, publish=True)
    db.session.commit()
    assert course_discussion(course) is not None
    client = app.test_client()
    assert AuthActions(client).login(PHONES["member"]).status_code == 302
    assert client.get(f"/courses/{course.slug}/discussion").status_code == 302


def test_the_migration_opens_missing_discussions(fresh_url, tmp_path):
    """Databases made before reads stopped creating rows: boards and every course's discussion
    are added by the upgrade, once."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from learning import create_app

    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": fresh_url,
                      "SECRET_KEY": "test"})
    with app.app_context():
        upgrade(revision="9ee258e269da")
        with db.engine.begin() as conn:
            for slug in ("a", "b"):
                conn.execute(text(
                    "INSERT INTO course (slug, version, title, summary, category, hours, audience, tags, status, "
                    "prerequisites, allowed_kinds, created_at) VALUES (:slug, '1', 'T', '', '安全', 1, '[]', '[]', "
                    "'published', '[]', '[]', CURRENT_TIMESTAMP)"), {"slug": slug})
            conn.execute(text("INSERT INTO discussion (kind, board_key, created_at) "
                              "VALUES ('board', 'study', CURRENT_TIMESTAMP)"))
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT kind, board_key, course_id FROM discussion ORDER BY id")).all()
        db.engine.dispose()
    courses = [r.course_id for r in rows if r.kind == "course"]
    assert sorted(r.board_key for r in rows if r.kind == "board") == ["experience", "service", "study"]
    assert len(courses) == 2 and len(set(courses)) == 2


def test_an_audited_export_waits_for_a_concurrent_writer(app, city):
    """An export (a GET) logs the read in a write transaction of its own. Written at the end of
    the GET's read transaction instead, it failed with "database is locked" (a 500) whenever
    another request committed meanwhile: the wapiti scan of the demo hit it 60 times."""
    import sqlite3
    import threading

    from learning.audit.models import AuditEvent

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's single writer: PostgreSQL has row locks and no such failure")
    client = app.test_client()
    assert AuthActions(client).login(PHONES["secretary"]).status_code == 302
    writer = sqlite3.connect(db.engine.url.database, isolation_level=None, check_same_thread=False)
    writer.execute("PRAGMA busy_timeout = 15000")
    writer.execute("BEGIN IMMEDIATE")  # another request in the middle of its write
    writer.execute("UPDATE member SET name = name WHERE id = ?", (city["member"].id,))
    commit = threading.Timer(1.0, lambda: writer.execute("COMMIT"))
    commit.start()
    try:
        response = client.get("/orgs/CA-1/dashboard/export?table=members&format=csv")
    finally:
        commit.join()
        writer.close()
    assert response.status_code == 200, response.status_code
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "stats_exported")) is not None
