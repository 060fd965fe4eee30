"""Writing audit entries. Values are stored as data (JSON), never as pre-formatted log lines,
so a line break inside a name cannot forge a second entry."""
from __future__ import annotations

import re
from typing import Any

from learning.audit.models import AuditEvent
from learning.extensions import db

_PHONE = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")


def mask_phone(text: str) -> str:
    return _PHONE.sub(r"\1****\2", text)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return mask_phone(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in {"password", "token", "code"}}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def record(action: str, *, actor_id: int | None, target: str = "", address: str | None = None,
           **detail: Any) -> AuditEvent:
    event = AuditEvent(action=action, actor_id=actor_id, target=mask_phone(target)[:255],
                       detail=_clean(detail), address=address)
    db.session.add(event)
    return event
