"""Configuration: defaults → instance/hongfan.toml → HONGFAN_* environment → create_app(config=...)."""
from __future__ import annotations

import json
import os
import secrets
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "HONGFAN_"

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # None → sqlite file in the instance folder
    "SECRET_KEY": None,  # None → generated once into instance/secret_key
    "REDIS_URL": None,  # when set, login throttling counters live in Redis
    "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": ["zh_Hans_CN", "en"],
    "ANNUAL_TARGET_MEMBER": 32.0,
    "ANNUAL_TARGET_SECRETARY": 56.0,
    # Learner kinds the annual 学时 target applies to (Party members); the others have none.
    "TARGET_KINDS": ["full", "probationary"],
    # Course categories open to every learner kind, whatever a course's allowed kinds say.
    "OPEN_CATEGORIES": ["职业技能", "数字技能"],
    # 学习心得: length limits in characters.
    "REFLECTION_MIN_CHARS": 50,
    "REFLECTION_MAX_CHARS": 3000,
    # Course categories whose 学时 count toward the annual target; empty = every category.
    "TARGET_CATEGORIES": [],
    # How far in the future (phone clock ahead of the server) a study event may claim to be.
    "EVENT_CLOCK_SKEW_S": 300,
    # argon2id parameters (OWASP minimum m=19 MiB, t=2, p=1); hashes made with other
    # parameters are upgraded at the next successful login.
    "ARGON2_TIME_COST": 2,
    "ARGON2_MEMORY_COST": 19456,
    "ARGON2_PARALLELISM": 1,
    "LOGIN_LIMIT_PER_ACCOUNT": 5,  # failed logins per account per window
    "LOGIN_LIMIT_PER_ADDRESS": 30,  # failed logins per client address per window
    "LOGIN_LIMIT_WINDOW_S": 900,
    "REMEMBER_DAYS": 30,
    "API_TOKEN_DAYS": 90,  # bearer tokens for phones and integrations expire after this
    # Secure flag of the session and remember-me cookies: true, false, or auto (on unless in
    # debug or testing mode; `hongfan demo` serves plain http and turns it off). learning/security.py
    "SESSION_COOKIE_SECURE": "auto",
    "PREFERRED_URL_SCHEME": "http",
    "SQLITE_BUSY_TIMEOUT_MS": 15000,
    "UPLOAD_MAX_BYTES": 2 * 1024**3,
    "MEDIA_ACCEL_PREFIX": "",  # e.g. "/_courses": nginx serves media via X-Accel-Redirect
    "TRUSTED_PROXIES": 0,  # number of reverse proxies in front (X-Forwarded-For hops to trust)
    # Forum (党员网上论坛): posts per member in a sliding window, and the longest post.
    "FORUM_POSTS_PER_10_MIN": 5,
    "FORUM_POSTS_PER_DAY": 40,
    "FORUM_POST_MAX_CHARS": 5000,
    "FORUM_PAGE_SIZE": 20,
    # Operations (learning/ops): a read replica for dashboards, logs, `hongfan serve`.
    "REPLICA_DATABASE_URL": None,  # None → statistics read the primary database
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "json",  # json (one object per line) or text
    "LOG_REQUESTS": True,  # one line per request
    "SERVE_BIND": "127.0.0.1:8000",  # host:port or unix:/path; several separated by commas
    "SERVE_WORKERS": 0,  # 0 → one worker process per CPU core
    "SERVE_THREADS": 8,  # threads per worker: requests served at once by each process
    "SERVE_TIMEOUT": 60,  # s a worker may stay silent before it is restarted
    "SERVE_GRACEFUL_TIMEOUT": 30,  # s for requests in flight to finish on restart/stop
    "SERVE_KEEPALIVE": 5,  # s an idle keep-alive connection stays open
    "SERVE_MAX_REQUESTS": 0,  # restart a worker after this many requests (0: never)
    "PAGE_CACHE_MB": 64,  # rendered member pages kept per worker process (learning/pagecache); 0: off
}

# Keys whose environment value is JSON-ish rather than a plain string.
_TYPED = {k: type(v) for k, v in DEFAULTS.items() if v is not None}


def _coerce(key: str, raw: str) -> Any:
    kind = _TYPED.get(key)
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind is int:
        return int(raw)
    if kind is float:
        return float(raw)
    if kind is list:
        return json.loads(raw) if raw.strip().startswith("[") else [p.strip() for p in raw.split(",")]
    return raw


def load_config(instance_path: Path, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    cfg = dict(DEFAULTS)
    toml_file = instance_path / "hongfan.toml"
    if toml_file.is_file():
        with toml_file.open("rb") as fh:
            cfg.update({k.upper(): v for k, v in tomllib.load(fh).items()})
    for name, raw in os.environ.items():
        if name.startswith(ENV_PREFIX):
            key = name[len(ENV_PREFIX):]
            cfg[key] = _coerce(key, raw)
    if overrides:
        cfg.update(overrides)
    return cfg


def finalize(cfg: dict[str, Any], instance_path: Path) -> dict[str, Any]:
    """Derive the settings Flask and its extensions read from our own keys."""
    if not cfg.get("DATABASE_URL"):
        cfg["DATABASE_URL"] = f"sqlite:///{instance_path / 'hongfan.sqlite3'}"
    cfg["SQLALCHEMY_DATABASE_URI"] = cfg["DATABASE_URL"]
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = _instance_secret(instance_path)
    days = timedelta(days=int(cfg["REMEMBER_DAYS"]))
    cfg.setdefault("REMEMBER_COOKIE_DURATION", days)
    cfg.setdefault("PERMANENT_SESSION_LIFETIME", days)
    # Cookie flags (Secure, HttpOnly, SameSite) are settled by learning/security.py.
    # The CSRF token lives as long as the session: a quiz opened on the bus and sent an
    # hour later must not lose its answers.
    cfg.setdefault("WTF_CSRF_TIME_LIMIT", None)
    cfg.setdefault("MAX_CONTENT_LENGTH", cfg["UPLOAD_MAX_BYTES"])
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    return cfg


def _instance_secret(instance_path: Path) -> str:
    path = instance_path / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    # Written to a private temporary file, then hard-linked into place: the link fails if
    # another process got there first, and nobody ever reads a half-written key.
    tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48))
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()
