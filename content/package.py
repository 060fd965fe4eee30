"""Loading and validating a whole course package (folder or .zip).

Validation never stops at the first problem: every file is read, every field checked, and the
cross-file rules (media, prerequisites, images, cover) run on whatever could be read, so an
administrator fixes a package in one round instead of ten."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from content.archive import ArchiveLimits, safe_extract
from content.fields import INVALID, TableReader
from content.filetypes import IMAGE_TYPES, LESSON_MEDIA, MEDIA_TYPES, check_file, file_type
from content.junk import is_junk
from content.lessons import LESSON_ID, ParsedLesson, read_lesson, read_text
from content.markdown_html import body_refs, disallowed_html, resolve_package_path
from content.messages import Reporter, Term
from content.model import (
    CATEGORIES,
    FORMAT_VERSION,
    OCCUPATIONS,
    CoursePackage,
    LessonSpec,
    PackageInvalid,
    Problem,
)
from content.tomllines import TomlLines, decode_error

COURSE_KEYS = ("format", "id", "version", "title", "summary", "category", "hours", "audience", "tags",
               "cover", "lessons", "prerequisites")
COURSE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,31}$")
MAX_HOURS = 100
MAX_PREREQUISITES = 10
COURSE_TOML = "course.toml"


@dataclass
class _Tree:
    """The files of a package: relative POSIX path -> declared type (MEDIA_TYPES / lesson)."""

    root: Path
    files: dict[str, str] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)

    def sha256(self, relpath: str) -> str:
        if relpath not in self.hashes:
            digest = hashlib.sha256()
            with (self.root / relpath).open("rb") as f:
                while chunk := f.read(1024 * 1024):
                    digest.update(chunk)
            self.hashes[relpath] = digest.hexdigest()
        return self.hashes[relpath]


def _scan(root: Path, rep: Reporter) -> _Tree:
    """Every file under root, classified by where it sits; symlinks are never followed."""
    tree = _Tree(root)
    stack = [root]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as it:
            for item in sorted(it, key=lambda e: e.name):
                relpath = Path(item.path).relative_to(root).as_posix()
                if is_junk(relpath):
                    continue
                if item.is_symlink():
                    rep.add(relpath, None, "file-symlink")
                elif item.is_dir(follow_symlinks=False):
                    stack.append(Path(item.path))
                elif not item.is_file(follow_symlinks=False):
                    rep.add(relpath, None, "file-disallowed")
                else:
                    kind = _place(relpath)
                    if kind is None:
                        rep.add(relpath, None, "file-disallowed")
                    else:
                        tree.files[relpath] = kind
    for relpath, kind in sorted(tree.files.items()):
        if kind in MEDIA_TYPES.values():
            issue = check_file(root / relpath, kind)
            if issue:
                rep.add(relpath, None, issue.code, **issue.params)
    return tree


def _place(relpath: str) -> str | None:
    """The type a file may have at its place in the package, or None when it may not be there."""
    parts = relpath.split("/")
    if relpath == COURSE_TOML:
        return "course"
    if len(parts) == 2 and parts[0] == "lessons" and Path(parts[1]).suffix in (".md", ".toml"):
        return "lesson"
    if len(parts) >= 2 and parts[0] == "media":
        ftype = file_type(relpath)
        return ftype if ftype in MEDIA_TYPES.values() else None
    return None


def _read_course(tree: _Tree, rep: Reporter) -> tuple[TableReader | None, dict[str, Any]]:
    if COURSE_TOML not in tree.files:
        rep.add(COURSE_TOML, None, "course-toml-missing")
        return None, {}
    text = read_text(tree.root / COURSE_TOML, COURSE_TOML, rep)
    if text is None:
        return None, {}
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        detail, line = decode_error(exc)
        rep.add(COURSE_TOML, line, "toml-syntax", detail=detail)
        return None, {}
    r = TableReader(data, TomlLines(text), (), COURSE_TOML, rep)
    values: dict[str, Any] = {}
    fmt = r.integer("format")
    if fmt is not INVALID and fmt != FORMAT_VERSION:
        # a newer format may mean other fields entirely; checking them would only add noise
        r.report("format", "format-unsupported", value=fmt, supported=FORMAT_VERSION)
        return None, {}
    values["format"] = fmt
    r.unknown_keys(COURSE_KEYS)
    course_id = r.string("id", max_len=100)
    if course_id is not INVALID and not COURSE_ID.match(course_id):
        r.report("id", "id-invalid", value=course_id)
        course_id = INVALID
    values["id"] = course_id
    version = r.string("version", max_len=100)
    if version is not INVALID and not VERSION.match(version):
        r.report("version", "version-invalid", value=version)
        version = INVALID
    values["version"] = version
    values["title"] = r.string("title", max_len=100)
    values["summary"] = r.string("summary", max_len=1000)
    category = r.string("category", max_len=20)
    if category is not INVALID and category not in CATEGORIES:
        r.report("category", "category-unknown", value=category, allowed=CATEGORIES)
        category = INVALID
    values["category"] = category
    hours = r.number("hours")
    if hours is not INVALID and not 0 < hours <= MAX_HOURS:
        r.report("hours", "hours-out-of-range", value=hours)
        hours = INVALID
    values["hours"] = float(hours) if hours is not INVALID else INVALID
    audience = r.string_list("audience", max_items=len(OCCUPATIONS), max_len=20)
    if audience is not INVALID:
        unknown = [a for a in audience if a not in OCCUPATIONS]
        for value in unknown:
            rep.add(COURSE_TOML, r.value_line("audience", value), "audience-unknown", value=value,
                    allowed=OCCUPATIONS)
        audience = INVALID if unknown else tuple(dict.fromkeys(audience))
    values["audience"] = audience
    values["tags"] = r.string_list("tags", max_items=20, max_len=20)
    values["cover"] = r.string("cover", required=False, default=None, max_len=200)
    values["lessons"] = r.string_list("lessons", required=False, default=None, max_items=200, max_len=100)
    values["prerequisites"] = _read_prerequisites(r, course_id, rep)
    return r, values


def _read_prerequisites(r: TableReader, course_id: Any, rep: Reporter) -> Any:
    """Ids of other courses to study first. Only their shape is checked here: whether they exist
    is known at import time (an unknown one is kept, ignored by plans, shown to administrators)."""
    listed = r.string_list("prerequisites", max_items=MAX_PREREQUISITES, max_len=100)
    if listed is INVALID:
        return INVALID
    ok = True
    for index, value in enumerate(listed):
        line = r.value_line("prerequisites", value, listed[:index].count(value))
        if not COURSE_ID.match(value):
            rep.add(COURSE_TOML, line, "prerequisite-invalid", value=value)
            ok = False
        elif value == course_id:
            rep.add(COURSE_TOML, line, "prerequisite-self", value=value)
            ok = False
    return tuple(dict.fromkeys(listed)) if ok else INVALID


def _lesson_order(tree: _Tree, course: TableReader | None, listed: Any, rep: Reporter) -> list[str]:
    """The lesson files of the course, in order (relative paths)."""
    present = sorted(p for p, kind in tree.files.items() if kind == "lesson")
    if listed is None or listed is INVALID or course is None:
        return present
    order: list[str] = []
    for index, name in enumerate(listed):
        relpath = f"lessons/{name}"
        line = course.value_line("lessons", name, listed[:index].count(name))
        if relpath in order:
            rep.add(COURSE_TOML, line, "lesson-listed-twice", name=name)
        elif "/" in name or relpath not in present:
            rep.add(COURSE_TOML, line, "lesson-missing", name=name)
        else:
            order.append(relpath)
    for relpath in present:
        if relpath not in order:
            rep.add(relpath, None, "lesson-unlisted")
    return order


def _check_media(lesson: ParsedLesson, tree: _Tree, rep: Reporter) -> str | None:
    line = lesson.lines.key("media")
    if lesson.kind is INVALID or lesson.media is INVALID:
        return None
    if lesson.kind == "text":
        if lesson.media is not None:
            rep.add(lesson.source, line, "media-forbidden")
        return None
    if lesson.kind == "quiz":
        return None
    if lesson.media is None:
        rep.add(lesson.source, None, "media-required", kind=lesson.kind)
        return None
    path = resolve_package_path(lesson.media)
    if path is None:
        rep.add(lesson.source, line, "path-outside-media", path=lesson.media)
        return None
    if path not in tree.files:
        rep.add(lesson.source, line, "media-missing", path=path)
        return None
    found = tree.files[path]
    if found not in LESSON_MEDIA[lesson.kind]:
        expected = {"video": "video", "audio": "audio", "pdf": "pdf-document"}[lesson.kind]
        rep.add(lesson.source, line, "media-wrong-kind", path=path, found=found, kind=lesson.kind,
                expected=Term(expected))
        return None
    return path


def _check_body(lesson: ParsedLesson, tree: _Tree, rep: Reporter) -> list[str]:
    """Problems with images, links and raw HTML in the body; returns the media files it uses."""
    used = []
    for ref in body_refs(lesson.body):
        line = lesson.body_line + ref.line
        if ref.element == "html":
            for tag in disallowed_html(ref.url):
                rep.add(lesson.source, line, "markdown-html-removed", tag=tag)
            continue
        target = ref.ref
        assert target is not None  # noqa: S101 -- only html refs (handled above) have none; for type checkers
        if ref.element == "image":
            if target.kind != "media":
                rep.add(lesson.source, line, "markdown-image-outside-media", url=ref.url)
            elif target.path not in tree.files:
                rep.add(lesson.source, line, "markdown-image-missing", path=target.path)
            elif tree.files[target.path] not in IMAGE_TYPES:
                rep.add(lesson.source, line, "markdown-image-not-image", path=target.path)
            else:
                used.append(target.path)
        elif target.kind == "invalid":
            rep.add(lesson.source, line, "markdown-link-invalid", url=ref.url)
        elif target.kind == "media":
            if target.path not in tree.files:
                rep.add(lesson.source, line, "markdown-link-missing", path=target.path)
            else:
                used.append(target.path)
    if lesson.kind == "text" and not lesson.body.strip():
        rep.add(lesson.source, None, "lesson-body-empty")
    return used


def _check_requires(lessons: list[ParsedLesson], slugs: set[str], rep: Reporter) -> None:
    """`slugs` are the ids of every lesson in the course, including ones whose file could not be
    read (their own problem is reported; a reference to them is not a second one)."""
    graph: dict[str, list[str]] = {}
    for lesson in lessons:
        if lesson.requires is INVALID:
            continue
        for value in lesson.requires:
            if value not in slugs:
                rep.add(lesson.source, lesson.lines.value(("requires",), value), "requires-unknown", value=value)
        graph[lesson.slug] = [v for v in lesson.requires if v in slugs]
    by_slug = {lesson.slug: lesson for lesson in lessons}
    reported: set[tuple[str, ...]] = set()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(slug: str, path: list[str]) -> None:
        state[slug] = 1
        path.append(slug)
        for nxt in graph.get(slug, ()):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):]
                # the same cycle is found from whichever member the walk enters first
                start = cycle.index(min(cycle))
                key = tuple(cycle[start:] + cycle[:start])
                if key not in reported:
                    reported.add(key)
                    first = by_slug[key[0]]
                    rep.add(first.source, first.lines.key("requires"), "requires-cycle",
                            cycle=" → ".join((*key, key[0])))
            elif nxt not in state:
                visit(nxt, path)
        path.pop()
        state[slug] = 2

    for lesson in lessons:
        if lesson.slug not in state:
            visit(lesson.slug, [])


def _check_cover(course: TableReader, cover: Any, tree: _Tree, rep: Reporter) -> None:
    if cover is None or cover is INVALID:
        return
    line = course.line("cover")
    path = resolve_package_path(cover)
    if path is None:
        rep.add(COURSE_TOML, line, "path-outside-media", path=cover)
    elif path not in tree.files:
        rep.add(COURSE_TOML, line, "cover-missing", path=cover)
    elif tree.files[path] not in IMAGE_TYPES:
        rep.add(COURSE_TOML, line, "cover-not-image", path=cover)


def lesson_digest(lesson: ParsedLesson, media: str | None, used: list[str], tree: _Tree) -> str:
    """sha256 over a canonical form of everything that defines the lesson, including the bytes of
    its media file and of every media file its body shows or links. Formatting of the source
    (whitespace, key order, comments in front matter) does not change it."""
    document = {
        "slug": lesson.slug,
        "title": lesson.title,
        "kind": lesson.kind,
        "duration_s": lesson.duration_s,
        "min_dwell_s": lesson.min_dwell_s,
        "requires": list(lesson.requires),
        "optional": lesson.optional,
        "body_markdown": lesson.body,
        "media": media,
        "media_sha256": tree.sha256(media) if media else None,
        "pass_score": lesson.pass_score,
        "questions": [[q.kind, q.prompt, list(q.options), list(q.answer), q.explanation]
                      for q in lesson.questions],
        "body_media": {path: tree.sha256(path) for path in sorted(set(used))},
    }
    blob = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _validate_tree(root: Path, rep: Reporter, tempdir: Path | None) -> CoursePackage | None:
    tree = _scan(root, rep)
    course, values = _read_course(tree, rep)
    order = _lesson_order(tree, course, values.get("lessons"), rep)
    present = sorted(p for p, kind in tree.files.items() if kind == "lesson")
    parsed: dict[str, ParsedLesson] = {}
    slugs: dict[str, str] = {}
    for relpath in present:
        stem = Path(relpath).stem
        if not LESSON_ID.match(stem):
            rep.add(relpath, None, "lesson-bad-id", name=Path(relpath).name)
        elif stem in slugs:
            rep.add(relpath, None, "lesson-duplicate-id", slug=stem, other=slugs[stem])
        slugs.setdefault(stem, relpath)
        lesson = read_lesson(root / relpath, relpath, rep)
        if lesson is not None:
            parsed[relpath] = lesson
    lessons = [parsed[p] for p in order if p in parsed]
    if course is not None and not order:
        rep.add(COURSE_TOML, course.line("lessons"), "course-empty")
    if lessons and len(lessons) == len(order) and all(lesson.optional is True for lesson in lessons):
        rep.add(COURSE_TOML, course.line("lessons") if course else None, "course-no-required-lesson")
    media: dict[str, str | None] = {}
    used: dict[str, list[str]] = {}
    for lesson in parsed.values():
        media[lesson.source] = _check_media(lesson, tree, rep)
        used[lesson.source] = _check_body(lesson, tree, rep)
    _check_requires(lessons, {Path(p).stem for p in order}, rep)
    if course is not None:
        _check_cover(course, values.get("cover"), tree, rep)
    if rep.problems or course is None:
        return None
    specs = tuple(
        LessonSpec(
            slug=lesson.slug, title=lesson.title, kind=lesson.kind, duration_s=lesson.duration_s,
            min_dwell_s=lesson.min_dwell_s, requires=tuple(lesson.requires), optional=lesson.optional,
            body_markdown=lesson.body, media=media[lesson.source], pass_score=lesson.pass_score,
            questions=tuple(lesson.questions),
            digest=lesson_digest(lesson, media[lesson.source], used[lesson.source], tree),
            source=lesson.source,
        )
        for lesson in lessons
    )
    cover = values["cover"]
    return CoursePackage(
        format=values["format"], id=values["id"], version=values["version"], title=values["title"],
        summary=values["summary"], category=values["category"], hours=values["hours"],
        audience=tuple(values["audience"]), tags=tuple(values["tags"]),
        prerequisites=tuple(values["prerequisites"]),
        cover=resolve_package_path(cover) if cover else None, lessons=specs, root=root, tempdir=tempdir,
    )


def _package_root(folder: Path) -> Path:
    """The folder holding course.toml: the extraction folder itself, or the single top-level
    folder a zip of "the folder" (rather than its contents) has."""
    if (folder / COURSE_TOML).is_file():
        return folder
    children = [c for c in folder.iterdir() if not is_junk(c.name)]
    if len(children) == 1 and children[0].is_dir() and not children[0].is_symlink():
        return children[0]
    return folder


def validate_path(path: str | os.PathLike[str], locale: str = "zh", *, limits: ArchiveLimits | None = None,
                  workdir: str | os.PathLike[str] | None = None) -> tuple[CoursePackage | None, list[Problem]]:
    """Validate a package folder or .zip; never raises for bad input.

    Returns (package, []) when the package is valid, else (None, problems) with every problem,
    sorted by file and line. A zip is extracted (safely) into a new temporary folder under
    `workdir` (default: the system temp folder); when the package is valid that folder lives
    on as `package.tempdir` and the caller removes it with `package.cleanup()` (or uses
    open_package); when it is not, the folder is already gone."""
    rep = Reporter(locale)
    path = Path(path)
    if path.is_dir():
        pkg = _validate_tree(path, rep, None)
        return (pkg, []) if pkg is not None else (None, rep.sorted())
    if not path.is_file():
        rep.add(path.name, None, "package-not-found", path=str(path))
        return None, rep.sorted()
    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
    tempdir = Path(tempfile.mkdtemp(prefix="hongfan-pkg-", dir=workdir))
    try:
        extracted = tempdir / "package"
        try:
            safe_extract(path, extracted, limits, locale=locale, check_content=False)
        except PackageInvalid as exc:
            shutil.rmtree(tempdir, ignore_errors=True)
            return None, list(exc.problems)
        pkg = _validate_tree(_package_root(extracted), rep, tempdir)
    except BaseException:
        shutil.rmtree(tempdir, ignore_errors=True)
        raise
    if pkg is None:
        shutil.rmtree(tempdir, ignore_errors=True)
        return None, rep.sorted()
    return pkg, []


def load_package(path: str | os.PathLike[str], locale: str = "zh", *, limits: ArchiveLimits | None = None,
                 workdir: str | os.PathLike[str] | None = None) -> CoursePackage:
    """Like validate_path, but raises PackageInvalid(problems). For a zip, remove the extraction
    folder with `package.cleanup()`, or use `with load_package(...) as package:`."""
    pkg, problems = validate_path(path, locale, limits=limits, workdir=workdir)
    if pkg is None:
        raise PackageInvalid(problems)
    return pkg


@contextmanager
def open_package(path: str | os.PathLike[str], locale: str = "zh", *, limits: ArchiveLimits | None = None,
                 workdir: str | os.PathLike[str] | None = None) -> Iterator[CoursePackage]:
    """load_package whose temporary extraction folder is removed on leaving the block."""
    pkg = load_package(path, locale, limits=limits, workdir=workdir)
    try:
        yield pkg
    finally:
        pkg.cleanup()
