"""Security headers on every response, cookie flags, and no debug mode in production.

Headers (tests/test_security.py walks every route and checks each response):
- a Content-Security-Policy without inline script or style: scripts and styles come from
  /static only, so a tag smuggled past the sanitizer cannot run;
- X-Content-Type-Options, X-Frame-Options (for browsers without frame-ancestors),
  Referrer-Policy, Permissions-Policy, Cross-Origin-Opener-Policy;
- Strict-Transport-Security when, and only when, the request came over HTTPS (behind a proxy:
  X-Forwarded-Proto with HONGFAN_TRUSTED_PROXIES), so a plain-http demo never pins a browser;
- Cache-Control: no-store unless the view chose its own caching. Nearly every answer names a
  person (pages behind the login, the API, exports), and even the login page holds the
  session's CSRF token; the few responses that set their own lifetime are files that hold no
  personal data: fingerprinted static files (a year, immutable), the service worker and
  manifest, lesson media (private, an hour).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, make_response, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
# Nothing the academy does needs these; a page cannot ask for them even if script got in. The one
# exception is granted page by page (allow_features): a station's scanner uses the camera.
_FEATURES = ("accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope", "hid",
             "magnetometer", "microphone", "midi", "payment", "serial", "usb", "xr-spatial-tracking",
             "browsing-topics")


def permissions_policy(*allowed: str) -> str:
    """Every feature off, but the `allowed` ones for this origin's own page (not its frames)."""
    return ", ".join(f"{feature}=(self)" if feature in allowed else f"{feature}=()" for feature in _FEATURES)


PERMISSIONS_POLICY = permissions_policy()


def allow_features(*features: str) -> Callable:
    """A view decorator: the page it answers may use these browser features (the station's
    scanner page the camera); every other page keeps them all off."""
    unknown = set(features) - set(_FEATURES)
    if unknown:
        raise ValueError(f"unknown features: {sorted(unknown)}")
    policy = permissions_policy(*features)

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def answer(*args: Any, **kwargs: Any) -> Response:
            response = make_response(view(*args, **kwargs))
            response.headers["Permissions-Policy"] = policy
            return response
        return answer
    return wrap


HSTS = "max-age=31536000; includeSubDomains"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class UnsafeConfiguration(RuntimeError):
    """The settings ask for something that must never run in production."""


def _flag(value: Any, key: str) -> bool | None:
    """A boolean setting as written in hongfan.toml, the environment or create_app(config);
    None for "auto"."""
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    if text == "auto":
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise UnsafeConfiguration(f"{key}: expected true, false or auto, got {value!r}")


def production_signs(config: dict[str, Any]) -> list[str]:
    """The settings only a deployment makes. Debug mode next to any of them is refused."""
    signs = []
    if config.get("SESSION_COOKIE_SECURE") is True and config.get("SECURE_COOKIES_EXPLICIT"):
        signs.append("HONGFAN_SESSION_COOKIE_SECURE=true")
    if str(config.get("PREFERRED_URL_SCHEME", "http")).lower() == "https":
        signs.append("PREFERRED_URL_SCHEME=https")
    if not str(config.get("SQLALCHEMY_DATABASE_URI", "sqlite")).startswith("sqlite"):
        signs.append("a PostgreSQL database (HONGFAN_DATABASE_URL)")
    if int(config.get("TRUSTED_PROXIES") or 0) > 0:
        signs.append("HONGFAN_TRUSTED_PROXIES>0 (behind a reverse proxy)")
    if config.get("MEDIA_ACCEL_PREFIX"):
        signs.append("HONGFAN_MEDIA_ACCEL_PREFIX (served by nginx)")
    if config.get("REDIS_URL"):
        signs.append("HONGFAN_REDIS_URL (several application servers)")
    return signs


def configure(app: Flask) -> None:
    """Resolve the cookie flags and refuse debug mode in production.

    HONGFAN_SESSION_COOKIE_SECURE is true, false or auto (the default): auto sends the session
    and remember-me cookies with Secure except in debug or testing mode, and `hongfan demo`
    turns it off for its plain-http server (learning/cli.py). HttpOnly and SameSite=Lax always.
    """
    config = app.config
    debug = _flag(config.get("DEBUG"), "DEBUG") or False  # HONGFAN_DEBUG arrives as a string
    config["DEBUG"] = debug
    secure = _flag(config.get("SESSION_COOKIE_SECURE", "auto"), "SESSION_COOKIE_SECURE")
    config["SECURE_COOKIES_EXPLICIT"] = secure is not None
    if secure is None:
        secure = not (debug or config.get("TESTING"))
    config["SESSION_COOKIE_SECURE"] = secure
    remember = _flag(config.get("REMEMBER_COOKIE_SECURE", "auto"), "REMEMBER_COOKIE_SECURE")
    config["REMEMBER_COOKIE_SECURE"] = secure if remember is None else remember
    for prefix in ("SESSION", "REMEMBER"):
        config[f"{prefix}_COOKIE_HTTPONLY"] = True
        if not config.get(f"{prefix}_COOKIE_SAMESITE"):  # Flask's default is None
            config[f"{prefix}_COOKIE_SAMESITE"] = "Lax"
    if debug and (signs := production_signs(config)):
        raise UnsafeConfiguration(
            "debug mode is on (FLASK_DEBUG, --debug or HONGFAN_DEBUG) with production settings: "
            + ", ".join(signs) + ". The debugger must never run in production; turn debug off.")


def serve_plain_http(app: Flask) -> bool:
    """For a local plain-http server (`hongfan demo`): drop Secure from the cookies unless the
    operator asked for it explicitly, since a browser would not send them back over http.
    Returns whether it did."""
    if app.config.get("SECURE_COOKIES_EXPLICIT") or not app.config.get("SESSION_COOKIE_SECURE"):
        return False
    app.config["SESSION_COOKIE_SECURE"] = False
    app.config["REMEMBER_COOKIE_SECURE"] = False
    return True


def init_app(app: Flask) -> None:
    configure(app)
    # Behind nginx, HTTPS ends at the proxy: learning/ops applies ProxyFix for the configured
    # TRUSTED_PROXIES, so request.is_secure (HSTS, Secure cookies) reflects X-Forwarded-Proto.
    warned: list[bool] = []

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            headers["Strict-Transport-Security"] = HSTS
        elif "Set-Cookie" in headers and app.config["SESSION_COOKIE_SECURE"] and not warned:
            warned.append(True)
            app.logger.warning(
                "Secure cookies sent over plain http: browsers other than on localhost drop them and "
                "nobody can log in. Serve over HTTPS (behind a proxy: X-Forwarded-Proto and "
                "HONGFAN_TRUSTED_PROXIES) or set HONGFAN_SESSION_COOKIE_SECURE=false.")
        if "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
            response.vary.add("Cookie")
        return response
