"""Pieces for the fault tests: a gunicorn server in its own process group (with a pid file),
a phone that resends a batch until it is acknowledged, and a TCP proxy that loses requests and
answers at random. Loopback only; every wait is bounded."""
from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NETWORK_ERRORS = (OSError, urllib.error.URLError, http.client.HTTPException, ValueError)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HONGFAN_")}
    env.update({"HONGFAN_DATABASE_URL": database_url, "HONGFAN_INSTANCE_PATH": str(instance),
                "HONGFAN_SECRET_KEY": "fault-test-secret", "PYTHONPATH": str(ROOT),
                # plain http on loopback: a Secure cookie would never come back from the client's jar
                "HONGFAN_SESSION_COOKIE_SECURE": "false", **extra})
    return env


class Server:
    """gunicorn (gthread) in its own process group, so SIGKILL takes master and workers; a pid
    file like a service manager would use."""

    def __init__(self, env: dict[str, str], pidfile: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.env = env
        self.pidfile = pidfile
        self.workers = workers
        self.process: subprocess.Popen | None = None
        self.log = pidfile.with_suffix(".log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        with self.log.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--worker-class", "gthread",
                 "--threads", "4", "--bind", f"127.0.0.1:{self.port}", "--pid", str(self.pidfile),
                 "--log-level", "critical", "learning:create_app()"],
                cwd=ROOT, env=self.env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/login", timeout=2):
                    return
            except NETWORK_ERRORS:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Phone:
    """A member's phone: session cookie, CSRF header, each batch resent until acknowledged."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect())
        self.token = ""
        self.failures: list[str] = []  # every failed attempt, for the test to show it met faults

    def _csrf(self) -> str:
        with self.opener.open(f"{self.base}/login", timeout=10) as page:
            return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.read().decode()).group(1)

    def login(self, phone: str, password: str, attempts: int = 50) -> None:
        for _ in range(attempts):
            try:
                body = urllib.parse.urlencode({"csrf_token": self._csrf(), "phone": phone, "password": password,
                                               "remember": "y", "next": ""}).encode()
                try:
                    self.opener.open(f"{self.base}/login", body, timeout=10)
                except urllib.error.HTTPError as answer:
                    if answer.code != 302:
                        raise
                self.token = self._csrf()
                return
            except NETWORK_ERRORS as error:
                self.failures.append(f"login: {error!r}")
                time.sleep(0.1)
        raise AssertionError(f"could not log in: {self.failures[-3:]}")

    def send(self, batch: list[dict]) -> dict:
        request = urllib.request.Request(f"{self.base}/api/v1/events", json.dumps(batch).encode(),
                                         {"Content-Type": "application/json", "X-CSRFToken": self.token})
        with self.opener.open(request, timeout=10) as response:
            return json.loads(response.read())

    def deliver(self, batch: list[dict], deadline: float) -> set[str]:
        """Resend until the server acknowledges every event of the batch (accepted now or a
        duplicate of an earlier, acknowledged-but-lost attempt). Returns the acknowledged ids."""
        ids = {event["id"] for event in batch}
        while time.monotonic() < deadline:
            try:
                result = self.send(batch)
            except NETWORK_ERRORS as error:  # HTTPError (a 5xx) is a URLError: retried like a drop
                detail = ""
                if isinstance(error, urllib.error.HTTPError):
                    try:
                        detail = error.read()[:300].decode(errors="replace")
                    except NETWORK_ERRORS:
                        detail = "(answer cut)"
                    error.close()
                    if error.code < 500:
                        raise AssertionError(f"HTTP {error.code}: {detail}") from None
                self.failures.append(f"{error!r} {detail}")
                time.sleep(0.05)
                continue
            assert not result["rejected"], result
            acknowledged = set(result["accepted"]) | set(result["duplicates"])
            assert acknowledged == ids, result
            return acknowledged
        raise AssertionError(f"a batch was never acknowledged; last failures {self.failures[-3:]}")


def study_stream(course, start: datetime, batch_size: int = 7) -> list[list[dict]]:
    """A morning of study: the course's non-quiz lessons read to the end, then its quiz answered
    right — enough to complete the course (the test course: text, text, video, quiz)."""
    readable = [lesson for lesson in course.lessons if lesson.kind != "quiz"]
    quiz = next(lesson for lesson in course.lessons if lesson.kind == "quiz")
    events = []
    for n in range(40 * len(readable)):
        lesson = readable[n // 40]
        events.append({"id": str(uuid.uuid4()), "lesson_id": lesson.id, "kind": "progress",
                       "progress": round((n % 40 + 1) / 40, 3), "position": n % 40 + 1, "time_spent_s": 4,
                       "occurred_at": (start + timedelta(seconds=10 * n)).isoformat()})
    answers = [question["answer"] for question in quiz.questions]
    events.append({"id": str(uuid.uuid4()), "lesson_id": quiz.id, "kind": "answer", "answers": answers,
                   "occurred_at": (start + timedelta(seconds=10 * len(events) + 5)).isoformat()})
    return [events[i:i + batch_size] for i in range(0, len(events), batch_size)]


class FlakyProxy:
    """A TCP proxy in front of the server for clients that send one request per connection
    (urllib: `Connection: close`). Per connection, at random: the request is lost (read, then
    the connection closes before the server sees it), the answer is lost (the server handles
    the request, the client gets half the answer and a closed connection), or both directions
    pass."""

    def __init__(self, upstream_port: int, lose_request: float, lose_answer: float, seed: int) -> None:
        self.upstream_port = upstream_port
        self.lose_request = lose_request
        self.lose_answer = lose_answer
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.counts = {"passed": 0, "requests lost": 0, "answers lost": 0}
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.closed = True
        self.listener.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    @staticmethod
    def _read_request(client: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        length = int(match.group(1)) if match else 0
        while len(body) < length:
            chunk = client.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def _serve(self, client: socket.socket) -> None:
        with client:
            client.settimeout(15)
            try:
                request = self._read_request(client)
                with self.lock:
                    draw = self.random.random()
                if draw < self.lose_request:
                    with self.lock:
                        self.counts["requests lost"] += 1
                    return  # closed: the server never saw it
                with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=15) as upstream:
                    upstream.sendall(request)
                    answer = b""
                    while chunk := upstream.recv(65536):
                        answer += chunk
                if draw < self.lose_request + self.lose_answer:
                    with self.lock:
                        self.counts["answers lost"] += 1
                    # Nothing, or the headers and half the body: the network drops mid-answer. Not
                    # a cut inside the headers: Python's http.client takes a header block ended by
                    # the connection as complete (a cookie cut in half is then kept), where a
                    # browser drops the whole answer.
                    head, _, body = answer.partition(b"\r\n\r\n")
                    if draw < self.lose_request + self.lose_answer / 2:
                        client.sendall(head + b"\r\n\r\n" + body[:len(body) // 2])
                    return
                with self.lock:
                    self.counts["passed"] += 1
                client.sendall(answer)
            except OSError:
                return
