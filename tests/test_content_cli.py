"""`hongfan content validate|import|export` on the real starter library."""
from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

import content
from learning.catalog.models import Course, CourseStatus
from learning.extensions import db

LIBRARY = Path(content.__file__).resolve().parent / "library"


def test_validate_reports_a_summary_or_every_problem(runner, tmp_path):
    good = runner.invoke(args=["content", "validate", str(LIBRARY / "road-safety")])
    assert good.exit_code == 0 and "road-safety" in good.output
    broken = tmp_path / "broken"
    shutil.copytree(LIBRARY / "road-safety", broken)
    toml = broken / "course.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('category = "安全"', 'category = "不存在"'),
                    encoding="utf-8")
    (broken / "media" / "cover.png").unlink()
    bad = runner.invoke(args=["content", "validate", str(broken)])
    assert bad.exit_code == 1
    assert "course.toml" in bad.output and bad.output.count("\n") >= 2  # both problems, not just the first


def test_import_export_round_trip(runner, app, tmp_path):
    result = runner.invoke(args=["content", "import", str(LIBRARY / "first-aid"), "--publish"])
    assert result.exit_code == 0, result.output
    course = db.session.scalar(select(Course).where(Course.slug == "first-aid"))
    assert course.status == CourseStatus.PUBLISHED and any(lesson.kind == "audio" for lesson in course.lessons)
    before = [(lesson.slug, lesson.digest) for lesson in course.lessons]

    out = tmp_path / "first-aid.zip"
    assert runner.invoke(args=["content", "export", "first-aid", str(out)]).exit_code == 0
    with content.load_package(out) as pkg:
        assert [(spec.slug, spec.digest) for spec in pkg.lessons] == before
    # importing the export again changes no lesson
    assert runner.invoke(args=["content", "import", str(out)]).exit_code == 0
    db.session.expire_all()
    course = db.session.scalar(select(Course).where(Course.slug == "first-aid"))
    assert all(lesson.changed_in is None for lesson in course.lessons)


def test_import_of_a_broken_package_creates_nothing(runner, app, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(LIBRARY / "privacy", broken)
    (broken / "course.toml").write_text("format = 1\nid = 'privacy'\n", encoding="utf-8")
    result = runner.invoke(args=["content", "import", str(broken)])
    assert result.exit_code == 1
    assert db.session.scalar(select(Course).where(Course.slug == "privacy")) is None
    assert not (Path(app.instance_path) / "courses" / "privacy").exists()
