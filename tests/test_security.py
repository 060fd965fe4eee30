"""Security headers on every route, cookie flags, and no debug mode in production.

The header walk requests every rule and method of app.url_map (tests/route_walk.py) as an
anonymous visitor and as logged-in people, and checks each response, error pages included.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import url_for

from helpers import PASSWORD, AuthActions, api_token, bearer, csrf_from
from learning import create_app
from learning.extensions import db
from learning.security import UnsafeConfiguration, serve_plain_http
from route_walk import call, walk
import test_access_matrix
from test_access_matrix import PHONES

world = test_access_matrix.world  # the access matrix's seeded world, as a fixture here too

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# Responses that choose their own caching: files without personal data. Everything else (pages,
# JSON, exports, error pages, the login page with its CSRF token) must be no-store.
CACHEABLE = {
    "static": "public",  # fingerprinted: a year, immutable; plain name: 5 minutes
    "pwa.service_worker": "no-cache",  # always revalidated, so a new version installs
    "pwa.manifest": "public",  # the app's name and icons
    "catalog.media": "private",  # course media behind the login: the phone may keep it, no shared cache
    "catalog.admin_draft_media": "private",
}


def directives(policy: str) -> dict[str, list[str]]:
    found = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            found[words[0].lower()] = words[1:]
    return found


# The only pages that may use a browser feature, and only for their own origin (their error
# answers, made before the view ran, keep it off).
FEATURE_PAGES = {"redemption.redeem": ("camera",)}


def header_problems(response, endpoint: str, *, https: bool = False) -> list[str]:
    problems = []
    headers = response.headers
    csp = directives(headers.get("Content-Security-Policy", ""))
    for name, want in (("object-src", ["'none'"]), ("base-uri", ["'none'"])):
        if csp.get(name) != want:
            problems.append(f"CSP {name} {csp.get(name)}")
    if csp.get("frame-ancestors") not in (["'self'"], ["'none'"]):
        problems.append(f"CSP frame-ancestors {csp.get('frame-ancestors')}")
    scripts = csp.get("script-src", csp.get("default-src"))
    if scripts is None or not set(scripts) <= {"'self'", "'none'"}:
        problems.append(f"CSP script-src {scripts}")
    styles = csp.get("style-src", csp.get("default-src"))
    if "sandbox" not in csp and (styles is None or "'unsafe-inline'" in styles):
        problems.append(f"CSP style-src {styles}")
    expected = {"X-Content-Type-Options": {"nosniff"}, "X-Frame-Options": {"SAMEORIGIN", "DENY"},
                # not no-referrer: Flask-WTF checks the Referer of HTTPS form posts
                "Referrer-Policy": {"same-origin", "strict-origin-when-cross-origin"},
                "Cross-Origin-Opener-Policy": {"same-origin"}}
    for name, allowed in expected.items():
        if headers.get(name) not in allowed:
            problems.append(f"{name}: {headers.get(name)}")
    permissions = headers.get("Permissions-Policy", "")
    policies = permissions.split(", ")
    for feature in ("camera", "microphone", "geolocation", "payment"):
        granted, off = f"{feature}=(self)" in policies, f"{feature}=()" in policies
        if feature not in FEATURE_PAGES.get(endpoint, ()):
            if not off:
                problems.append(f"Permissions-Policy: {feature} not off")
        elif not (granted if response.status_code == 200 else granted or off):
            problems.append(f"Permissions-Policy: {feature} not granted to its page")
    hsts = headers.get("Strict-Transport-Security")
    if https and not (hsts and re.search(r"max-age=(\d{8,})", hsts)):
        problems.append(f"HSTS over https: {hsts}")
    if not https and hsts:
        problems.append(f"HSTS over plain http: {hsts}")
    cache = response.cache_control
    kind = CACHEABLE.get(endpoint)
    if kind is None and not cache.no_store:
        problems.append(f"Cache-Control: {headers.get('Cache-Control')}")
    if kind == "private" and response.status_code in (200, 206) and (cache.public or not cache.private):
        problems.append(f"Cache-Control of media: {headers.get('Cache-Control')}")
    return problems


class InlineCode(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block (or what only works with it)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and "src" not in values and values.get("type") != "application/json":
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name == "style":
                self.found.append(f"<{tag} style=…>")
            if value and re.match(r"\s*javascript:", value, re.I):
                self.found.append(f"<{tag} {name}=javascript:…>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def extra_calls(app) -> list[tuple[str, str, str]]:
    """Beyond the matrix: a fingerprinted static file, an unknown page, a wrong method."""
    with app.test_request_context():
        hashed = url_for("static", filename="css/app.css")
    assert hashed != "/static/css/app.css"
    return [("static", "GET", hashed), ("", "GET", "/no/such/page"), ("", "GET", "/api/v1/no-such"),
            ("", "PUT", "/login"), ("", "GET", "/logout")]


@pytest.mark.parametrize("role", ["anonymous", "member", "secretary", "admin"])
def test_every_route_sends_the_security_headers(app, world, role):
    client = app.test_client()
    if role != "anonymous":
        assert AuthActions(client).login(PHONES[role]).status_code == 302
    failures, pages = [], 0
    calls = [(c.endpoint, c.method, c.url) for c in walk(app, world)] + extra_calls(app)
    calls.sort(key=lambda c: c[0] == "auth.logout")  # stay logged in until the end
    for endpoint, method, url in calls:
        response = call(client, method, url)
        problems = header_problems(response, endpoint)
        if response.mimetype == "text/html" and response.status_code == 200:
            pages += 1
            problems += inline_code(response.get_data(as_text=True))
        response.close()
        if problems:
            failures.append(f"{method} {url} ({endpoint}, {response.status_code}): {problems}")
    assert not failures, f"{role}:\n" + "\n".join(failures)
    # the walk saw real pages (it stayed logged in), not only redirects and refusals
    assert pages >= {"anonymous": 4, "member": 20, "secretary": 35, "admin": 60}[role], pages


def test_api_with_a_bearer_token_sends_the_headers(app, world):
    client = app.test_client()
    headers = bearer(api_token(client, PHONES["member"]))
    failures = []
    for c in walk(app, world):
        if c.url.startswith("/api/"):
            response = client.open(c.url, method=c.method, headers=headers)
            if problems := header_problems(response, c.endpoint):
                failures.append(f"{c.method} {c.url}: {problems}")
    assert not failures, "\n".join(failures)


def test_hsts_only_over_https(app, city):
    plain, secure = app.test_client(), app.test_client()
    for client, https in ((plain, False), (secure, True)):
        base = "https://localhost" if https else "http://localhost"
        for url in ("/login", "/static/css/app.css", "/api/v1/openapi.json", "/no/such/page"):
            response = client.get(url, base_url=base)
            assert header_problems(response, "static" if "static" in url else "", https=https) == [], url
            assert ("Strict-Transport-Security" in response.headers) is https
            response.close()


def test_hsts_behind_a_trusted_proxy_only(app):
    """Behind nginx, HTTPS ends at the proxy: X-Forwarded-Proto counts only when proxies are
    configured (HONGFAN_TRUSTED_PROXIES), or anyone could ask for the header over plain http."""
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "Strict-Transport-Security" not in app.test_client().get("/login", headers=forwarded).headers
    proxied = create_app({**_settings(app), "TRUSTED_PROXIES": 1, "TESTING": True})
    assert "Strict-Transport-Security" in proxied.test_client().get("/login", headers=forwarded).headers
    assert "Strict-Transport-Security" not in proxied.test_client().get("/login").headers
    with proxied.app_context():
        db.engine.dispose()


def test_templates_have_no_inline_code():
    """Under the CSP an inline handler or style would silently do nothing: keep them out of
    every template (pages the walk cannot render in every state included)."""
    failures = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        found = inline_code(re.sub(r"{[{%#].*?[%}#]}", "", text, flags=re.S))
        found += [f"{m.group(0)}" for m in re.finditer(r"<script(?![^>]*\b(src|type=\"application/json\"))[^>]*>",
                                                     text)]
        if found:
            failures.append(f"{path.relative_to(TEMPLATES)}: {sorted(set(found))}")
    assert not failures, "\n".join(failures)


def test_inline_code_detector_sees_what_it_should():
    page = ('<p style="color:red" onclick="x()"><a href=" JavaScript:alert(1)">a</a></p><script>1</script>'
            '<script src="/static/js/app.js"></script><script type="application/json">{}</script>')
    assert sorted(inline_code(page)) == ["<a href=javascript:…>", "<p onclick=…>", "<p style=…>", "inline <script>"]


# --- cookies --------------------------------------------------------------------------------

def _settings(app) -> dict:
    """A second app on the fixture's database and instance folder."""
    return {"INSTANCE_PATH": app.instance_path, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test-secret-not-for-production"}


def _cookies(response) -> dict[str, str]:
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        name = header.split("=", 1)[0]
        found[name] = header
    return found


def _login(app, base_url: str):
    client = app.test_client()
    page = client.get("/login", base_url=base_url)
    response = client.post("/login", base_url=base_url, headers={"Referer": f"{base_url}/login"}, data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "phone": PHONES["member"], "password": PASSWORD,
        "remember": "y", "next": ""})
    assert response.status_code == 302, response.status_code
    return client, _cookies(response)


