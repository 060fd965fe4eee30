"""Failed-login limits per account and per client address, shared by every server process.

Flask-Limiter's storages are memory, Redis, Memcached and MongoDB — none of them the
database — and this limit must hold across processes with no extra service, so the counters
live in the database by default and in Redis when HONGFAN_REDIS_URL is set.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from flask import current_app
from sqlalchemy import delete, select

from learning.auth.models import LoginThrottle
from learning.extensions import db
from learning.timeutil import utcnow


@dataclass(frozen=True)
class Limit:
    key: str
    maximum: int


class ThrottleStore(Protocol):
    def failures(self, key: str) -> int: ...
    def add_failure(self, key: str) -> None: ...
    def clear(self, key: str) -> None: ...


class DatabaseStore:
    """Fixed windows in the login_throttle table. Reads and failure writes use their own
    short transactions: a failed login answers with an error and rolls the request back, yet
    its failure must still count."""

    def __init__(self, window_s: int) -> None:
        self.window = timedelta(seconds=window_s)

    def failures(self, key: str) -> int:
        with db.engine.begin() as conn:
            row = conn.execute(
                select(LoginThrottle.failures, LoginThrottle.window_start).where(LoginThrottle.key == key)
            ).first()
        if row is None or row.window_start + self.window <= utcnow():
            return 0
        return row.failures

    def add_failure(self, key: str) -> None:
        now = utcnow()
        with db.engine.begin() as conn:
            row = conn.execute(
                select(LoginThrottle.failures, LoginThrottle.window_start)
                .where(LoginThrottle.key == key)
                .with_for_update()
            ).first()
            table = LoginThrottle.__table__
            if row is None:
                conn.execute(table.insert().values(key=key, window_start=now, failures=1))
            elif row.window_start + self.window <= now:
                conn.execute(table.update().where(table.c.key == key).values(window_start=now, failures=1))
            else:
                conn.execute(
                    table.update().where(table.c.key == key).values(failures=table.c.failures + 1)
                )

    def clear(self, key: str) -> None:
        # Part of the successful login's own transaction.
        db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


class RedisStore:
    def __init__(self, url: str, window_s: int) -> None:
        import redis  # optional dependency: the "redis" extra

        self.client = redis.Redis.from_url(url)
        self.window_s = window_s

    def failures(self, key: str) -> int:
        value = self.client.get(f"hongfan:login:{key}")
        return int(value) if value else 0

    def add_failure(self, key: str) -> None:
        name = f"hongfan:login:{key}"
        with self.client.pipeline() as pipe:
            pipe.incr(name)
            pipe.expire(name, self.window_s, nx=True)
            pipe.execute()

    def clear(self, key: str) -> None:
        self.client.delete(f"hongfan:login:{key}")


def store() -> ThrottleStore:
    cfg = current_app.config
    ext = current_app.extensions
    if "hongfan_throttle" not in ext:
        window = int(cfg["LOGIN_LIMIT_WINDOW_S"])
        ext["hongfan_throttle"] = RedisStore(cfg["REDIS_URL"], window) if cfg.get("REDIS_URL") else DatabaseStore(window)
    return ext["hongfan_throttle"]


def limits_for(phone: str, address: str) -> list[Limit]:
    cfg = current_app.config
    return [
        Limit(f"acct:{phone}", int(cfg["LOGIN_LIMIT_PER_ACCOUNT"])),
        Limit(f"addr:{address}", int(cfg["LOGIN_LIMIT_PER_ADDRESS"])),
    ]


def blocked(limits: list[Limit]) -> bool:
    s = store()
    return any(s.failures(limit.key) >= limit.maximum for limit in limits)


def add_failure(limits: list[Limit]) -> None:
    s = store()
    for limit in limits:
        s.add_failure(limit.key)


def clear_account(limits: list[Limit]) -> None:
    store().clear(limits[0].key)
