"""An administrator uploads course packages in the browser's form, sees problems, publishes."""
from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

from sqlalchemy import select

import content
from helpers import AuthActions, csrf_from
from learning.audit.models import AuditEvent
from learning.catalog.models import Course, CourseStatus
from learning.extensions import db

LIBRARY = Path(content.__file__).resolve().parent / "library"


def _admin(app, city):
    client = app.test_client()
    AuthActions(client).login("13800000000")
    return client, csrf_from(client.get("/admin/courses").get_data(as_text=True))


def _zip_of(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def test_upload_a_valid_package_then_publish(app, city):
    client, token = _admin(app, city)
    response = client.post("/admin/courses/upload", content_type="multipart/form-data", data={
        "csrf_token": token, "package": (io.BytesIO(_zip_of(LIBRARY / "anti-fraud")), "anti-fraud.zip")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/courses/anti-fraud")
    db.session.rollback()
    course = db.session.scalar(select(Course).where(Course.slug == "anti-fraud"))
    assert course.status == CourseStatus.DRAFT
    # a member does not see a draft
    member = app.test_client()
    AuthActions(member).login("13800000002")
    assert member.get("/courses/anti-fraud").status_code == 404

    assert client.post("/admin/courses/anti-fraud/status",
                       data={"csrf_token": token, "status": "published"}).status_code == 302
    assert member.get("/courses/anti-fraud").status_code == 200
    db.session.rollback()
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.target == "course:anti-fraud")))
    assert actions == {"course_imported", "course_status"}


def test_upload_of_a_broken_package_shows_every_problem_and_creates_nothing(app, city, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(LIBRARY / "privacy", broken)
    toml = broken / "course.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("hours = ", "hours = -").replace(
        'category = "政策法规"', 'category = "娱乐"'), encoding="utf-8")
    client, token = _admin(app, city)
    response = client.post("/admin/courses/upload", content_type="multipart/form-data", data={
        "csrf_token": token, "package": (io.BytesIO(_zip_of(broken)), "broken.zip")})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "课程包有问题" in page and page.count("course.toml") >= 2
    db.session.rollback()
    assert db.session.scalar(select(Course).where(Course.slug == "privacy")) is None
    assert not (Path(app.instance_path) / "courses" / "privacy").exists()


def test_upload_that_is_not_a_zip_is_refused_in_the_users_language(app, city):
    client, token = _admin(app, city)
    response = client.post("/admin/courses/upload?lang=en", content_type="multipart/form-data", data={
        "csrf_token": token, "package": (io.BytesIO(b"<html><script>alert(1)</script>"), "evil.zip")})
    assert response.status_code == 400
    assert "<script>alert(1)" not in response.get_data(as_text=True)


def test_edit_course_metadata(app, city, make_course):
    course = make_course(title="旧名称", hours=1)
    client, token = _admin(app, city)
    page = client.get(f"/admin/courses/{course.slug}/edit").get_data(as_text=True)
    assert "旧名称" in page
    bad = client.post(f"/admin/courses/{course.slug}/edit", data={
        "csrf_token": token, "title": "新名称", "category": "娱乐", "hours": "-1", "audience": "宇航员"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "请选择列表中的分类" in text and "学时应在" in text and "未知职业：宇航员" in text
    ok = client.post(f"/admin/courses/{course.slug}/edit", data={
        "csrf_token": token, "title": "新名称", "summary": "简介", "category": "安全", "hours": "2.5",
        "audience": "外卖骑手，快递员"})
    assert ok.status_code == 302
    db.session.rollback()
    edited = db.session.get(Course, course.id)
    assert (edited.title, edited.hours, edited.audience) == ("新名称", 2.5, ["外卖骑手", "快递员"])
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "course_edited"))
    assert event.detail["changes"]["title"] == ["旧名称", "新名称"]


def test_stale_work_folders_are_cleaned_at_start(app, tmp_path):
    import os
    import time

    from learning import create_app
    from learning.catalog.storage import STALE_AFTER_S

    work = Path(app.instance_path) / "tmp"
    stale = work / "hongfan-pkg-crashed"
    (stale / "lessons").mkdir(parents=True)
    (stale / "lessons" / "01.md").write_text("half", encoding="utf-8")
    fresh = work / "upload-in-progress.zip"
    fresh.write_bytes(b"PK")
    old = time.time() - STALE_AFTER_S - 60
    os.utime(stale, (old, old))
    create_app({"INSTANCE_PATH": app.instance_path, "DATABASE_URL": app.config["DATABASE_URL"],
                "SECRET_KEY": "x"})
    assert not stale.exists() and fresh.exists()
