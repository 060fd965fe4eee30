"""JSON in and out for the API: error bodies, timestamps and query parameters checked with a
message the caller can act on (in the caller's language)."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Response, jsonify, request
from flask_babel import gettext as _

from learning.timeutil import from_aware

# RFC 3339 date-time (what OpenAPI's "date-time" means): lower-case t/z and a leap second allowed.
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


class InvalidInput(Exception):
    """A bad request body or parameter: answered 400 with this message (see api.auth)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def error(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    """The API's one error shape: {"error": message, "status": status[, "field": name]}."""
    return jsonify({"error": message, "status": status, **extra}), status


def utc_iso(moment: datetime | None) -> str | None:
    """A stored naive-UTC moment as RFC 3339 with an explicit offset."""
    return None if moment is None else moment.replace(tzinfo=UTC).isoformat()


def parse_datetime(raw: str, field: str) -> datetime:
    """RFC 3339 with an offset, as naive UTC for comparison with stored values."""
    match = _RFC3339.match(raw.strip())
    if match is None:
        raise InvalidInput(_("%(field)s 应为带时区的 ISO 8601 时间，例如 2025-03-01T08:00:00+08:00。", field=field), field)
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = match.group(7) or ""
    zone = match.group(8).upper()
    text = (f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{min(second, 59):02d}"
            f"{fraction[:7]}{'+00:00' if zone == 'Z' else zone}")
    try:
        return from_aware(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        raise InvalidInput(_("%(field)s 不是有效的时间。", field=field), field) from None


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not low <= int(raw) <= high:
        raise InvalidInput(_("%(field)s 应为 %(low)s 到 %(high)s 之间的整数。", field=name, low=low, high=high), name)
    return int(raw)


def bool_arg(name: str) -> bool:
    raw = request.args.get(name)
    if raw is None:
        return False
    if raw.lower() in {"1", "true"}:
        return True
    if raw.lower() in {"0", "false"}:
        return False
    raise InvalidInput(_("%(field)s 应为 true 或 false。", field=name), name)


def choice_arg(name: str, allowed: list[str] | tuple[str, ...]) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise InvalidInput(_("%(field)s 应为以下之一：%(values)s。", field=name, values=", ".join(allowed)), name)
    return raw


def text_arg(name: str, max_length: int) -> str | None:
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        return None
    if len(raw) > max_length:
        raise InvalidInput(_("%(field)s 最多 %(n)s 个字符。", field=name, n=max_length), name)
    return raw.strip()


def json_object() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(_("请求体应为 JSON 对象（Content-Type: application/json）。"))
    return body
