"""Whatever bytes arrive, validation answers with problems, never with an exception."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content import PackageInvalid, safe_extract, validate_path


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 2**20), st.integers(0, 255)), min_size=1, max_size=8))
def test_damaged_zip_is_either_extracted_whole_or_refused(package, tmp_path, flips):
    good = tmp_path / "good.zip"
    if not good.exists():
        package.zip(good)
    data = bytearray(good.read_bytes())
    for position, value in flips:
        data[position % len(data)] = value
    work = Path(tempfile.mkdtemp(dir=tmp_path))
    archive = work / "upload.zip"
    archive.write_bytes(bytes(data))
    try:
        names = safe_extract(archive, work / "out")
    except PackageInvalid as exc:
        assert exc.problems
        assert sorted(p.name for p in work.iterdir()) == ["upload.zip"]  # nothing half-extracted
    else:
        assert names and all((work / "out" / n).is_file() for n in names)
    pkg, problems = validate_path(archive, workdir=work / "tmp")
    assert (pkg is None) == bool(problems)
    if pkg is not None:
        pkg.cleanup()
    assert not (work / "tmp").exists() or list((work / "tmp").iterdir()) == []
    shutil.rmtree(work)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_any_course_toml_gives_problems_not_exceptions(package, text):
    package.write("course.toml", text)
    pkg, problems = validate_path(package.root)
    assert pkg is None and problems


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_any_lesson_front_matter_gives_problems_or_a_lesson(package, text):
    package.write("lessons/01-intro.md", "+++\n" + text + "\n+++\n正文\n")
    pkg, problems = validate_path(package.root)
    assert (pkg is None) == bool(problems)
