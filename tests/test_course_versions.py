"""A new version of a course keeps members' progress on unchanged lessons and marks changed ones."""
from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

import content
from helpers import AuthActions, csrf_from, study_for
from learning.catalog.models import Course
from learning.extensions import db
from learning.study.models import LessonProgress

LIBRARY = Path(content.__file__).resolve().parent / "library"


def test_new_version_keeps_progress_on_unchanged_lessons(runner, city, app, tmp_path):
    folder = tmp_path / "road-safety"
    shutil.copytree(LIBRARY / "road-safety", folder)
    assert runner.invoke(args=["content", "import", str(folder), "--publish"]).exit_code == 0
    course = db.session.scalar(select(Course).where(Course.slug == "road-safety"))
    first, second = course.lessons[0], course.lessons[2]
    first_id, second_id, first_slug, second_slug = first.id, second.id, first.slug, second.slug

    client = app.test_client()
    AuthActions(client).login("13800000002")
    token = csrf_from(client.get("/").get_data(as_text=True))
    for lesson_id in (first_id, second_id):
        study_for(client, lesson_id)  # the minimum dwell before 我已学完本课 counts
        assert client.post(f"/lessons/{lesson_id}/complete", data={"csrf_token": token}).status_code == 302

    # version 1.1.0 rewrites the third lesson only
    toml = folder / "course.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('version = "1.0.0"', 'version = "1.1.0"'),
                    encoding="utf-8")
    changed = next((folder / "lessons").glob(f"{second_slug}.*"))
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\n补充：新增一段内容。\n", encoding="utf-8")
    db.session.rollback()  # the CLI shares this session: end the test's read snapshot first
    result = runner.invoke(args=["content", "import", str(folder)])
    assert result.exit_code == 0, result.output

    db.session.rollback()
    course = db.session.scalar(select(Course).where(Course.slug == "road-safety"))
    by_slug = {lesson.slug: lesson for lesson in course.lessons}
    assert course.version == "1.1.0"
    assert by_slug[first_slug].id == first_id and by_slug[first_slug].changed_in is None
    assert by_slug[second_slug].id == second_id and by_slug[second_slug].changed_in == "1.1.0"
    assert "补充：新增一段内容" in by_slug[second_slug].body_html
    kept = db.session.get(LessonProgress, (city["member"].id, first_id))
    assert kept is not None and kept.completed_at is not None
