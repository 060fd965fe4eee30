"""Where imported course packages live: instance/courses/<course id>/<version>-<random>/."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

# Work folders older than this are leftovers of a crash or a killed worker, never an upload in
# progress (which takes minutes at most).
STALE_AFTER_S = 6 * 3600


def course_store() -> Path:
    root = Path(current_app.instance_path) / "courses"
    root.mkdir(parents=True, exist_ok=True)
    return root


def drafts_root() -> Path:
    """Browser-made course packages being edited (instance/drafts/<course id>/). Not under
    work_dir(): a draft may rest for days, and stale work folders are removed at start-up."""
    root = Path(current_app.instance_path) / "drafts"
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


_REMOVE_KEY = "hongfan_remove_after_commit"


def remove_after_commit(session: Session, folder: Path) -> None:
    """Delete `folder` once the session's transaction commits, never before: a superseded
    version's files must outlive a rollback that would keep the old version current."""
    session.info.setdefault(_REMOVE_KEY, []).append(folder)


@event.listens_for(Session, "after_commit")
def _remove_committed(session: Session) -> None:
    for folder in session.info.pop(_REMOVE_KEY, ()):
        shutil.rmtree(folder, ignore_errors=True)


@event.listens_for(Session, "after_rollback")
def _forget_removals(session: Session) -> None:
    session.info.pop(_REMOVE_KEY, None)


def unreferenced_versions(store_root: Path, current: dict[str, str | None], now: float | None = None) -> list[Path]:
    """Version folders in the store that no course points at (`current`: course id -> its
    media_dir), older than STALE_AFTER_S so an import still in progress is never touched.
    Leftovers of imports that failed after copying, or whose cleanup was interrupted."""
    limit = (now if now is not None else time.time()) - STALE_AFTER_S
    keep = {value for value in current.values() if value}
    found = []
    for course_dir in sorted(p for p in store_root.iterdir() if p.is_dir() and not p.is_symlink()):
        for version_dir in sorted(course_dir.iterdir()):
            name = f"{course_dir.name}/{version_dir.name}"
            if name not in keep and version_dir.is_dir() and version_dir.lstat().st_mtime < limit:
                found.append(version_dir)
    return found
