"""One parametrized access matrix for every route: anonymous, member, secretary of the branch,
secretary of a sibling branch, secretary of the parent committee and administrator.

Every route the app registers must appear here (test_every_route_is_in_the_matrix), so each
later route joins the matrix.
"""
from __future__ import annotations

import pytest

from helpers import AuthActions, csrf_from
from learning.catalog.models import CourseStatus

ROLES = ("anonymous", "member", "secretary", "sibling", "committee", "admin")
PHONES = {"member": "13800000002", "secretary": "13800000001", "sibling": "13800000004",
          "committee": "13800000003", "admin": "13800000000"}
LOGIN = "login"  # redirected to the login page

# endpoint, method, url template, expected status per role (in ROLES order)
MATRIX = [
    ("auth.login", "GET", "/login", (200, 200, 200, 200, 200, 200)),
    ("auth.logout", "POST", "/logout", (LOGIN, 302, 302, 302, 302, 302)),
    ("auth.password", "GET", "/account/password", (LOGIN, 200, 200, 200, 200, 200)),
    ("study.home", "GET", "/", (LOGIN, 200, 200, 200, 200, 200)),
    ("study.complete", "POST", "/lessons/{text_lesson}/complete", (LOGIN, 302, 302, 302, 302, 302)),
    ("study.complete", "POST", "/lessons/{draft_lesson}/complete", (LOGIN, 404, 404, 404, 404, 302)),
    ("study.quiz", "POST", "/lessons/{quiz_lesson}/quiz", (LOGIN, 200, 200, 200, 200, 200)),
    ("catalog.index", "GET", "/courses", (LOGIN, 200, 200, 200, 200, 200)),
    ("catalog.course", "GET", "/courses/{course}", (LOGIN, 200, 200, 200, 200, 200)),
    ("catalog.course", "GET", "/courses/{draft}", (LOGIN, 404, 404, 404, 404, 200)),
    ("catalog.lesson", "GET", "/courses/{course}/lessons/01-text", (LOGIN, 200, 200, 200, 200, 200)),
    ("catalog.lesson", "GET", "/courses/{draft}/lessons/01-text", (LOGIN, 404, 404, 404, 404, 200)),
    ("catalog.media", "GET", "/courses/{course}/media/cover.png", (LOGIN, 200, 200, 200, 200, 200)),
    ("catalog.media", "GET", "/courses/{draft}/media/cover.png", (LOGIN, 404, 404, 404, 404, 200)),
    ("orgs.tree", "GET", "/orgs", (LOGIN, 403, 302, 302, 200, 200)),
    ("orgs.detail", "GET", "/orgs/CA-1", (LOGIN, 403, 200, 403, 200, 200)),
    ("orgs.detail", "GET", "/orgs/CA-2", (LOGIN, 403, 403, 200, 200, 200)),
    ("orgs.detail", "GET", "/orgs/CA", (LOGIN, 403, 403, 403, 200, 200)),
    ("orgs.detail", "GET", "/orgs/ROOT", (LOGIN, 403, 403, 403, 403, 200)),
    ("catalog.admin_index", "GET", "/admin/courses", (LOGIN, 403, 403, 403, 403, 200)),
    ("catalog.admin_upload", "POST", "/admin/courses/upload", (LOGIN, 403, 403, 403, 403, 400)),
    ("catalog.admin_status", "POST", "/admin/courses/{course}/status", (LOGIN, 403, 403, 403, 403, 400)),
    ("catalog.admin_edit", "GET", "/admin/courses/{course}/edit", (LOGIN, 403, 403, 403, 403, 200)),
    ("catalog.admin_edit", "POST", "/admin/courses/{course}/edit", (LOGIN, 403, 403, 403, 403, 400)),
    ("api.openapi", "GET", "/api/v1/openapi.json", (200, 200, 200, 200, 200, 200)),
    ("static", "GET", "/static/css/app.css", (200, 200, 200, 200, 200, 200)),
    ("pwa.service_worker", "GET", "/sw.js", (200, 200, 200, 200, 200, 200)),
    ("pwa.manifest", "GET", "/manifest.webmanifest", (200, 200, 200, 200, 200, 200)),
    ("pwa.offline", "GET", "/offline", (200, 200, 200, 200, 200, 200)),
    ("api.session_info", "GET", "/api/v1/session", (401, 200, 200, 200, 200, 200)),
    ("api.course_offline", "GET", "/api/v1/courses/{course}/offline", (401, 200, 200, 200, 200, 200)),
    ("api.course_offline", "GET", "/api/v1/courses/{draft}/offline", (401, 404, 404, 404, 404, 200)),
]


@pytest.fixture
def world(city, make_course, app, tmp_path):
    course = make_course()
    draft = make_course(title="草稿课程", status=CourseStatus.DRAFT)
    for c in (course, draft):
        c.media_dir = f"{c.slug}/v1"
        folder = tmp_path / "instance" / "courses" / c.media_dir / "media"
        folder.mkdir(parents=True)
        (folder / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    from learning.extensions import db

    db.session.commit()
    return {"course": course.slug, "draft": draft.slug, "text_lesson": course.lessons[0].id,
            "quiz_lesson": course.lessons[2].id, "draft_lesson": draft.lessons[0].id}


def _call(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    page = client.get("/login")  # every page carries the session's CSRF token
    return client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True)), "q0": "0", "q1": "1"})


@pytest.mark.parametrize("role_index, role", list(enumerate(ROLES)))
def test_access_matrix(app, world, role_index, role):
    failures = []
    for endpoint, method, template, expected in MATRIX:
        client = app.test_client()
        if role != "anonymous":
            assert AuthActions(client).login(PHONES[role]).status_code == 302
        url = template.format(**world)
        response = _call(client, method, url)
        response.close()  # file responses (static, media) hold an open file
        want = expected[role_index]
        if want == LOGIN:
            ok = response.status_code in (302, 401) and "/login" in response.headers.get("Location", "/login")
        else:
            ok = response.status_code == want
        if not ok:
            failures.append(f"{method} {url}: {response.status_code}, expected {want}")
    assert not failures, f"{role}: " + "; ".join(failures)


def test_every_route_is_in_the_matrix(app):
    covered = {endpoint for endpoint, *_ in MATRIX}
    missing = sorted({rule.endpoint for rule in app.url_map.iter_rules()} - covered)
    assert not missing, f"routes missing from the access matrix: {missing}"
