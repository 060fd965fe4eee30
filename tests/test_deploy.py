"""deploy/ works as written: the nginx site in front of `hongfan serve` (TLS, media through
X-Accel-Redirect, compression, cached fingerprinted static files, proxy headers, the upload
limit), and systemd accepts the units. Skipped with a reason where nginx or systemd's tools
are not installed (Debian: nginx libnginx-mod-http-brotli-filter, systemd)."""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import pytest

import servers
from helpers import PASSWORD, csrf_from

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
HOST = "xuexi.example.cn"


def _instance(tmp_path: Path) -> tuple[dict[str, str], bytes]:
    """A database with one member and one published course holding a video."""
    from learning import create_app
    from learning.auth.passwords import hash_password
    from learning.catalog.models import Course, Lesson
    from learning.extensions import db
    from learning.orgs.models import OrgKind
    from learning.orgs.operations import create_member, create_org

    env = {"HONGFAN_INSTANCE_PATH": str(tmp_path / "instance"),
           "HONGFAN_DATABASE_URL": f"sqlite:///{tmp_path / 'academy.sqlite3'}",
           "HONGFAN_SECRET_KEY": "deploy-test-secret", "HONGFAN_TRUSTED_PROXIES": "1",
           "HONGFAN_MEDIA_ACCEL_PREFIX": "/_courses", "HONGFAN_SESSION_COOKIE_SECURE": "true",
           "HONGFAN_SERVE_THREADS": "4"}
    app = create_app({"INSTANCE_PATH": env["HONGFAN_INSTANCE_PATH"], "DATABASE_URL": env["HONGFAN_DATABASE_URL"]})
    with app.app_context():
        db.create_all()
        branch = create_org(code="B1", name="骑手之家党支部", kind=OrgKind.BRANCH, parent=None)
        create_member(name="骑手小王", phone="13800000002", home_org=branch, password_hash=hash_password(PASSWORD),
                      birth_year=1990, occupation="外卖骑手", member_kind="full", joined_at=date(2015, 7, 1),
                      since=date(2020, 1, 1))
        course = Course(slug="safety", version="1.0.0", title="安全", summary="s", category="安全", hours=1,
                        audience=[], tags=[], status="published", prerequisites=[], media_dir="safety/v1")
        course.lessons.append(Lesson(slug="01-video", position=1, title="视频", kind="video", body_html="<p>x</p>",
                                     duration_s=60, min_dwell_s=10, digest="d", questions=[]))
        db.session.add(course)
        db.session.commit()
        for engine in db.engines.values():
            engine.dispose()
    media = tmp_path / "instance" / "courses" / "safety" / "v1" / "media"
    media.mkdir(parents=True)
    video = os.urandom(300_000)
    (media / "talk.mp4").write_bytes(video)
    return env, video


