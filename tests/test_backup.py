"""`hongfan backup` / `hongfan restore`: a restored academy shows the same statistics, and a
restore never destroys data by surprise nor accepts a damaged archive."""
from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import tarfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from helpers import api_token, bearer, empty_database
from learning import create_app
from learning.demo import ADMIN_PHONE, DEMO_PASSWORD, ROOT_CODE
from learning.extensions import db as _db
from learning.orgs.models import Organization
from learning.timeutil import local_today

PG_URL = os.environ.get("HONGFAN_TEST_DATABASE_URL")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("HONGFAN_") and name != "HONGFAN_TEST_DATABASE_URL":
            monkeypatch.delenv(name)


@contextmanager
def _instance(tmp_path: Path, name: str, url: str):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / name), "DATABASE_URL": url})
    try:
        yield app
    finally:
        with app.app_context():
            _db.session.remove()
            for engine in _db.engines.values():
                engine.dispose()


def _cli(app, *args: str, ok: bool = True):
    result = app.test_cli_runner().invoke(args=list(args))
    if ok:
        assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def _statistics(app, token: str, tmp_path: Path, name: str) -> dict:
    """What the academy shows: the figures of every organization (JSON API, as a phone or an
    integration reads them) and the root's member table (as exported to Excel)."""
    with app.app_context():
        codes = sorted(_db.session.scalars(select(Organization.code)))
        _db.session.remove()
    client = app.test_client()
    figures = {}
    for code in codes:
        response = client.get(f"/api/v1/orgs/{code}/stats", headers=bearer(token))
        assert response.status_code == 200, response.get_data(as_text=True)
        figures[code] = response.get_json()
    out = tmp_path / f"{name}-members.csv"
    _cli(app, "stats", "export", "--org", ROOT_CODE, "--year", str(local_today().year), "--format", "csv",
         "--out", str(out), "--table", "members")
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    return {"figures": figures, "members": rows[1:]}


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_restored_backup_shows_equal_statistics(tmp_path):
    archive = tmp_path / "academy.tar.gz"
    with empty_database(tmp_path, "source") as source_url, _instance(tmp_path, "source", source_url) as source:
        _cli(source, "demo", "--no-serve")  # the demo city: ~240 members, a year of history, a model
        token = api_token(source.test_client(), ADMIN_PHONE, DEMO_PASSWORD)
        before = _statistics(source, token, tmp_path, "before")
        assert before["figures"]["HF"]["completions"] > 200 and len(before["members"]) > 200
        result = _cli(source, "backup", str(archive))
        assert "wrote" in result.output
        source_files = _files(Path(source.instance_path))
    assert archive.stat().st_mode & 0o077 == 0  # personal data and the secret key: owner only

    with empty_database(tmp_path, "target") as target_url:
        with _instance(tmp_path, "target", target_url) as target:
            result = _cli(target, "restore", str(archive))
            assert "restored" in result.output and "db upgrade" not in result.output  # same schema
        with _instance(tmp_path, "target", target_url) as restored:  # a fresh start on the restored data
            after = _statistics(restored, token, tmp_path, "after")  # the same bearer token still works
            restored_files = _files(Path(restored.instance_path))
    assert after == before
    kept = {name: data for name, data in source_files.items()
            if name.startswith(("courses/", "models/")) or name == "secret_key"}
    assert kept and any(name.startswith("models/model-") for name in kept)
    assert any("/media/" in name for name in kept)
    assert {name: restored_files.get(name) for name in kept} == kept


@pytest.fixture
def small(tmp_path):
    """Not the demo: one course with a media file, in an instance of its own."""
    with empty_database(tmp_path, "small") as url, _instance(tmp_path, "small", url) as app:
        with app.app_context():
            _db.create_all()
            from learning.catalog.models import Course, Lesson

            course = Course(slug="safety", version="1.0.0", title="安全", summary="s", category="安全", hours=1,
                            audience=[], tags=[], status="published", prerequisites=[], media_dir="safety/v1")
            course.lessons.append(Lesson(slug="01", position=1, title="一", kind="text", body_html="<p>x</p>",
                                         duration_s=60, min_dwell_s=10, digest="d", questions=[]))
            _db.session.add(course)
            _db.session.commit()
        media = Path(app.instance_path) / "courses" / "safety" / "v1" / "media"
        media.mkdir(parents=True)
        (media / "talk.mp4").write_bytes(os.urandom(50_000))
        yield app, url


