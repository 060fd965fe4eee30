"""The plain, frozen data a course package turns into. Nothing here knows about files or Flask."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from content.junk import is_junk

FORMAT_VERSION = 1

CATEGORIES: tuple[str, ...] = (
    "理论学习", "党史", "党章党规", "政策法规", "职业技能", "安全", "权益保障", "社会治理", "数字技能",
)
OCCUPATIONS: tuple[str, ...] = ("快递员", "外卖骑手", "货车司机", "网约车司机", "主播", "平台企业员工", "其他")

LessonKind = Literal["text", "video", "audio", "pdf", "quiz"]
QuestionKind = Literal["single", "multiple", "truefalse"]
LESSON_KINDS: tuple[str, ...] = ("text", "video", "audio", "pdf", "quiz")
QUESTION_KINDS: tuple[str, ...] = ("single", "multiple", "truefalse")
TRUEFALSE_OPTIONS: tuple[str, str] = ("正确", "错误")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a package. `file` is relative to the package root (or the archive
    entry name); `line` is 1-based, None when the problem has no single line (a missing key)."""

    file: str
    line: int | None
    code: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: [{self.code}] {self.message}"


class PackageInvalid(Exception):
    """Raised with every problem found, never just the first."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class QuestionSpec:
    kind: QuestionKind
    prompt: str
    options: tuple[str, ...]
    answer: tuple[int, ...]  # 0-based option indices, sorted; truefalse: (0,) true, (1,) false
    explanation: str


@dataclass(frozen=True)
class LessonSpec:
    slug: str  # lesson id: the file name without extension
    title: str
    kind: LessonKind
    duration_s: int
    min_dwell_s: int
    requires: tuple[str, ...]
    optional: bool
    body_markdown: str
    media: str | None  # relative to the package root, e.g. "media/talk.mp4"
    pass_score: int | None  # percent; quiz lessons only
    questions: tuple[QuestionSpec, ...]
    digest: str  # sha256 hex of everything that defines the lesson, media bytes included
    source: str  # relative file path, e.g. "lessons/01-intro.md"


@dataclass(frozen=True)
class CoursePackage:
    format: int
    id: str
    version: str
    title: str
    summary: str
    category: str
    hours: float
    audience: tuple[str, ...]
    tags: tuple[str, ...]
    cover: str | None  # relative to the package root
    lessons: tuple[LessonSpec, ...]
    # ids of other courses to study first (shape checked; existence is the importer's business)
    prerequisites: tuple[str, ...]
    # Where the files are. Excluded from equality: the same package loaded from a folder and
    # from its zip is the same package.
    root: Path = field(compare=False)
    # The temporary folder load_package extracted a zip into (root is inside it); None when the
    # package was loaded from a folder. cleanup() removes it.
    tempdir: Path | None = field(default=None, compare=False)

    def lesson(self, slug: str) -> LessonSpec:
        for spec in self.lessons:
            if spec.slug == slug:
                return spec
        raise KeyError(slug)

    def media_files(self) -> tuple[str, ...]:
        """Every media file of the package (relative to the root, sorted): what an importer
        copies. Desktop junk a folder package may hold (.DS_Store, Thumbs.db) is left out."""
        media = self.root / "media"
        if not media.is_dir():
            return ()
        return tuple(sorted(
            relpath for p in media.rglob("*")
            if p.is_file() and not p.is_symlink()
            and not is_junk(relpath := p.relative_to(self.root).as_posix())
        ))

    def cleanup(self) -> None:
        """Remove the temporary extraction folder (no-op for folder packages). Idempotent."""
        if self.tempdir is not None:
            shutil.rmtree(self.tempdir, ignore_errors=True)

    def __enter__(self) -> CoursePackage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()
