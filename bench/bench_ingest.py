"""Study-event ingestion under load: POST /api/v1/events through gunicorn (2 workers).

    python bench/bench_ingest.py                 # SQLite, then PostgreSQL when reachable
    python bench/bench_ingest.py --db sqlite --batches 100
    HONGFAN_BENCH_PG=postgresql+psycopg://postgres@127.0.0.1:5432/postgres python bench/bench_ingest.py --db postgres

For each database: a temporary instance (fresh schema through the migrations), members and a
course seeded, gunicorn started with 2 gthread workers, then 8 concurrent clients each log in
(session cookie + X-CSRFToken header) and post batches of 20 events. Prints events/s and errors,
then the same number of rows written by a plain INSERT loop into study_event (one INSERT per row,
one commit per 20 rows, like a batch) in the same run, and the ratio between the two.
Target (issue 4): ≥ 1,000 events/s with zero errors.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchdb import temporary_database  # noqa: E402  (bench/, the script's folder)

PASSWORD = "bench-password-1"
LESSONS = 6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_admin_url() -> str:
    return os.environ.get("HONGFAN_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def postgres_reachable() -> bool:
    try:
        import psycopg

        from sqlalchemy.engine import make_url

        url = make_url(postgres_admin_url())
        psycopg.connect(host=url.host, port=url.port or 5432, user=url.username, dbname=url.database,
                        connect_timeout=3).close()
        return True
    except Exception:
        return False


def seed(url: str, instance: Path, members: int) -> tuple[list[str], list[int], int]:
    """Schema through the migrations, one branch, `members` members, one published course."""
    from flask_migrate import upgrade

    from learning import create_app
    from learning.auth.passwords import hash_password
    from learning.catalog.models import Course, CourseStatus, Lesson
    from learning.extensions import db
    from learning.orgs.operations import create_member, create_org

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench-secret"})
    with app.app_context():
        upgrade()
        branch = create_org(code="BENCH", name="压测党支部", kind="branch", parent=None)
        digest = hash_password(PASSWORD)
        phones = [f"1550000{n:04d}" for n in range(members)]
        for n, phone in enumerate(phones):
            create_member(name=f"压测党员{n}", phone=phone, home_org=branch, password_hash=digest,
                          birth_year=1990, occupation="快递员", member_kind="full", joined_at=date(2015, 7, 1),
                          since=date(2020, 1, 1))
        course = Course(slug="bench-course", version="1.0.0", title="压测课程", summary="", category="安全",
                        hours=1, audience=[], tags=[], status=CourseStatus.PUBLISHED)
        for position in range(1, LESSONS + 1):
            course.lessons.append(Lesson(slug=f"{position:02d}", position=position, title=f"第{position}课",
                                         kind="text", body_html="<p>正文</p>", duration_s=300, min_dwell_s=120,
                                         digest=str(position)))
        db.session.add(course)
        db.session.commit()
        lesson_ids = [lesson.id for lesson in course.lessons]
        member_id = db.session.scalar(db.select(db.text("min(id)")).select_from(db.text("member")))
        db.engine.dispose()
    return phones, lesson_ids, member_id


@dataclass
class Client:
    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # the worker closed an idle keep-alive connection
                if attempt:
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        return response.status, data

    def csrf(self) -> str:
        _, page = self.request("GET", "/login")
        return re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()

    def login(self, phone: str) -> str:
        token = self.csrf()
        status, _ = self.request("POST", "/login", urlencode(
            {"csrf_token": token, "phone": phone, "password": PASSWORD, "remember": "y", "next": ""}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"login failed for {phone}: {status}")
        return self.csrf()


def events_for(client_no: int, batch_no: int, size: int, lesson_ids: list[int]) -> list[dict]:
    now = datetime.now(UTC).isoformat()
    out = []
    for n in range(size):
        step = batch_no * size + n
        lesson = lesson_ids[(step // 25) % len(lesson_ids)]  # reading lessons one after another
        out.append({"id": str(uuid.uuid4()), "lesson_id": lesson, "kind": "progress",
                    "progress": min(1.0, (step % 25 + 1) / 25), "position": (step % 25 + 1) / 25,
                    "time_spent_s": 6, "occurred_at": now})
    return out


def run_clients(port: int, phones: list[str], lesson_ids: list[int], batches: int, size: int):
    sessions = []
    for phone in phones:
        client = Client(port)
        sessions.append((client, client.login(phone)))
    errors: list[str] = []
    accepted = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(len(sessions) + 1)

    def work(index: int, client: Client, token: str) -> None:
        barrier.wait()
        for b in range(batches):
            body = json.dumps(events_for(index, b, size, lesson_ids)).encode()
            try:
                status, data = client.request("POST", "/api/v1/events", body,
                                              {"Content-Type": "application/json", "X-CSRFToken": token})
            except Exception as error:  # counted, not hidden
                with lock:
                    errors.append(repr(error))
                continue
            with lock:
                if status != 200:
                    errors.append(f"HTTP {status}: {data[:200]!r}")
                    continue
                result = json.loads(data)
                accepted[0] += len(result["accepted"])
                if result["rejected"] or len(result["accepted"]) != size:
                    errors.append(f"not all accepted: {result['rejected'][:2]}")

    threads = [threading.Thread(target=work, args=(i, c, t)) for i, (c, t) in enumerate(sessions)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return accepted[0], elapsed, errors


def insert_loop(url: str, instance: Path, member_id: int, lesson_ids: list[int], rows: int, size: int) -> float:
    """The reference: the same number of study_event rows, one INSERT each, a commit per batch,
    through the app's own engine (same SQLite pragmas / PostgreSQL driver)."""
    from sqlalchemy import text

    from learning import create_app
    from learning.extensions import db

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench-secret"})
    context = app.app_context()
    context.push()
    engine = db.engine
    statement = text("INSERT INTO study_event (id, member_id, lesson_id, kind, payload, body_hash, occurred_at,"
                     " received_at) VALUES (:id, :member_id, :lesson_id, :kind, :payload, :body_hash,"
                     " :occurred_at, :received_at)")
    now = datetime.now(UTC).replace(tzinfo=None)
    payload = json.dumps({"position": 0.5, "progress": 0.5, "time_spent_s": 6, "answers": None})
    uuid_value = (lambda u: u.hex) if url.startswith("sqlite") else (lambda u: u)
    started = time.perf_counter()
    with engine.connect() as conn:
        for first in range(0, rows, size):
            with conn.begin():
                for n in range(first, min(rows, first + size)):
                    conn.execute(statement, {"id": uuid_value(uuid.uuid4()), "member_id": member_id,
                                             "lesson_id": lesson_ids[n % len(lesson_ids)], "kind": "progress",
                                             "payload": payload, "body_hash": "0" * 64, "occurred_at": now,
                                             "received_at": now})
    elapsed = time.perf_counter() - started
    engine.dispose()
    context.pop()
    return elapsed


