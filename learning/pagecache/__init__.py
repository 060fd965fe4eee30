"""Rendered pages kept per member while nothing they show has changed.

The member home page is the page members open most — between every two lessons — and it is
built from a dozen queries and the plan. Each worker process keeps recently rendered pages, and
their compressed forms, in memory (bounded by HONGFAN_PAGE_CACHE_MB), under a key naming
everything the page depends on: the member and their page version, the academy's page epoch
(both bumped in the same transaction as any write that can change a page — versions.py), the
day, the language, the session's CSRF secret (the page carries a token for it), the newest
recommender model and the request's path. A request then costs its session, its member and
one indexed read of the epoch. Pages with flashed messages, and requests of sessions without a
CSRF secret yet, are rendered as usual and not kept. A request that comes again unchanged is
answered whole — headers and compressed body — before Flask (responses.py), after one read of
the member's row.

Several workers or servers each keep their own pages; the versions live in the database, so a
write seen by one is seen by all."""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Any

from flask import Flask, current_app, g, request, session
from flask_login import current_user
from learning.extensions import db
from learning.pagecache import responses
from learning.pagecache.responses import KEEPABLE

STORE = "hongfan_page_cache"  # app.extensions key
Stored = str | bytes | responses.KeptResponse
_UNKEPT = "-"


class PageStore:
    """A least-recently-used map of page keys to rendered pages (str), compressed forms (bytes)
    and whole answers (responses.KeptResponse), bounded by their total size; safe for a
    worker's threads. It is also
    Flask-Compress's cache backend (``COMPRESS_CACHE_BACKEND``): its keys are "<algorithm>;<page
    key>", and responses that are not kept pages come with the page key "-", never stored."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[str, Stored] = OrderedDict()
        self._lock = Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    @staticmethod
    def _cost(key: str, value: Stored) -> int:
        return len(key) + len(value) * (3 if isinstance(value, str) else 1)  # str: ≤ 3 bytes a character

    def set(self, key: str, value: Stored) -> None:
        cost = self._cost(key, value)
        if key.endswith(_UNKEPT) or cost > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= self._cost(key, old)
            self._items[key] = value
            self.size += cost
            while self.size > self.max_bytes:
                dropped_key, dropped = self._items.popitem(last=False)
                self.size -= self._cost(dropped_key, dropped)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.size = 0


def _epoch() -> int | None:
    """Read with the logged-in member (learning/auth); on its own when something else loaded them."""
    epoch = vars(current_user._get_current_object()).get("page_epoch")
    if epoch is None:
        epoch = db.session.connection().exec_driver_sql("SELECT version FROM page_epoch WHERE id = 1").scalar()
    return epoch


def _page_key() -> str | None:
    """The key of the page this request would render, or None when it must not be kept."""
    if not current_user.is_authenticated or request.method != "GET" or "_flashes" in session:
        return None
    secret = session.get("csrf_token")
    epoch = _epoch()
    if not secret or epoch is None:
        return None
    from learning.i18n import select_locale
    from learning.plans.models_store import newest_model_path
    from learning.timeutil import local_today

    model = newest_model_path()
    parts = (request.endpoint, request.full_path, current_user.id, current_user.page_version, epoch,
             local_today().isoformat(), select_locale(), secret, model.name if model else "")
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def cached_page(render: Callable[[], str]) -> str:
    """The page ``render`` makes for this request, from the store when it is there."""
    store: PageStore = current_app.extensions[STORE]
    key = _page_key() if store.max_bytes > 0 else None
    if key is None:
        return render()
    g.hongfan_page_key = key
    request.environ[KEEPABLE] = True  # responses.py may keep the whole answer
    page = store.get(key)
    if page is None:
        page = render()
        store.set(key, page)
    return page


def _compress_key(_request) -> str:
    return g.get("hongfan_page_key", _UNKEPT)


def init_app(app: Flask) -> None:
    """Before the compression extension (learning/pwa), which is handed the store as its cache."""
    from learning.pagecache import versions

    versions.watch()
    store = PageStore(int(app.config["PAGE_CACHE_MB"] * 1024 * 1024))
    app.extensions[STORE] = store
    app.config.setdefault("COMPRESS_CACHE_KEY", _compress_key)
    app.config.setdefault("COMPRESS_CACHE_BACKEND", lambda: store)
    if store.max_bytes > 0:
        responses.install(app, store)


def ensure_epoch() -> None:
    """The epoch row (the migration creates it; databases made from the models need it too)."""
    from learning.pagecache.models import PageEpoch

    if db.session.get(PageEpoch, 1) is None:
        db.session.add(PageEpoch(id=1, version=0))
