"""Where imported course packages live: instance/courses/<course id>/<version>-<random>/."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from flask import Flask, current_app

# Work folders older than this are leftovers of a crash or a killed worker, never an upload in
# progress (which takes minutes at most).
STALE_AFTER_S = 6 * 3600


def course_store() -> Path:
    root = Path(current_app.instance_path) / "courses"
    root.mkdir(parents=True, exist_ok=True)
    return root


def work_dir() -> Path:
    """Temporary space for uploads and package extraction, inside the instance folder so a
    crash leaves nothing anywhere else."""
    root = Path(current_app.instance_path) / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    return root


def clean_stale_work(app: Flask, now: float | None = None) -> int:
    """Remove leftovers of interrupted uploads and imports (called at start-up)."""
    root = Path(app.instance_path) / "tmp"
    if not root.is_dir():
        return 0
    limit = (now if now is not None else time.time()) - STALE_AFTER_S
    removed = 0
    for entry in root.iterdir():
        if entry.lstat().st_mtime < limit:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed += 1
    return removed
