"""Courses made in the browser. A draft is an ordinary package folder (course.toml, lessons/,
media/) in instance/drafts/<course id>/; the editor's forms write its files, and saving the
course runs the same validator and importer as an uploaded package, so a browser-made course
and an uploaded one cannot differ.

Every form save is all-or-nothing even inside the draft: the changed files are staged, the whole
draft is validated, and if the saved file (or its media) has a problem the draft is put back as
it was and the problems are shown next to their fields."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from content import Problem, validate_path
from content.markdown_html import resolve_package_path
from content.package import COURSE_ID, COURSE_KEYS, COURSE_TOML
from content.quiz import LETTERS
from content.tomllines import TomlLines
from content.writer import format_duration, markdown_lesson, quiz_lesson, read_raw, toml_table
from learning.catalog.models import Course
from learning.catalog.storage import drafts_root, work_dir

# Problems a course form cannot fix: they are about lessons, shown when the course is saved.
LESSON_LEVEL = frozenset({"course-empty", "course-no-required-lesson", "lesson-missing", "lesson-listed-twice"})
MAX_OPTIONS = len(LETTERS)

# Field names of problems: "title", "questions.2.answer", "body", "media"; "" is the file itself.
Placed = dict[str, dict[str, list[str]]]


# --- reading ------------------------------------------------------------------------------

@dataclass
class Draft:
    slug: str
    root: Path

    @classmethod
    def find(cls, slug: str) -> Draft | None:
        """The draft of course `slug`, or None. The id is checked before it becomes a path."""
        if not COURSE_ID.match(slug):
            return None
        root = drafts_root() / slug
        return cls(slug, root) if (root / COURSE_TOML).is_file() else None

    def text(self, relpath: str) -> str:
        try:
            return (self.root / relpath).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return ""

    def course_fields(self) -> dict[str, Any]:
        try:
            return tomllib.loads(self.text(COURSE_TOML))
        except tomllib.TOMLDecodeError:
            return {}

    def lesson_files(self) -> list[str]:
        """Lesson file names in course order: the `lessons` list when there is one, else sorted."""
        listed = self.course_fields().get("lessons")
        if isinstance(listed, list) and all(isinstance(name, str) for name in listed):
            return [name for name in listed if "/" not in name and (self.root / "lessons" / name).is_file()]
        folder = self.root / "lessons"
        return sorted(p.name for p in folder.iterdir() if p.suffix in (".md", ".toml")) if folder.is_dir() else []

    def lessons(self) -> list[LessonInput]:
        return [self.lesson(name) for name in self.lesson_files()]

    def lesson(self, name: str) -> LessonInput:
        quiz = name.endswith(".toml")
        data, body = read_raw(self.text(f"lessons/{name}"), quiz=quiz)
        return LessonInput.from_file(name, data, body)

    def referenced(self, relpath: str, *, ignore: str | None = None) -> bool:
        """Whether any lesson (other than `ignore`) or course.toml names the media file."""
        needle = relpath.removeprefix("media/")
        texts = [self.text(COURSE_TOML)] + [self.text(f"lessons/{name}") for name in self.lesson_files()
                                             if name != ignore]
        return any(needle in text for text in texts)


def draft_slugs() -> list[str]:
    root = drafts_root()
    return sorted(p.name for p in root.iterdir() if (p / COURSE_TOML).is_file() and COURSE_ID.match(p.name))


# --- form values ----------------------------------------------------------------------------

@dataclass
class QuestionInput:
    type: str = "single"
    prompt: str = ""
    options: list[str] = field(default_factory=lambda: ["", "", "", ""])
    correct: set[int] = field(default_factory=set)  # option slots marked right
    truth: str = ""  # truefalse: "true" / "false" / "" (not chosen)
    explanation: str = ""

    def fields(self) -> dict[str, Any]:
        """The question as the format writes it. Empty option slots are dropped and the marks
        follow their options; answers of the wrong shape are written as given for the validator."""
        data: dict[str, Any] = {"type": self.type, "prompt": self.prompt}
        if self.type == "truefalse":
            data["answer"] = {"true": True, "false": False}.get(self.truth)
        else:
            kept = [(slot, text) for slot, text in enumerate(self.options) if text.strip()]
            data["options"] = [text.strip() for _, text in kept]
            letters = [LETTERS[i] for i, (slot, _) in enumerate(kept) if slot in self.correct]
            if self.type == "single":
                data["answer"] = letters[0] if len(letters) == 1 else (letters or None)
            else:
                data["answer"] = letters or None
        data["explanation"] = self.explanation
        return data

    @classmethod
    def from_file(cls, data: dict[str, Any]) -> QuestionInput:
        options = [str(o) for o in data.get("options", [])] if isinstance(data.get("options"), list) else []
        answer = data.get("answer")
        letters = answer if isinstance(answer, list) else [answer]
        correct = {LETTERS.index(a.upper()) for a in letters if isinstance(a, str) and a.upper() in LETTERS}
        truth = {True: "true", False: "false"}.get(answer, "") if isinstance(answer, bool) else ""
        return cls(type=str(data.get("type", "single")), prompt=str(data.get("prompt", "")),
                   options=pad_options(options), correct=correct, truth=truth,
                   explanation=str(data.get("explanation", "")))


def pad_options(options: list[str]) -> list[str]:
    """Option slots for the editor: the ones in use and two empty ones (four to eight in all),
    positions kept, since the "correct" marks refer to them."""
    used = max((i + 1 for i, text in enumerate(options) if text.strip()), default=0)
    size = min(MAX_OPTIONS, max(4, used + 2))
    return (list(options[:size]) + [""] * MAX_OPTIONS)[:size]


@dataclass
class LessonInput:
    """A lesson as its edit form holds it: raw text the administrator typed."""

    name: str | None  # file name in lessons/, None for a lesson not saved yet
    kind: str
    title: str = ""
    duration: str = "5m"
    min_dwell: str = ""
    requires: list[str] = field(default_factory=list)
    optional: bool = False
    body: str = ""  # Markdown body; for a quiz, its intro
    media: str | None = None  # "media/…", from the package root
    pass_score: str = "60"  # noqa: S105 -- a quiz's pass mark, not a password
    questions: list[QuestionInput] = field(default_factory=list)

    @property
    def slug(self) -> str | None:
        return Path(self.name).stem if self.name else None

    @property
    def is_quiz(self) -> bool:
        return self.kind == "quiz"

    @classmethod
    def from_file(cls, name: str, data: dict[str, Any], body: str) -> LessonInput:
        quiz = name.endswith(".toml")
        requires = data.get("requires", [])
        questions = data.get("questions", []) if quiz else []
        return cls(
            name=name, kind="quiz" if quiz else str(data.get("kind", "text")),
            title=str(data.get("title", "")), duration=format_duration(data.get("duration")),
            min_dwell=format_duration(data.get("min_dwell")),
            requires=[str(r) for r in requires] if isinstance(requires, list) else [],
            optional=data.get("optional") is True, body=body,
            media=data["media"] if isinstance(data.get("media"), str) else None,
            pass_score=str(data.get("pass_score", 60)),
            questions=[QuestionInput.from_file(q) for q in questions if isinstance(q, dict)]
            if isinstance(questions, list) else [],
        )

    def text(self) -> str:
        front: dict[str, Any] = {"title": self.title, "kind": self.kind, "duration": _number_or_text(self.duration)}
        if self.min_dwell.strip():
            front["min_dwell"] = _number_or_text(self.min_dwell)
        if self.media and not self.is_quiz and self.kind != "text":
            front["media"] = self.media
        front["requires"] = self.requires
        if self.optional:
            front["optional"] = True
        if not self.is_quiz:
            return markdown_lesson(front, self.body)
        front["pass_score"] = _number_or_text(self.pass_score)
        if self.body.strip():
            front["intro"] = self.body.replace("\r\n", "\n")
        return quiz_lesson(front, [q.fields() for q in self.questions])


def _number_or_text(value: str) -> int | str:
    """Whole numbers as TOML integers (seconds, percent); anything else as the string typed."""
    value = value.strip()
    return int(value) if re.fullmatch(r"-?\d{1,9}", value) else value


def _number(value: str) -> int | float | str:
    """A number as typed ("2" stays 2, so a message quotes it back as written), else the text."""
    value = value.strip()
    try:
        return int(value) if re.fullmatch(r"-?\d{1,9}", value) else float(value)
    except ValueError:
        return value


def course_text(fields: dict[str, Any]) -> str:
    """course.toml from the course form's values (and the lesson order and cover kept as they are)."""
    data = {key: fields.get(key) for key in COURSE_KEYS}
    data["format"] = 1
    hours = fields.get("hours")
    data["hours"] = _number(hours) if isinstance(hours, str) else hours
    return toml_table(data)


