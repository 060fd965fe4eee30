"""Structured logs: one line per request, and the app's own messages, as JSON (or text).

Everything goes through the standard `logging` module under the app's logger ("learning"), to
standard error — systemd's journal, or whatever runs the process, keeps it. A request line
carries the time, method, path, status, duration, the member's id when one is known and the
request id. What it never carries: query strings (a search for a phone number, a redemption
code), bodies (passwords, activation codes), headers (cookies, bearer tokens), and the secret
parts of a path (an invitation token) — those are replaced by the variable's name. SQL
parameters are kept out of exception messages by the engine (`hide_parameters`, see
learning/database.py), PostgreSQL's DETAIL lines (which quote row values) are cut, and any
mobile number left in a message or traceback is replaced by "[phone]".
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any, Callable, Iterable

from flask import Flask, Response, g, request
from flask.logging import default_handler
from flask_login import current_user

REQUEST_ID_HEADER = "X-Request-ID"
# A request id from the proxy (or a phone) is kept only when it is short and plain: it ends up in
# a log line, so it must not be a way to write arbitrary text there.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# URL variables whose value is a credential: logged as "<token>".
_SECRET_ARG = re.compile(r"token|secret|password", re.IGNORECASE)

ENVIRON_ID = "hongfan.request_id"
ENVIRON_MEMBER = "hongfan.member_id"
ENVIRON_PATH = "hongfan.log_path"
ENVIRON_ENDPOINT = "hongfan.endpoint"

FIELDS = "hongfan_fields"  # the `extra` key a record's structured fields travel under

# The last line of defence, applied to messages, tracebacks and path fields: a mainland mobile
# number anywhere, and PostgreSQL's DETAIL lines, which quote the offending row's values
# ("Key (phone)=(138…) already exists", "Failing row contains (…)").
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_PG_DETAIL = re.compile(r"^(DETAIL:).*$", re.MULTILINE)


def scrub(text: str) -> str:
    return _PHONE.sub("[phone]", _PG_DETAIL.sub(r"\1 [values not logged]", text))


def _scrubbed(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: scrub(v) if isinstance(v, str) and k != "request_id" else v for k, v in fields.items()}


def _now_iso(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _request_id_of(record: logging.LogRecord) -> str | None:
    fields = getattr(record, FIELDS, None) or {}
    if "request_id" in fields:
        return fields["request_id"]
    from flask import has_request_context

    return request.environ.get(ENVIRON_ID) if has_request_context() else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the record's fields, and
    the traceback as one string when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": _now_iso(record.created), "level": record.levelname,
                                "logger": record.name, "message": scrub(record.getMessage())}
        line.update(_scrubbed(getattr(record, FIELDS, None) or {}))
        if "request_id" not in line and (rid := _request_id_of(record)):
            line["request_id"] = rid
        if record.exc_info:
            line["exception"] = scrub("".join(traceback.format_exception(*record.exc_info)).rstrip())
        elif record.stack_info:
            line["stack"] = scrub(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For a person reading a terminal: `time LEVEL logger message key=value …`."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _scrubbed(getattr(record, FIELDS, None) or {})
        if "request_id" not in fields and (rid := _request_id_of(record)):
            fields["request_id"] = rid
        text = f"{_now_iso(record.created)} {record.levelname} {record.name} {scrub(record.getMessage())}"
        if fields:
            text += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        if record.exc_info:
            text += "\n" + scrub("".join(traceback.format_exception(*record.exc_info)).rstrip())
        return text


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure(app: Flask) -> None:
    """Put one handler with the configured format on the app's logger (replacing Flask's
    default one and any handler an earlier app in this process installed)."""
    fmt = str(app.config["LOG_FORMAT"]).lower()
    if fmt not in ("json", "text"):
        raise ValueError(f"HONGFAN_LOG_FORMAT must be json or text, not {fmt!r}")
    level = str(app.config["LOG_LEVEL"]).upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ValueError(f"HONGFAN_LOG_LEVEL {level!r} is not a logging level")
    logger = logging.getLogger(app.name)
    for handler in list(logger.handlers):
        if handler is default_handler or getattr(handler, "hongfan", False):
            logger.removeHandler(handler)
    handler = _StderrHandler()
    handler.hongfan = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)


def _clean_request_id(raw: str | None) -> str:
    if raw and _REQUEST_ID.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


def _log_path() -> str:
    """The request's path with secret URL variables replaced by their name."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if _SECRET_ARG.search(name) and value:
            path = path.replace(str(value), f"<{name}>")
    return path


def _member_id() -> int | None:
    if request.endpoint == "static":  # never load a member just to log a stylesheet
        return None
    api_member = g.get("api_member") if request.path.startswith("/api/") else None
    if api_member is not None:
        return api_member.id
    return current_user.id if current_user.is_authenticated else None


class RequestLog:
    """WSGI middleware: gives every request an id (the proxy's X-Request-ID when it sent a sane
    one), returns it in the response, and logs one line when the app has answered."""

    def __init__(self, wsgi_app: Callable, logger: logging.Logger, enabled: bool) -> None:
        self.wsgi_app = wsgi_app
        self.logger = logger
        self.enabled = enabled

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        rid = _clean_request_id(environ.get("HTTP_X_REQUEST_ID"))
        environ[ENVIRON_ID] = rid
        status: list[int] = []

        def _start(status_line: str, headers: list, exc_info=None):
            status.append(int(status_line.split(" ", 1)[0]))
            headers[:] = [(k, v) for k, v in headers if k.lower() != REQUEST_ID_HEADER.lower()]
            headers.append((REQUEST_ID_HEADER, rid))
            return start_response(status_line, headers, exc_info)

        try:
            body = self.wsgi_app(environ, _start)
        except BaseException:
            self._log(environ, 500, started, exc_info=True)
            raise
        self._log(environ, status[-1] if status else 500, started)
        return body

    def _log(self, environ: dict, status: int, started: float, exc_info: bool = False) -> None:
        if not self.enabled and not exc_info:
            return
        path = environ.get(ENVIRON_PATH) or environ.get("PATH_INFO", "")
        fields = {"method": environ.get("REQUEST_METHOD"), "path": path, "status": status,
                  "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                  "member_id": environ.get(ENVIRON_MEMBER), "request_id": environ[ENVIRON_ID]}
        if endpoint := environ.get(ENVIRON_ENDPOINT):
            fields["endpoint"] = endpoint
        level = logging.ERROR if status >= 500 else logging.INFO
        if status < 400 and fields.get("endpoint") == "ops.healthz":
            level = logging.DEBUG  # a balancer asks every few seconds: not worth a line each time
        self.logger.log(level, "%s %s %s", fields["method"], path, status, extra={FIELDS: fields},
                        exc_info=exc_info)


def init_app(app: Flask) -> None:
    configure(app)

    @app.after_request
    def _remember(response: Response) -> Response:
        # Read while the request is alive; the middleware writes the line after it ends.
        environ = request.environ
        environ[ENVIRON_PATH] = _log_path()
        environ[ENVIRON_ENDPOINT] = request.endpoint
        try:
            environ[ENVIRON_MEMBER] = _member_id()
        except Exception:  # the database may be the reason this is an error response
            environ[ENVIRON_MEMBER] = None
        return response

    app.wsgi_app = RequestLog(app.wsgi_app, logging.getLogger(f"{app.name}.request"),
                              enabled=bool(app.config["LOG_REQUESTS"]))
