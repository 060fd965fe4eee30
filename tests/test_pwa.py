"""The installable web app: fingerprinted static files, compression, service worker, manifest,
the offline package of a course and the session check the phone's outbox makes."""
from __future__ import annotations

import re

from learning.extensions import db


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_static_names_carry_a_content_hash_and_live_a_year(client, app):
    html = client.get("/login").get_data(as_text=True)
    css = next(u for u in _assets(html) if u.endswith(".css"))
    assert re.fullmatch(r"/static/css/app\.[0-9a-f]{10}\.css", css)
    response = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert response.cache_control.max_age == 31536000 and response.cache_control.immutable
    response.close()
    plain = client.get("/static/css/app.css")
    assert plain.cache_control.max_age == 300 and not plain.cache_control.immutable
    plain.close()
    # a name with another hash is not a file
    assert client.get(css.replace(css.split(".")[-2], "0000000000")).status_code == 404


def test_hash_changes_with_the_content(app, tmp_path):
    from learning.pwa.assets import Fingerprints

    (tmp_path / "a.css").write_text("x")
    prints = Fingerprints(tmp_path)
    before = prints.url_name("a.css")
    (tmp_path / "a.css").write_text("y")
    prints.refresh()
    assert before != prints.url_name("a.css") and prints.original[prints.url_name("a.css")] == "a.css"


def test_pages_are_compressed(client):
    response = client.get("/login", headers={"Accept-Encoding": "br, gzip"})
    assert response.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in response.headers["Vary"]


def test_service_worker_controls_the_whole_site(client):
    response = client.get("/sw.js")
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    shell = re.search(r"const SHELL = (\[.*\]);", body).group(1)
    assert '"/offline"' in shell and re.search(r"/static/css/app\.[0-9a-f]{10}\.css", shell)
    for url in re.findall(r'"(/static/[^"]+)"', shell):
        asset = client.get(url)
        assert asset.status_code == 200, url
        asset.close()


def test_manifest_names_existing_icons(client):
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    data = manifest.get_json(force=True)
    assert data["display"] == "standalone" and data["start_url"] == "/"
    sizes = {icon["sizes"] for icon in data["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in data["icons"]:
        response = client.get(icon["src"])
        assert response.status_code == 200 and response.mimetype == icon["type"]
        response.close()


def test_session_check_gives_a_fresh_csrf_token(client, city, auth):
    assert client.get("/api/v1/session").status_code == 401
    auth.login("13800000002")
    data = client.get("/api/v1/session").get_json()
    assert data["member_id"] == city["member"].id and data["csrf_token"]


def test_offline_package_lists_pages_and_media_with_sizes(client, city, auth, make_course, app, tmp_path):
    course = make_course(lessons=("text", "video", "quiz"))
    course.media_dir = f"{course.slug}/v1"
    course.lessons[1].media = "talk.mp4"
    folder = tmp_path / "instance" / "courses" / course.media_dir / "media"
    folder.mkdir(parents=True)
    (folder / "talk.mp4").write_bytes(b"\0" * 12345)
    db.session.commit()
    auth.login("13800000002")
    data = client.get(f"/api/v1/courses/{course.slug}/offline").get_json()
    assert data["pages"] == [f"/courses/{course.slug}"] + [
        f"/courses/{course.slug}/lessons/{lesson.slug}" for lesson in course.lessons]
    assert data["media"] == [{"url": f"/courses/{course.slug}/media/talk.mp4", "bytes": 12345,
                              "lesson_id": course.lessons[1].id}]
    assert data["media_bytes"] == 12345
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert 'data-media-bytes="12345"' in page
    assert client.get("/api/v1/courses/no-such-course/offline").status_code == 404


def test_lesson_page_carries_the_saved_position(client, city, auth, make_course):
    from learning.study.models import LessonProgress

    course = make_course(lessons=("text",))
    db.session.add(LessonProgress(member_id=city["member"].id, lesson_id=course.lessons[0].id,
                                  progress=0.4, position=0.37, time_spent_s=50))
    db.session.commit()
    auth.login("13800000002")
    html = client.get(f"/courses/{course.slug}/lessons/{course.lessons[0].slug}").get_data(as_text=True)
    assert 'data-position="0.37"' in html and 'data-time-spent="50"' in html
    assert '<meta name="csrf-token"' in html and f'<meta name="hf-member" content="{city["member"].id}"' in html


def test_openapi_describes_the_phone_routes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/session"] and "get" in paths["/courses/{slug}/offline"]
