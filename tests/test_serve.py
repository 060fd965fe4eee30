"""`hongfan serve`: gunicorn with gthread workers, configured by flags and HONGFAN_SERVE_*,
never with debug on — and a real server started, used and stopped."""
from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

import servers


def _settings(runner, *args: str, env: dict | None = None) -> dict:
    result = runner.invoke(args=["serve", "--dry-run", *args], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_defaults_fit_a_two_core_machine(runner):
    options = _settings(runner)
    assert options["worker_class"] == "gthread"
    assert options["workers"] == (os.cpu_count() or 1)
    assert options["threads"] == 8
    assert options["bind"] == ["127.0.0.1:8000"]
    assert (options["timeout"], options["graceful_timeout"], options["keepalive"]) == (60, 30, 5)
    assert options["accesslog"] is None  # the app logs requests itself
    assert options["forwarded_allow_ips"] == "" and options["secure_scheme_headers"] == {}


def test_settings_then_flags(app, runner):
    app.config.update(SERVE_THREADS=4, SERVE_WORKERS=3, SERVE_BIND="127.0.0.1:9001, unix:/run/hongfan/h.sock",
                      SERVE_MAX_REQUESTS=1000)
    options = _settings(runner)
    assert (options["workers"], options["threads"], options["max_requests"]) == (3, 4, 1000)
    assert options["bind"] == ["127.0.0.1:9001", "unix:/run/hongfan/h.sock"]
    assert options["max_requests_jitter"] == 100
    options = _settings(runner, "--workers", "1", "--threads", "16", "-b", "0.0.0.0:8080", "--timeout", "120")
    assert (options["workers"], options["threads"], options["bind"], options["timeout"]) == (1, 16, ["0.0.0.0:8080"], 120)
    bad = runner.invoke(args=["serve", "--dry-run", "--threads", "0"])
    assert bad.exit_code != 0 and "positive" in bad.output


def test_settings_come_from_the_environment(tmp_path, monkeypatch):
    from learning import create_app

    monkeypatch.setenv("HONGFAN_SERVE_THREADS", "12")
    monkeypatch.setenv("HONGFAN_SERVE_WORKERS", "2")
    app = create_app({"INSTANCE_PATH": str(tmp_path / "i"), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    options = _settings(app.test_cli_runner())
    assert (options["workers"], options["threads"]) == (2, 12)


def test_refuses_to_serve_with_debug_on(app, runner):
    result = runner.invoke(args=["serve", "--dry-run"], env={"FLASK_DEBUG": "1"})
    assert result.exit_code != 0 and "refusing to serve with debug on" in result.output
    app.debug = True
    result = runner.invoke(args=["serve", "--dry-run"])
    assert result.exit_code != 0 and "debug" in result.output


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def server(tmp_path):
    """`hongfan serve` in a process of its own: 2 workers × 2 threads on a free port."""
    try:
        running = servers.start(tmp_path, {"HONGFAN_INSTANCE_PATH": str(tmp_path / "instance"),
                                           "HONGFAN_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
                                           "HONGFAN_SERVE_THREADS": "2"},
                                "--workers", "2", "--graceful-timeout", "5")
    except RuntimeError as error:
        pytest.fail(str(error))
    yield running.process, running.base, running.port, running.log
    running.stop()


def test_serves_with_gthread_workers_and_stops_cleanly(server):
    process, base, _port, log = server
    status, headers, body = servers.get(f"{base}/healthz")
    assert status == 200 and json.loads(body)["checks"] == {"database": "ok"}
    assert len(headers["X-Request-ID"]) == 32
    status, _headers, _body = servers.get(f"{base}/login?next=/")
    assert status == 200
    workers = _children(process.pid)
    assert len(workers) == 2, workers
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    log.seek(0)
    output = log.read()
    assert "Using worker: gthread" in output
    request_lines = [json.loads(line) for line in output.splitlines()
                     if line.startswith("{") and '"learning.request"' in line]
    assert [(line["method"], line["path"], line["status"]) for line in request_lines] == [("GET", "/login", 200)]
    deadline = time.monotonic() + 10  # the workers go with the master (none left behind)
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)]


def _response(conn: socket.socket) -> bytes:
    """One whole HTTP/1.1 response (headers and a Content-Length body) from a kept-alive socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        assert chunk, "connection closed"
        data += chunk
    head, _sep, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += conn.recv(4096)
    return head + b"\r\n\r\n" + body


def test_idle_keep_alive_phones_do_not_hold_the_threads(server):
    """Ten phones keep their connection open after a request (as browsers do); with only
    2 workers × 2 threads, an eleventh still gets its answer at once."""
    _process, base, port, _log = server
    idle = []
    try:
        for _ in range(10):
            conn = socket.create_connection(("127.0.0.1", port), timeout=10)
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: phone\r\nConnection: keep-alive\r\n\r\n")
            assert _response(conn).startswith(b"HTTP/1.1 200")
            idle.append(conn)
        status, _headers, body = servers.get(f"{base}/healthz", timeout=10)
        assert status == 200 and json.loads(body)["status"] == "ok"
        for conn in idle:  # and the ten were kept open, not closed to free a worker
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: phone\r\n\r\n")
            assert _response(conn).startswith(b"HTTP/1.1 200")
    finally:
        for conn in idle:
            conn.close()