def bench(kind: str, args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"hongfan-bench-{kind}-"))
    url, drop = temporary_database(kind, workdir / "bench.sqlite3", postgres_admin_url(), "hongfan_bench")
    server = None
    try:
        instance = workdir / "instance"
        phones, lesson_ids, member_id = seed(url, instance, args.clients)
        port = args.port or free_port()
        env = {**os.environ, "HONGFAN_DATABASE_URL": url, "HONGFAN_INSTANCE_PATH": str(instance),
               "HONGFAN_SECRET_KEY": "bench-secret",
               "HONGFAN_SESSION_COOKIE_SECURE": "false"}  # plain http on loopback
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--worker-class", "gthread",
             "--threads", str(args.threads), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
             "learning:create_app()"], cwd=ROOT, env=env, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if Client(port).request("GET", "/login")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        accepted, elapsed, errors = run_clients(port, phones, lesson_ids, args.batches, args.batch_size)
        reference = insert_loop(url, instance, member_id, lesson_ids, accepted or 1, args.batch_size)
        return {"db": kind, "events": accepted, "seconds": elapsed, "rate": accepted / elapsed,
                "errors": errors, "insert_rate": (accepted or 1) / reference}
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        drop()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batches", type=int, default=60, help="batches per client")
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gthread threads per worker")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        if kind == "postgres" and not postgres_reachable():
            print(f"postgres: not reachable at {postgres_admin_url()}; skipped")
            continue
        r = bench(kind, args)
        verdict = "ok" if r["rate"] >= 1000 and not r["errors"] else "MISSED"
        print(f"{kind:8} {r['events']} events from {args.clients} clients in {r['seconds']:.2f} s: "
              f"{r['rate']:.0f} events/s, {len(r['errors'])} errors; plain INSERT loop "
              f"{r['insert_rate']:.0f} rows/s; API/INSERT = {r['rate'] / r['insert_rate']:.2f}  [{verdict}]"
              f"  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
        for error in r["errors"][:5]:
            print("   ", error)


if __name__ == "__main__":
    main()