@pytest.fixture
def production(app, city):
    """The app as a deployment runs it: neither debug nor testing, settings left at their defaults."""
    made = []

    def make(**config):
        production_app = create_app({**_settings(app), **config})
        made.append(production_app)
        return production_app

    yield make
    for made_app in made:
        with made_app.app_context():
            db.engine.dispose()


def test_cookies_are_secure_httponly_lax_in_production(production):
    app = production()
    assert not app.debug and not app.testing
    _client, cookies = _login(app, "https://localhost")
    assert {"session", "remember_token"} <= set(cookies)
    for name in ("session", "remember_token"):
        flags = [part.strip().lower() for part in cookies[name].split(";")]
        assert "secure" in flags and "httponly" in flags and "samesite=lax" in flags, cookies[name]


def test_an_explicit_setting_wins(production, monkeypatch):
    monkeypatch.setenv("HONGFAN_SESSION_COOKIE_SECURE", "false")  # e.g. an intranet without TLS
    app = production()
    _client, cookies = _login(app, "http://localhost")
    for name in ("session", "remember_token"):
        flags = [part.strip().lower() for part in cookies[name].split(";")]
        assert "secure" not in flags and "httponly" in flags and "samesite=lax" in flags


def test_the_demo_server_drops_secure_for_plain_http(production):
    """`hongfan demo` serves http://127.0.0.1:5000 (README): its cookies must come back."""
    app = production()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert serve_plain_http(app) is True
    client, cookies = _login(app, "http://localhost")
    assert "secure" not in cookies["session"].lower()
    assert client.get("/", base_url="http://localhost").status_code == 200  # logged in
    explicit = production(SESSION_COOKIE_SECURE="true")
    assert serve_plain_http(explicit) is False and explicit.config["SESSION_COOKIE_SECURE"] is True


