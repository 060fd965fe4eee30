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


def test_library_prerequisites_name_library_courses():
    """The starter library is imported as a whole: a prerequisite outside it would be ignored."""
    wanted = {}
    for name in COURSES:
        pkg, _problems = validate_path(LIBRARY / name)
        assert pkg is not None
        wanted[name] = pkg.prerequisites
    assert wanted["party-history"] == ("theory-basics",)
    assert {p for needs in wanted.values() for p in needs} <= set(COURSES)