def _nginx_conf(tmp_path: Path, app_port: int, http_port: int, https_port: int) -> Path:
    """deploy/nginx/hongfan.conf with this machine's ports and paths, inside a minimal nginx.conf."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={HOST}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    site = (DEPLOY / "nginx" / "hongfan.conf").read_text(encoding="utf-8")
    replacements = {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
        "listen 80;": f"listen 127.0.0.1:{http_port};", "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;", "listen [::]:443 ssl http2;": "",
        f"/etc/letsencrypt/live/{HOST}/fullchain.pem": str(cert),
        f"/etc/letsencrypt/live/{HOST}/privkey.pem": str(key),
        "/var/lib/hongfan/courses/": f"{tmp_path / 'instance' / 'courses'}/",
        "/var/cache/nginx/hongfan": str(tmp_path / "nginx-cache"),
        "/var/log/nginx/hongfan.access.log": str(tmp_path / "access.log"),
        "client_max_body_size 2g;": "client_max_body_size 1m;",  # small enough to test
    }
    for old, new in replacements.items():
        assert old in site, f"deploy/nginx/hongfan.conf no longer has {old!r}"
        site = site.replace(old, new)
    brotli_module = sorted(Path("/usr/lib/nginx/modules").glob("ngx_http_brotli_filter_module.so"))
    brotli = bool(brotli_module)
    if not brotli:
        site = "\n".join(line for line in site.splitlines() if not line.strip().startswith(("brotli", "application/")))
        site = site.replace("gzip_types text/css text/javascript application/javascript application/json",
                            "gzip_types text/css text/javascript application/javascript application/json "
                            "application/manifest+json image/svg+xml text/plain;")
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + (f"load_module {brotli_module[0]};\n" if brotli else "")
        + f"worker_processes 1;\npid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'} info;\n"
        + "events { worker_connections 256; }\n"
        + "http {\n include /etc/nginx/mime.types;\n"
        + "".join(f" {kind}_temp_path {temp / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + site + "\n}\n", encoding="utf-8")
    return conf


class Https:
    """A cookie-keeping HTTPS client for the test nginx (self-signed certificate)."""

    def __init__(self, port: int) -> None:
        self.port, self.cookies = port, {}
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=20)
        sent = {"Host": HOST, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        data = response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return response.status, response.headers, data


@pytest.fixture
def stack(tmp_path):
    if NGINX is None or shutil.which("openssl") is None:
        pytest.skip("nginx or openssl not installed (Debian: nginx libnginx-mod-http-brotli-filter openssl)")
    env, video = _instance(tmp_path)
    app = servers.start(tmp_path, env, "--workers", "1")
    nginx = None
    try:
        http_port, https_port = servers.free_port(), servers.free_port()
        conf = _nginx_conf(tmp_path, app.port, http_port, https_port)
        check = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if Https(https_port).request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield {"app": app, "http": http_port, "https": https_port, "video": video, "tmp": tmp_path}
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)
        app.stop()


def test_nginx_in_front_of_hongfan_serve(stack):
    client = Https(stack["https"])
    # plain http goes to https
    conn = http.client.HTTPConnection("127.0.0.1", stack["http"], timeout=10)
    conn.request("GET", "/login?next=/", headers={"Host": HOST})
    redirect = conn.getresponse()
    assert redirect.status == 301 and redirect.headers["Location"] == f"https://{HOST}/login?next=/"
    conn.close()

    # the app sees https and the client through the proxy headers: HSTS, Secure cookies
    status, headers, body = client.request("GET", "/login")
    assert status == 200 and "max-age" in headers["Strict-Transport-Security"]
    page = body.decode()
    status, headers, _ = client.request(
        "POST", "/login", body=urlencode({"csrf_token": csrf_from(page), "phone": "13800000002",
                                          "password": PASSWORD}).encode(),
        # over https Flask-WTF wants a same-origin Referer: it matches the host nginx forwarded
        headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": f"https://{HOST}/login"})
    assert status == 302 and all("Secure" in c for c in headers.get_all("Set-Cookie"))

    # media: authorized by the app, sent by nginx with Range, security headers kept
    status, headers, data = client.request("GET", "/courses/safety/media/talk.mp4", headers={"Range": "bytes=1000-1999"})
    assert status == 206 and data == stack["video"][1000:2000]
    assert headers["Content-Range"] == f"bytes 1000-1999/{len(stack['video'])}"
    assert "sandbox" in headers["Content-Security-Policy"] and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Type"] == "video/mp4" and headers["Content-Disposition"].startswith("inline")
    assert "X-Accel-Redirect" not in headers and re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])
    media_rid = headers["X-Request-ID"]
    assert client.request("GET", "/_courses/safety/v1/media/talk.mp4")[0] == 404  # internal only
    anonymous = Https(stack["https"]).request("GET", "/courses/safety/media/talk.mp4")
    assert anonymous[0] == 302 and anonymous[2] != stack["video"]

    # fingerprinted static files: compressed, cached a year, and kept by nginx
    css = re.search(r'href="(/static/css/app\.[0-9a-f]{10}\.css)"', page).group(1)
    first = client.request("GET", css, headers={"Accept-Encoding": "br, gzip"})
    second = client.request("GET", css, headers={"Accept-Encoding": "br, gzip"})
    assert first[0] == second[0] == 200
    assert "max-age=31536000" in first[1]["Cache-Control"] and "immutable" in first[1]["Cache-Control"]
    assert first[1]["Content-Encoding"] in ("br", "gzip")
    assert (first[1]["X-Cache-Status"], second[1]["X-Cache-Status"]) == ("MISS", "HIT")

    # the upload limit answers before the app is bothered
    status, _headers, _body = client.request("POST", "/admin/courses/upload", body=b"x" * (2 * 1024 * 1024),
                                             headers={"Content-Type": "application/zip"})
    assert status == 413

    # one request id in both logs, and no query string or invitation token in nginx's
    client.request("GET", "/join/Inv1tat10nTok3n?ref=13800000002")
    # nginx writes the access line as it finalizes the request, which may be just after the
    # client has read the answer: wait for the line rather than race it
    access = _wait_for_log(stack["tmp"] / "access.log", '"GET /join/')
    assert "Inv1tat10nTok3n" not in access and "13800000002" not in access and "/join/<token>" in access
    assert f"rid={media_rid}" in access
    app_lines = [json.loads(line) for line in stack["app"].output().splitlines() if line.startswith("{")]
    media_line = next(line for line in app_lines if line.get("request_id") == media_rid)
    assert media_line["path"] == "/courses/safety/media/talk.mp4" and media_line["member_id"] is not None


def _wait_for_log(path: Path, needle: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text()
        if needle in text or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_units_verify(tmp_path):
    for unit in (DEPLOY / "systemd").iterdir():
        # the venv's path on this machine: systemd checks that the commands exist
        text = unit.read_text(encoding="utf-8").replace("/opt/hongfan/venv/bin/hongfan", shutil.which("true"))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    units = sorted(str(p) for p in tmp_path.iterdir())
    assert any(u.endswith("hongfan.service") for u in units)
    done = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True)
    problems = [line for line in (done.stdout + done.stderr).splitlines() if str(tmp_path) in line]
    assert done.returncode == 0 and not problems, done.stdout + done.stderr


def test_env_example_names_only_real_settings():
    from learning.config import DEFAULTS

    names = re.findall(r"^#?(HONGFAN_[A-Z0-9_]+)=", (DEPLOY / "hongfan.env.example").read_text(), re.MULTILINE)
    assert names and all(n[len("HONGFAN_"):] in DEFAULTS or n == "HONGFAN_INSTANCE_PATH" for n in names), names


def _documented(readme: str) -> set[str]:
    """Setting names in the README's configuration table, with the shorthand
    `HONGFAN_ARGON2_TIME_COST` / `_MEMORY_COST` expanded."""
    names: set[str] = set()
    for row in readme.splitlines():
        if not row.startswith("| `HONGFAN_"):
            continue
        cell = row.split("|")[1]
        full = re.findall(r"`(HONGFAN_[A-Z0-9_]+)`", cell)
        names.update(full)
        parts = full[0].split("_")
        for suffix in re.findall(r"`(_[A-Z0-9_]+)`", cell):
            names.update("_".join(parts[:i]) + suffix for i in range(2, len(parts)))
    return names


def test_readme_documents_every_setting():
    from learning.config import DEFAULTS

    readme = (DEPLOY.parent / "README.md").read_text(encoding="utf-8")
    missing = sorted(f"HONGFAN_{key}" for key in DEFAULTS if f"HONGFAN_{key}" not in _documented(readme))
    assert not missing, f"settings missing from the README's configuration table: {missing}"
    assert "HONGFAN_INSTANCE_PATH" in _documented(readme)