# --- writing -------------------------------------------------------------------------------

class Staging:
    """Changes to a draft's files that can be undone until kept. Replaced files are moved aside
    (a rename, cheap even for a long video) rather than copied."""

    def __init__(self, root: Path):
        self.root = root
        self._aside = Path(tempfile.mkdtemp(prefix="draft-undo-", dir=work_dir()))
        self._undo: list[tuple[Path, Path | None]] = []

    def _set_aside(self, relpath: str) -> Path:
        target = self.root / relpath
        if target.exists():
            aside = self._aside / str(len(self._undo))
            os.replace(target, aside)
            self._undo.append((target, aside))
        else:
            self._undo.append((target, None))
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write(self, relpath: str, text: str) -> None:
        self._set_aside(relpath).write_text(text, encoding="utf-8")

    def move_in(self, relpath: str, source: Path) -> None:
        os.replace(source, self._set_aside(relpath))

    def remove(self, relpath: str) -> None:
        self._set_aside(relpath)

    def undo(self) -> None:
        for target, aside in reversed(self._undo):
            target.unlink(missing_ok=True)
            if aside is not None:
                os.replace(aside, target)
        self.keep()

    def keep(self) -> None:
        shutil.rmtree(self._aside, ignore_errors=True)
        self._undo.clear()


