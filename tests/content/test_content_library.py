"""Every course shipped in content/library/ must validate without a single problem."""
from __future__ import annotations

from pathlib import Path

import pytest

from content import validate_path

LIBRARY = Path(__file__).resolve().parents[2] / "content" / "library"
COURSES = sorted(p.name for p in LIBRARY.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))) \
    if LIBRARY.is_dir() else []


@pytest.mark.parametrize("name", COURSES)
def test_library_course_validates(name):
    pkg, problems = validate_path(LIBRARY / name)
    assert problems == [], "\n".join(str(p) for p in problems)
    assert pkg is not None and pkg.id == name  # the folder is named after the course id
    assert pkg.lessons