def test_secure_cookies_over_plain_http_are_logged_once(production, caplog):
    app = production()
    with caplog.at_level("WARNING", logger=app.logger.name):
        _login(app, "http://localhost")
        _login(app, "http://localhost")
    warnings = [r for r in caplog.records if "Secure cookies sent over plain http" in r.getMessage()]
    assert len(warnings) == 1


def test_testing_and_debug_apps_send_plain_cookies(app):
    assert app.config["SESSION_COOKIE_SECURE"] is False and app.config["REMEMBER_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_a_bad_cookie_setting_is_refused(app):
    with pytest.raises(UnsafeConfiguration, match="SESSION_COOKIE_SECURE"):
        create_app({**_settings(app), "TESTING": True, "SESSION_COOKIE_SECURE": "sometimes"})


# --- debug ----------------------------------------------------------------------------------

def _dev(tmp_path) -> dict:
    """A developer's settings: SQLite in a private folder."""
    return {"INSTANCE_PATH": str(tmp_path / "dev"), "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}",
            "SECRET_KEY": "test-secret-not-for-production"}


@pytest.mark.parametrize("setting", [
    {"SESSION_COOKIE_SECURE": True}, {"PREFERRED_URL_SCHEME": "https"}, {"TRUSTED_PROXIES": 1},
    {"MEDIA_ACCEL_PREFIX": "/_courses"}, {"REDIS_URL": "redis://127.0.0.1:6379/0"},
    {"DATABASE_URL": "postgresql+psycopg://hongfan@db.internal/hongfan"},
])
def test_debug_with_production_settings_refuses_to_start(app, tmp_path, setting):
    with pytest.raises(UnsafeConfiguration, match="debug mode is on"):
        create_app({**_dev(tmp_path), "DEBUG": True, **setting})


def test_debug_from_the_environment_is_refused_too(app, tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")  # `hongfan --debug run`
    monkeypatch.setenv("HONGFAN_SESSION_COOKIE_SECURE", "true")
    with pytest.raises(UnsafeConfiguration):
        create_app(_dev(tmp_path))
    monkeypatch.delenv("FLASK_DEBUG")
    monkeypatch.setenv("HONGFAN_DEBUG", "yes")
    with pytest.raises(UnsafeConfiguration):
        create_app(_dev(tmp_path))


def test_debug_on_a_developer_machine_starts(app, tmp_path, monkeypatch):
    monkeypatch.setenv("HONGFAN_DEBUG", "false")  # a string in the environment, not a truthy "false"
    quiet = create_app(_dev(tmp_path))
    assert quiet.debug is False and quiet.config["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("HONGFAN_DEBUG", "true")
    debugging = create_app(_dev(tmp_path))
    assert debugging.debug is True and debugging.config["SESSION_COOKIE_SECURE"] is False
    for made in (quiet, debugging):
        with made.app_context():
            db.engine.dispose()
