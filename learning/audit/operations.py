"""Writing audit entries. Values are stored as data (JSON), never as pre-formatted log lines,
so a line break inside a name cannot forge a second entry."""
from __future__ import annotations

import re
from typing import Any

from flask import has_request_context, request
from sqlalchemy.orm import Session

from learning.audit.models import AuditEvent
from learning.database import SAFE_METHODS, write_transactions
from learning.extensions import db

_PHONE = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")
# C0/C1 controls and the Unicode line and paragraph separators: anything that could start a
# new line in a log viewer, a terminal or an export.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
SECRET_KEYS = frozenset({"password", "token", "code", "secret"})


def mask_phone(text: str) -> str:
    return _PHONE.sub(r"\1****\2", text)


def clean_text(text: str) -> str:
    """Masked phones, control characters shown as visible escapes (\\n, \\x1b)."""
    escaped = _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    return mask_phone(escaped)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean(v) for k, v in value.items() if k not in SECRET_KEYS}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def record(action: str, *, actor_id: int | None, target: str = "", address: str | None = None,
           **detail: Any) -> AuditEvent:
    event = AuditEvent(action=action, actor_id=actor_id, target=clean_text(target)[:255],
                       detail=_clean(detail), address=address)
    db.session.add(event)
    return event


def record_read(action: str, *, actor_id: int | None, target: str = "", address: str | None = None,
                **detail: Any) -> None:
    """Audit a read that the law wants logged (an export of personal data).

    Within a GET request it is written and committed at once, in a short write transaction of
    its own, before the data leaves: GET requests otherwise change nothing and keep SQLite's
    read transactions (learning/database.py), and a read transaction that writes at its end
    fails with "database is locked" when another writer committed meanwhile (a 500 seen under
    the wapiti scan, docs/security.md). Elsewhere (CLI, POST) it joins the caller's transaction."""
    if not has_request_context() or request.method not in SAFE_METHODS:
        record(action, actor_id=actor_id, target=target, address=address, **detail)
        return
    with write_transactions(), Session(db.engine) as session:
        session.add(AuditEvent(action=action, actor_id=actor_id, target=clean_text(target)[:255],
                               detail=_clean(detail), address=address))
        session.commit()
