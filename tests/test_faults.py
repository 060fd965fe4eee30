"""Faults (issue 9): requests and answers lost by the network, a full disk under SQLite, a
course import killed half-way, a server killed and restarted with its pid file. After each:
every acknowledged event is stored exactly once, no completion is doubled, the counters
reconcile, the SQLite file passes `PRAGMA integrity_check`, no course is half there.
(The server killed with SIGKILL while events stream in: tests/test_fault_ingest.py.)
Loopback only, every wait bounded; SQLite by default, PostgreSQL with HONGFAN_TEST_DATABASE_URL
where the fault is not SQLite's own."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from faultkit import FlakyProxy, Phone, Server, server_env, study_stream
from helpers import PASSWORD
from learning import create_app
from learning.catalog.models import Course, Lesson
from learning.extensions import db
from learning.study.models import CourseCompletion, LessonProgress, MemberYear, StudyEvent
from learning.study.reconcile import differences

ROOT = Path(__file__).resolve().parent.parent
PG = bool(os.environ.get("HONGFAN_TEST_DATABASE_URL"))


def _assert_study_exactly_once(member_ids: list[int], course, sent: dict[str, dict], acknowledged: set[str]) -> None:
    assert acknowledged == set(sent)
    db.session.rollback()
    stored = [str(e.id) for e in db.session.scalars(select(StudyEvent).where(StudyEvent.member_id.in_(member_ids)))]
    assert sorted(stored) == sorted(sent)  # every one, each once
    for member_id in member_ids:
        for lesson in course.lessons:
            if lesson.kind == "quiz":
                continue
            row = db.session.get(LessonProgress, (member_id, lesson.id))
            assert row.time_spent_s == sum(e["time_spent_s"] for e in sent.values()
                                           if e["lesson_id"] == lesson.id and e["_member"] == member_id)
            assert row.completed_at is not None
        assert db.session.scalar(select(func.count()).select_from(CourseCompletion)
                                 .where(CourseCompletion.member_id == member_id)) == 1
        year = db.session.scalar(select(CourseCompletion.year).where(CourseCompletion.member_id == member_id))
        assert db.session.get(MemberYear, (member_id, year)).hours == course.hours
    assert differences() == []


def test_requests_and_answers_lost_on_the_way_lose_and_double_nothing(app, city, make_course, tmp_path):
    course = make_course(lessons=("text", "text", "video", "quiz"), hours=2)
    members = [city["member"], city["other"]]
    db.session.commit()
    server = Server(server_env(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "server"), tmp_path / "server.pid",
                    workers=2)
    server.start()
    proxy = FlakyProxy(server.port, lose_request=0.2, lose_answer=0.2, seed=9)
    sent: dict[str, dict] = {}
    acknowledged: set[str] = set()
    errors: list[BaseException] = []
    phones = []
    lock = threading.Lock()
    deadline = time.monotonic() + 120

    start = datetime.now(UTC) - timedelta(hours=2)
    plans = [(member.id, member.phone, study_stream(course, start)) for member in members]  # no ORM in threads

    def study(member_id: int, phone_number: str, batches: list[list[dict]]) -> None:
        try:
            phone = Phone(proxy.url)
            phones.append(phone)
            phone.login(phone_number, PASSWORD)
            for batch in batches:
                with lock:
                    sent.update({e["id"]: {**e, "_member": member_id} for e in batch})
                ids = phone.deliver(batch, deadline)
                with lock:
                    acknowledged.update(ids)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=study, args=plan) for plan in plans]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=150)
    finally:
        proxy.close()
        server.stop()
    assert not errors, errors
    assert proxy.counts["requests lost"] > 0 and proxy.counts["answers lost"] > 0, proxy.counts
    _assert_study_exactly_once([m.id for m in members], course, sent, acknowledged)


def test_server_restarts_over_the_pid_file_a_sigkill_left(app, tmp_path):
    pidfile = tmp_path / "hongfan.pid"
    server = Server(server_env(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "server"), pidfile)
    for _ in range(2):
        server.start()
        assert int(pidfile.read_text()) == server.process.pid
        server.kill()
        assert pidfile.exists()  # SIGKILL gives gunicorn no chance to remove it: stale now
    server.start()  # … and it does not stop the next start
    try:
        assert int(pidfile.read_text()) == server.process.pid
    finally:
        server.stop()
    assert not pidfile.exists()  # a clean stop removes it


def _mount_small_filesystem(folder: Path, size_kib: int) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(folder)],
                          capture_output=True)
    return done.returncode == 0


def _fill(folder: Path) -> Path:
    """Take every free byte of the file system under `folder`."""
    filler = folder / "filler"
    with filler.open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    return filler


@pytest.mark.skipif(PG, reason="a full disk under the SQLite file; PostgreSQL's disk is the server's")
def test_a_full_disk_under_sqlite_loses_nothing_acknowledged(app, city, make_course, tmp_path):
    course = make_course(lessons=("text", "text", "video", "quiz"), hours=2)
    member = city["member"]
    db.session.commit()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.engine.dispose()
    source = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    small = tmp_path / "small"
    size_kib = source.stat().st_size // 1024 + 1024
    if not _mount_small_filesystem(small, size_kib):
        pytest.skip("cannot mount a small tmpfs here (needs root and mount(8))")
    try:
        shutil.copy(source, small / "hongfan.sqlite3")
        url = f"sqlite:///{small / 'hongfan.sqlite3'}"
        server = Server(server_env(url, tmp_path / "server"), tmp_path / "server.pid")
        server.start()
        try:
            phone = Phone(server.url)
            phone.login(member.phone, PASSWORD)
            batches = study_stream(course, datetime.now(UTC) - timedelta(hours=2))
            half = len(batches) // 2
            acknowledged: set[str] = set()
            for batch in batches[:half]:
                acknowledged |= phone.deliver(batch, time.monotonic() + 30)
            filler = _fill(small)
            refused = 0
            for batch in batches[half:half + 4]:  # the disk is full: these may be refused, never half-stored
                try:
                    result = phone.send(batch)
                    acknowledged |= set(result["accepted"]) | set(result["duplicates"])
                except OSError:  # HTTPError 5xx, or the connection
                    refused += 1
            assert refused > 0, "the full disk refused no write: the fault did not happen"
            filler.unlink()  # space again: the phone's outbox drains
            for batch in batches[half:]:
                acknowledged |= phone.deliver(batch, time.monotonic() + 30)
            server.stop()
            server.start()  # and the server comes back cleanly on the same file
            phone.deliver(batches[-1], time.monotonic() + 30)  # a resend after restart: duplicates only
        finally:
            server.stop()
        check = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "check"), "DATABASE_URL": url,
                            "SECRET_KEY": "check"})
        with check.app_context():
            with db.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            sent = {e["id"]: {**e, "_member": member.id} for batch in batches for e in batch}
            _assert_study_exactly_once([member.id], course, sent, acknowledged)
            db.session.remove()
            db.engine.dispose()
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


def _big_package(folder: Path, lessons: int = 60, media_kib: int = 256) -> tuple[Path, int]:
    """A course package whose import takes long enough (media copied and hashed) to be killed in."""
    names = [f"{i:03d}-lesson.md" for i in range(1, lessons + 1)]
    out = folder / "big-course.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("course.toml", "\n".join([
            "format = 1", 'id = "fault-course"', 'version = "1.0.0"', 'title = "断电测试课程"',
            'summary = "导入中途被终止。"', 'category = "安全"', "hours = 2",
            "lessons = [" + ", ".join(f'"{n}"' for n in names) + "]", ""]))
        for i, name in enumerate(names, start=1):
            zf.writestr(f"lessons/{name}", f'+++\ntitle = "第{i}课"\nkind = "pdf"\nduration = "5m"\n'
                                           f'media = "media/doc-{i:03d}.pdf"\n+++\n\n第{i}课的说明。\n')
            zf.writestr(f"media/doc-{i:03d}.pdf", b"%PDF-1.4\n" + os.urandom(media_kib * 1024))
    return out, lessons


def test_a_course_import_killed_half_way_leaves_all_or_nothing(app, tmp_path):
    package, lessons = _big_package(tmp_path)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    instance = tmp_path / "instance"
    env = server_env(url, instance)
    command = [sys.executable, "-m", "learning", "content", "import", str(package), "--publish"]

    def course_rows() -> tuple[int, int]:
        db.session.rollback()
        course = db.session.scalar(select(Course).where(Course.slug == "fault-course"))
        if course is None:
            return 0, 0
        return 1, db.session.scalar(select(func.count()).select_from(Lesson).where(Lesson.course_id == course.id))

    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    assert course_rows() == (1, lessons)
    db.session.execute(text("DELETE FROM discussion WHERE course_id IS NOT NULL"))  # opened by the import
    db.session.execute(text("DELETE FROM lesson"))  # start again from no course at all
    db.session.execute(text("DELETE FROM course"))
    db.session.commit()
    shutil.rmtree(tmp_path / "instance" / "courses", ignore_errors=True)

    def appeared(folder: Path) -> bool:
        return folder.is_dir() and any(folder.iterdir())

    # Kill when the import has begun extracting (instance/tmp) or copying into the store
    # (instance/courses/fault-course), after a few delays: start-up alone takes longer than
    # the import, so a timer from the start would mostly kill Python while it starts.
    outcomes = []
    for stage, delay in ((instance / "tmp", 0.0), (instance / "tmp", 0.1), (instance / "courses" / "fault-course", 0.0),
                         (instance / "courses" / "fault-course", 0.05), (instance / "courses" / "fault-course", 0.2)):
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        deadline = time.monotonic() + 120
        while process.poll() is None and not appeared(stage) and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(delay)
        killed = process.poll() is None
        if killed:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        rows = course_rows()
        assert rows in ((0, 0), (1, lessons)), f"half a course after a kill ({stage.name}, +{delay} s): {rows}"
        # files an import leaves only when it dies half-way: its extraction or its copy in the store
        leftovers = [p for folder in (instance / "tmp", instance / "courses" / "fault-course") if folder.is_dir()
                     for p in folder.iterdir()]
        outcomes.append((killed and bool(leftovers) and rows == (0, 0), rows))
        if rows[0]:
            break  # imported whole before the kill landed: nothing more to interrupt
    assert any(mid_import for mid_import, _ in outcomes), f"no kill landed inside an import: {outcomes}"
    if not PG:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"

    # after the crashes, the import runs to the end and the course is whole, with every file
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert course_rows() == (1, lessons)
    course = db.session.scalar(select(Course).where(Course.slug == "fault-course"))
    stored = tmp_path / "instance" / "courses" / course.media_dir
    assert len(list((stored / "media").glob("*.pdf"))) == lessons
