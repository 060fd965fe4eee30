"""Uploaded roster files between preview and commit: kept in the instance tmp folder under a
random token, readable only by the person who uploaded them (start-up cleaning removes
leftovers after six hours)."""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from learning.catalog.storage import work_dir

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass(frozen=True)
class Upload:
    token: str
    path: Path
    filename: str
    org_code: str


def _paths(token: str) -> tuple[Path, Path]:
    root = work_dir()
    return root / f"roster-{token}.bin", root / f"roster-{token}.json"


def save(data: bytes, *, filename: str, uploader_id: int | None, org_code: str) -> Upload:
    token = secrets.token_urlsafe(24)
    data_path, meta_path = _paths(token)
    data_path.write_bytes(data)
    meta_path.write_text(json.dumps({"uploader": uploader_id, "filename": filename, "org": org_code}),
                         encoding="utf-8")
    return Upload(token, data_path, filename, org_code)


def load(token: str, *, uploader_id: int | None, org_code: str) -> Upload | None:
    if not _TOKEN.match(token):
        return None
    data_path, meta_path = _paths(token)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("uploader") != uploader_id or meta.get("org") != org_code or not data_path.is_file():
        return None
    return Upload(token, data_path, str(meta.get("filename", "")), org_code)


def discard(upload: Upload) -> None:
    for path in _paths(upload.token):
        path.unlink(missing_ok=True)
