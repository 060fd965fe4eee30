"""Page weight on a phone: bytes on the wire for the member's home page and a text lesson,
first load (empty cache) and later load (fingerprinted static files come from the browser cache,
everything else is fetched or revalidated), compressed as a browser asks (br, gzip) and, as the
reference measured in the same run, uncompressed (Accept-Encoding: identity).

    python bench/bench_weight.py            # builds the demo city in a temporary folder (~1 min)

Budget (issue 8): ≤ 100 KB first load, ≤ 20 KB later loads, media excluded.
"""
from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
FIRST_BUDGET, LATER_BUDGET = 100 * 1024, 20 * 1024
ASSET = re.compile(r'<(?:link|script|img)\b[^>]*?(?:href|src)="(/[^"]+)"')


@dataclass
class Fetch:
    status: int
    wire: int  # status line + headers + body as received (compressed when compressed)
    headers: dict[str, str]
    body: bytes


class Phone:
    """A tiny browser: one cookie jar, an HTTP cache keyed by URL (Cache-Control and ETags)."""

    def __init__(self, port: int, encoding: str) -> None:
        self.port, self.encoding, self.cookies, self.cache = port, encoding, {}, {}

    def fetch(self, path: str, method: str = "GET", form: dict | None = None, revalidate: bool = False) -> Fetch:
        conn = http.client.HTTPConnection("127.0.0.1", self.port)
        headers = {"Accept-Encoding": self.encoding, "Accept-Language": "zh-CN",
                   "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        cached = self.cache.get(path)
        if revalidate and cached and cached.headers.get("etag"):
            headers["If-None-Match"] = cached.headers["etag"]
        body = urlencode(form).encode() if form else None
        if form:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        head = {k.lower(): v for k, v in response.getheaders()}
        wire = len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + sum(
            len(f"{k}: {v}\r\n") for k, v in response.getheaders()) + 2 + len(data)
        for value in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        result = Fetch(response.status, wire, head, data)
        if response.status == 200 and method == "GET":
            self.cache[path] = result
        return result

    def fresh_in_cache(self, path: str) -> bool:
        cached = self.cache.get(path)
        control = cached.headers.get("cache-control", "") if cached else ""
        return bool(cached) and "immutable" in control and "max-age=31536000" in control

    def load(self, path: str, later: bool) -> tuple[int, list[tuple[str, int]]]:
        """Bytes for one page view and its subresources (media excluded)."""
        page = self.fetch(path)
        html = decoded(page)
        parts = [(path, page.wire)]
        for url in dict.fromkeys(ASSET.findall(html)):
            if "/media/" in url:
                continue
            if later and self.fresh_in_cache(url):
                parts.append((url, 0))
                continue
            parts.append((url, self.fetch(url, revalidate=later).wire))
        return sum(n for _, n in parts), parts

    def with_cookies(self, cookies: dict) -> "Phone":
        self.cookies = dict(cookies)
        return self


def decoded(fetch: Fetch) -> str:
    encoding = fetch.headers.get("content-encoding")
    if encoding == "br":
        import brotli

        return brotli.decompress(fetch.body).decode()
    if encoding == "gzip":
        import gzip

        return gzip.decompress(fetch.body).decode()
    return fetch.body.decode()


def login(phone: Phone, number: str, password: str) -> None:
    page = Phone(phone.port, "identity").with_cookies(phone.cookies)
    html = page.fetch("/login").body.decode()
    phone.cookies.update(page.cookies)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    result = phone.fetch("/login", "POST", {"csrf_token": token, "phone": number, "password": password,
                                            "next": "", "remember": "y"})
    assert result.status == 302, f"login failed: {result.status}"


def main() -> int:
    instance = Path(tempfile.mkdtemp(prefix="hf-weight-"))
    env = dict(os.environ, HONGFAN_INSTANCE_PATH=str(instance))
    print(f"building the demo city in {instance} …", flush=True)
    subprocess.run([sys.executable, "-m", "learning", "demo", "--no-serve"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    os.environ["HONGFAN_INSTANCE_PATH"] = str(instance)
    os.environ["HONGFAN_SESSION_COOKIE_SECURE"] = "false"  # served over plain http on loopback
    sys.path.insert(0, str(ROOT))
    from werkzeug.serving import make_server

    from learning import create_app
    from learning.demo import DEMO_PASSWORD, MEMBER_PHONE

    app = create_app()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port

    probe = Phone(port, "identity")
    login(probe, MEMBER_PHONE, DEMO_PASSWORD)
    course_page = probe.fetch("/courses/road-safety").body.decode()
    text_lesson = re.search(r'href="(/courses/road-safety/lessons/01-[^"]+)"', course_page).group(1)
    pages = {"home /": "/", f"text lesson {text_lesson}": text_lesson}

    print(f"\n{'page':<58}{'first load':>12}{'later load':>12}")
    ok = True
    for encoding, label in (("br, gzip", "compressed (br, gzip)"), ("identity", "reference: uncompressed")):
        print(f"-- {label}")
        for name, path in pages.items():
            phone = Phone(port, encoding)
            login(phone, MEMBER_PHONE, DEMO_PASSWORD)
            first, parts = phone.load(path, later=False)
            later, later_parts = phone.load(path, later=True)
            print(f"{name:<58}{first / 1024:>10.1f}KB{later / 1024:>10.1f}KB")
            for (url, n), (_, m) in zip(parts, later_parts):
                print(f"    {url:<54}{n:>10,}B{m:>10,}B")
            if encoding != "identity":
                ok &= first <= FIRST_BUDGET and later <= LATER_BUDGET
    phone = Phone(port, "br, gzip")
    login(phone, MEMBER_PHONE, DEMO_PASSWORD)
    sw = phone.fetch("/sw.js")
    shell = re.search(r"const SHELL = \[(.*?)\];", decoded(sw)).group(1)
    install = sw.wire + phone.fetch("/manifest.webmanifest").wire + sum(
        phone.fetch(u).wire for u in re.findall(r'"([^"]+)"', shell))
    print(f"\nonce per install: service worker + manifest + offline shell = {install / 1024:.1f} KB (compressed)")
    print(f"budget: first load ≤ {FIRST_BUDGET // 1024} KB, later load ≤ {LATER_BUDGET // 1024} KB → "
          f"{'ok' if ok else 'MISSED'}")
    server.shutdown()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