def check(draft_root: Path, locale: str) -> list[Problem]:
    _pkg, problems = validate_path(draft_root, locale)
    return problems


def place(problems: Iterable[Problem], draft: Draft) -> Placed:
    """Problems by file and field, so each is shown next to what it is about."""
    placed: Placed = {}
    owners = _media_owners(draft)
    for problem in problems:
        file, where = problem.file, ""
        if file in owners:  # a bad media file is the fault of the form that uploaded it
            file, where = owners[file]
        elif file == COURSE_TOML and problem.line is not None:
            path = TomlLines(draft.text(COURSE_TOML)).path_at(problem.line)
            where = str(path[0]) if path else ""
        elif file.startswith("lessons/"):
            where = _lesson_field(problem, draft.text(file), quiz=file.endswith(".toml"))
        placed.setdefault(file, {}).setdefault(where, []).append(problem.message)
    return placed


def _media_owners(draft: Draft) -> dict[str, tuple[str, str]]:
    owners: dict[str, tuple[str, str]] = {}
    cover = draft.course_fields().get("cover")
    if isinstance(cover, str) and (path := resolve_package_path(cover)):
        owners[path] = (COURSE_TOML, "cover")
    for lesson in draft.lessons():
        if lesson.media and (path := resolve_package_path(lesson.media)):
            owners[path] = (f"lessons/{lesson.name}", "media")
    return owners


def _lesson_field(problem: Problem, text: str, *, quiz: bool) -> str:
    code = problem.code
    if code.startswith("markdown-") or code == "lesson-body-empty":
        return "body"
    if code == "media-required":
        return "media"
    if code == "quiz-no-questions":
        return "questions"
    if problem.line is None:
        return ""
    if quiz:
        path = TomlLines(text).path_at(problem.line)
    else:
        lines = text.split("\n")
        close = next((i for i in range(1, len(lines)) if lines[i].strip() == "+++"), len(lines))
        if problem.line > close + 1:
            return "body"
        path = TomlLines("\n".join(lines[1:close]), offset=1).path_at(problem.line)
    return ".".join(str(part) for part in path) if path else ""


def problems_of(placed: Placed, *files: str) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for file in files:
        for where, messages in placed.get(file, {}).items():
            merged.setdefault(where, []).extend(messages)
    return merged


def next_version(version: str) -> str:
    """1.0.0 -> 1.0.1, v2 -> v3, draft -> draft.1: the version a browser edit proposes."""
    match = re.fullmatch(r"(.*?)(\d+)", version)
    bumped = f"{match.group(1)}{int(match.group(2)) + 1}" if match else f"{version}.1"
    return bumped[:32]


def new_lesson_name(draft: Draft, kind: str) -> str:
    taken = {Path(p).stem for p in os.listdir(draft.root / "lessons")} if (draft.root / "lessons").is_dir() else set()
    n = len(taken) + 1
    while f"{n:02d}-{kind}" in taken:
        n += 1
    return f"{n:02d}-{kind}" + (".toml" if kind == "quiz" else ".md")


