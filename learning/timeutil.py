"""Time helpers. The database stores naive UTC; years and days are counted in the academy's zone."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_ZONE = "Asia/Shanghai"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def academy_zone() -> ZoneInfo:
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE", DEFAULT_ZONE) if has_app_context() else DEFAULT_ZONE
    return ZoneInfo(name)


def to_local(moment: datetime) -> datetime:
    """A stored naive-UTC moment as an aware local time."""
    return moment.replace(tzinfo=UTC).astimezone(academy_zone())


def local_year(moment: datetime) -> int:
    """学时 count per calendar year in local time: 31 December 23:30 in Beijing is that year."""
    return to_local(moment).year


def local_today() -> date:
    return datetime.now(academy_zone()).date()


def from_aware(moment: datetime) -> datetime:
    """An aware datetime (e.g. parsed ISO 8601 with offset) as naive UTC for storage."""
    if moment.tzinfo is None:
        raise ValueError("timezone-aware datetime required")
    return moment.astimezone(UTC).replace(tzinfo=None)
