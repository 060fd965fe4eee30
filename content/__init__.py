"""Course packages: the format (FORMAT.md), validation, safe import and safe rendering.

Plain data in, plain data out: this package never imports Flask, SQLAlchemy or `learning`."""
from content.archive import ArchiveLimits, safe_extract
from content.export import export_zip
from content.markdown_html import render_markdown
from content.messages import MESSAGES
from content.model import (
    CATEGORIES,
    FORMAT_VERSION,
    OCCUPATIONS,
    CoursePackage,
    LessonSpec,
    PackageInvalid,
    Problem,
    QuestionSpec,
)
from content.package import load_package, open_package, validate_path
from content.quiz import grade

__all__ = [
    "ArchiveLimits", "CATEGORIES", "CoursePackage", "FORMAT_VERSION", "LessonSpec", "MESSAGES", "OCCUPATIONS",
    "PackageInvalid", "Problem", "QuestionSpec", "export_zip", "grade", "load_package", "open_package",
    "render_markdown", "safe_extract", "validate_path",
]
