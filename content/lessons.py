"""Reading one lesson file: a Markdown lesson with TOML front matter, or a quiz in TOML.

Checks that need other files (media, prerequisites, images) happen in package.py; here a lesson
is read on its own and every field problem is reported."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from content.fields import INVALID, TableReader
from content.filetypes import TEXT_MAX_BYTES
from content.messages import Reporter
from content.quiz import read_questions
from content.tomllines import TomlLines, decode_error

MARKDOWN_KINDS = ("text", "video", "audio", "pdf")
LESSON_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
DEFAULT_PASS_SCORE = 60
_COMMON_KEYS = ("title", "kind", "duration", "min_dwell", "requires", "optional")
MARKDOWN_KEYS = (*_COMMON_KEYS, "media")
QUIZ_KEYS = (*_COMMON_KEYS, "pass_score", "intro", "questions")
FENCE = "+++"


@dataclass
class ParsedLesson:
    """A lesson as read from its file. Fields that were wrong hold INVALID (already reported)."""

    slug: str
    source: str
    title: Any
    kind: Any
    duration_s: Any
    min_dwell_s: Any
    requires: Any
    optional: Any
    body: str
    media: Any
    pass_score: Any
    questions: Any
    lines: TomlLines
    body_line: int  # file line (1-based) of the body's first line


def read_text(path: Path, source: str, rep: Reporter) -> str | None:
    """UTF-8 text with a Windows BOM dropped and line endings unified; None (reported) otherwise."""
    if path.stat().st_size > TEXT_MAX_BYTES:
        rep.add(source, None, "text-too-large", max=f"{TEXT_MAX_BYTES // (1024 * 1024)} MB")
        return None
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        rep.add(source, None, "text-encoding")
        return None
    if "\0" in text:
        rep.add(source, None, "text-encoding")
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _load_toml(text: str, source: str, offset: int, rep: Reporter) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        detail, line = decode_error(exc, offset)
        rep.add(source, line, "toml-syntax", detail=detail)
        return None


def read_lesson(path: Path, source: str, rep: Reporter) -> ParsedLesson | None:
    text = read_text(path, source, rep)
    if text is None:
        return None
    if source.endswith(".toml"):
        data = _load_toml(text, source, 0, rep)
        if data is None:
            return None
        lines = TomlLines(text)
        # an intro's Markdown starts on the line of its key (or the next, for a """ string)
        return _read_fields(data, lines, source, "", lines.key("intro") or 1, quiz=True, rep=rep)
    lines = text.split("\n")
    if lines[0].strip() != FENCE:
        rep.add(source, 1, "frontmatter-missing")
        return None
    close = next((i for i in range(1, len(lines)) if lines[i].strip() == FENCE), None)
    if close is None:
        rep.add(source, 1, "frontmatter-unclosed")
        return None
    front = "\n".join(lines[1:close])
    data = _load_toml(front, source, 1, rep)
    if data is None:
        return None
    body = "\n".join(lines[close + 1:])
    # the blank line usually left after the closing fence is layout, not content
    stripped = body.lstrip("\n")
    body_line = close + 2 + (len(body) - len(stripped))
    return _read_fields(data, TomlLines(front, offset=1), source, stripped, body_line, quiz=False, rep=rep)


def _read_fields(data: dict[str, Any], lines: TomlLines, source: str, body: str, body_line: int,
                 *, quiz: bool, rep: Reporter) -> ParsedLesson:
    r = TableReader(data, lines, (), source, rep)
    r.unknown_keys(QUIZ_KEYS if quiz else MARKDOWN_KEYS)
    title = r.string("title", max_len=100)
    kind = r.string("kind", required=False, default="quiz" if quiz else "text", max_len=20)
    if kind is not INVALID:
        allowed = ("quiz",) if quiz else MARKDOWN_KINDS
        if kind not in (*MARKDOWN_KINDS, "quiz"):
            r.report("kind", "kind-unknown", value=kind, allowed=allowed)
            kind = INVALID
        elif kind not in allowed:
            r.report("kind", "kind-mismatch", value=kind)
            kind = INVALID
    duration = r.duration("duration")
    dwell = r.duration("min_dwell", required=False, default=None, positive=False)
    if dwell is None:
        # Default: half the expected time, so points cannot be collected by opening and closing.
        dwell = duration // 2 if duration is not INVALID else INVALID
    elif duration is not INVALID and dwell is not INVALID and dwell > duration:
        r.report("min_dwell", "dwell-exceeds-duration", dwell=dwell, duration=duration)
        dwell = INVALID
    requires = r.string_list("requires", max_items=50, max_len=64)
    optional = r.boolean("optional")
    media: Any = None
    pass_score: Any = None
    questions: Any = ()
    if quiz:
        pass_score = r.integer("pass_score", required=False, default=DEFAULT_PASS_SCORE)
        if pass_score is not INVALID and not 0 <= pass_score <= 100:
            r.report("pass_score", "pass-score-out-of-range", value=pass_score)
            pass_score = INVALID
        intro = r.string("intro", required=False, default="", max_len=20000, allow_empty=True)
        body = intro if intro is not INVALID else ""
        questions = read_questions(r)
    else:
        media = r.string("media", required=False, default=None, max_len=200)
    slug = Path(source).stem
    return ParsedLesson(slug, source, title, kind, duration, dwell, requires, optional, body, media,
                        pass_score, questions, lines, body_line)
