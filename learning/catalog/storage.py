"""Where imported course packages live: instance/courses/<course id>/<version>-<random>/."""
from __future__ import annotations

from pathlib import Path

from flask import current_app


def course_store() -> Path:
    root = Path(current_app.instance_path) / "courses"
    root.mkdir(parents=True, exist_ok=True)
    return root