def test_restore_refuses_to_overwrite_and_moves_aside_with_force(small, tmp_path):
    app, _url = small
    archive = tmp_path / "b.tar"
    _cli(app, "backup", str(archive))
    again = _cli(app, "backup", str(archive), ok=False)
    assert again.exit_code != 0 and "exists" in again.output
    refused = _cli(app, "restore", str(archive), ok=False)
    assert refused.exit_code != 0 and "refusing to overwrite" in refused.output
    instance = Path(app.instance_path)
    media = instance / "courses" / "safety" / "v1" / "media" / "talk.mp4"
    original = media.read_bytes()
    media.write_bytes(b"changed after the backup")
    with app.app_context():
        _db.session.execute(text("UPDATE course SET title = 'changed'"))
        _db.session.commit()
    _cli(app, "restore", str(archive), "--force")
    assert media.read_bytes() == original
    with app.app_context():
        assert _db.session.scalar(text("SELECT title FROM course")) == "安全"
    aside = list(instance.glob("pre-restore-*"))
    assert len(aside) == 1 and (aside[0] / "courses" / "safety" / "v1" / "media" / "talk.mp4").read_bytes() \
        == b"changed after the backup"


def test_a_damaged_archive_is_refused_and_nothing_is_touched(small, tmp_path):
    app, _url = small
    archive = tmp_path / "b.tar"
    _cli(app, "backup", str(archive))
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            if member.name.endswith("talk.mp4"):
                data = bytes([data[0] ^ 0xFF]) + data[1:]  # one flipped byte
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    with empty_database(tmp_path, "empty") as url, _instance(tmp_path, "empty", url) as target:
        result = _cli(target, "restore", str(damaged), ok=False)
        assert result.exit_code != 0 and "talk.mp4 is missing or damaged" in result.output
        instance = Path(target.instance_path)
        assert not (instance / "courses").exists() or not any((instance / "courses").iterdir())
        assert not list(instance.glob(".restore-*"))
        not_a_backup = tmp_path / "x.tar"
        with tarfile.open(not_a_backup, "w") as tar:
            info = tarfile.TarInfo("../../etc/evil")
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
        result = _cli(target, "restore", str(not_a_backup), ok=False)
        assert result.exit_code != 0 and "not a Hongfan backup" in result.output


def test_backup_names_every_file_and_row_in_its_manifest(small, tmp_path):
    app, _url = small
    archive = tmp_path / "b.tgz"
    _cli(app, "backup", str(archive))
    with tarfile.open(archive, "r:gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        names = set(tar.getnames())
    assert manifest["format"] == "hongfan-backup" and manifest["tables"]["course"] == 1
    assert manifest["tables"]["lesson"] == 1
    assert "instance/courses/safety/v1/media/talk.mp4" in manifest["files"]
    assert "instance/secret_key" in manifest["files"]
    assert names == set(manifest["files"]) | {"manifest.json"}
    assert "database/hongfan.sqlite3" in names or "database/hongfan.pgdump" in names


def test_a_course_folder_missing_from_disk_fails_the_backup_clearly(small, tmp_path):
    app, _url = small
    with app.app_context():
        _db.session.execute(text("UPDATE course SET media_dir = 'safety/gone'"))
        _db.session.commit()
    result = _cli(app, "backup", str(tmp_path / "b.tar"), ok=False)
    assert result.exit_code != 0 and "kept changing" in result.output
    assert not (tmp_path / "b.tar").exists() and not list(tmp_path.glob(".b.tar*"))


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's online backup; PostgreSQL's is pg_dump's snapshot")
def test_sqlite_backup_while_the_academy_writes(small, tmp_path):
    """Writers keep committing during the backup: the copy is one consistent state that passes
    the integrity and foreign-key checks, and nobody gets 'database is locked'."""
    app, url = small
    stop, errors, written = threading.Event(), [], [0]

    def write() -> None:
        engine = create_engine(url, connect_args={"timeout": 15})
        try:
            while not stop.is_set():
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO login_throttle (key, window_start, failures) "
                                      "VALUES (:k, CURRENT_TIMESTAMP, 1)"), {"k": uuid.uuid4().hex})
                written[0] += 1
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            engine.dispose()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while written[0] < 20 and writer.is_alive():
            time.sleep(0.01)
        _cli(app, "backup", str(tmp_path / "live.tar"))
    finally:
        stop.set()
        writer.join()
    assert not errors
    with tarfile.open(tmp_path / "live.tar") as tar:
        tar.extract("database/hongfan.sqlite3", tmp_path, filter="data")
        manifest = json.loads(tar.extractfile("manifest.json").read())
    copy = sqlite3.connect(tmp_path / "database" / "hongfan.sqlite3")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    saved = copy.execute("SELECT count(*) FROM login_throttle").fetchone()[0]
    copy.close()
    assert 20 <= saved == manifest["tables"]["login_throttle"] <= written[0]
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(text("login_throttle"))) == written[0]