def create_draft(fields: dict[str, Any], locale: str) -> tuple[Draft, dict[str, list[str]]]:
    """A new, empty course draft from the course form; nothing stays on disk unless its
    course.toml is valid (problems about lessons aside: it has none yet)."""
    root = drafts_root() / fields["id"]
    shutil.rmtree(root, ignore_errors=True)  # a folder without course.toml is no draft: a leftover
    root.mkdir()
    draft = Draft(fields["id"], root)
    errors = save_course(draft, fields, None, locale)
    if errors:
        shutil.rmtree(root, ignore_errors=True)
    return draft, errors


def start_from_course(course: Course, store_root: Path) -> Draft:
    """A draft holding the course's stored package, with the metadata as the administrator last
    saved it (the metadata form edits rows, not the stored package) and the next version."""
    root = drafts_root() / course.slug
    staging = Path(tempfile.mkdtemp(prefix="draft-", dir=work_dir())) / course.slug
    shutil.copytree(store_root / course.media_dir, staging) if course.media_dir else staging.mkdir()
    draft = Draft(course.slug, staging)
    fields = draft.course_fields()
    fields.update(id=course.slug, version=next_version(course.version), title=course.title,
                  summary=course.summary, category=course.category, hours=course.hours,
                  audience=list(course.audience))
    fields.setdefault("lessons", draft.lesson_files())
    (staging / COURSE_TOML).write_text(course_text(fields), encoding="utf-8")
    os.replace(staging, root)
    shutil.rmtree(staging.parent, ignore_errors=True)
    return Draft(course.slug, root)


def save_course(draft: Draft, fields: dict[str, Any], cover: Path | None, locale: str,
                cover_suffix: str = "") -> dict[str, list[str]]:
    """Write course.toml (and a new cover image); {} when saved, else problems by field."""
    current = draft.course_fields()
    fields = {**fields, "lessons": draft.lesson_files() if current else [],
              "cover": current.get("cover") if isinstance(current.get("cover"), str) else None}
    stage = Staging(draft.root)
    old_cover = fields["cover"]
    if cover is not None:
        fields["cover"] = f"media/cover{cover_suffix}"
        stage.move_in(fields["cover"], cover)
    stage.write(COURSE_TOML, course_text(fields))
    if old_cover and old_cover != fields["cover"] and not draft.referenced(old_cover, ignore=None) \
            and (path := resolve_package_path(old_cover)):
        stage.remove(path)
    placed = place([p for p in check(draft.root, locale) if p.code not in LESSON_LEVEL], draft)
    errors = problems_of(placed, COURSE_TOML)
    if errors:
        stage.undo()
    else:
        stage.keep()
    return errors


def save_lesson(draft: Draft, lesson: LessonInput, media: Path | None, media_suffix: str,
                locale: str) -> dict[str, list[str]]:
    """Write one lesson (and its new media file); {} when saved, else problems by field and
    the draft unchanged. A new lesson is added at the end of the course."""
    stage = Staging(draft.root)
    order = draft.lesson_files()
    if lesson.name is None:
        lesson.name = new_lesson_name(draft, lesson.kind)
        fields = draft.course_fields()
        fields["lessons"] = [*order, lesson.name]
        stage.write(COURSE_TOML, course_text(fields))
    old_media = lesson.media
    if media is not None:
        lesson.media = f"media/{lesson.slug}{media_suffix}"
        stage.move_in(lesson.media, media)
    source = f"lessons/{lesson.name}"
    stage.write(source, lesson.text())
    if old_media and old_media != lesson.media and (path := resolve_package_path(old_media)) \
            and not draft.referenced(old_media, ignore=lesson.name):
        stage.remove(path)
    problems = check(draft.root, locale)
    errors = problems_of(place(problems, draft), source)
    if errors:
        stage.undo()
        lesson.media = old_media
    else:
        stage.keep()
    return errors


def move_lesson(draft: Draft, name: str, action: str) -> None:
    """Up, down or delete. A deleted lesson's media goes with it unless something else uses it."""
    order = draft.lesson_files()
    if name not in order:
        return
    index = order.index(name)
    stage = Staging(draft.root)
    if action == "delete":
        media = draft.lesson(name).media
        order.remove(name)
        stage.remove(f"lessons/{name}")
        if media and (path := resolve_package_path(media)) and not draft.referenced(media, ignore=name):
            stage.remove(path)
    elif action in ("up", "down"):
        other = index - 1 if action == "up" else index + 1
        if 0 <= other < len(order):
            order[index], order[other] = order[other], order[index]
    fields = draft.course_fields()
    fields["lessons"] = order
    stage.write(COURSE_TOML, course_text(fields))
    stage.keep()
