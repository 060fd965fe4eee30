"""Every problem code the validator knows, each provoked once, with the file and line it names.

A table rather than a test per code: the last test checks the table covers MESSAGES, so a new
code cannot be added without a case that shows it firing."""
from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from content import MESSAGES, ArchiveLimits, validate_path


@dataclass
class Case:
    code: str
    edit: Callable  # (package, tmp_path, media, rawzip) -> path to validate, or None for the folder
    file: str
    line: int | str | None  # a number, a text whose line in `file` is meant, or None
    limits: ArchiveLimits | None = None


def _replace(name, old, new):
    def edit(pkg, tmp, media, rawzip):
        pkg.replace(name, old, new)
    return edit


def _write(name, content):
    def edit(pkg, tmp, media, rawzip):
        pkg.write(name, content(media) if callable(content) else content)
    return edit


def _steps(*edits):
    def edit(pkg, tmp, media, rawzip):
        result = None
        for step in edits:
            result = step(pkg, tmp, media, rawzip) or result
        return result
    return edit


def _remove(name):
    def edit(pkg, tmp, media, rawzip):
        pkg.remove(name)
    return edit


def _zipped(*members_fn):
    """Validate a crafted archive instead of the folder."""
    def edit(pkg, tmp, media, rawzip):
        members = [m for fn in members_fn for m in fn(rawzip)]
        out = tmp / "upload.zip"
        out.write_bytes(rawzip.build(members))
        return out
    return edit


def _good_members(rawzip, skip=()):
    return [rawzip.Member(name.encode(), content.encode() if isinstance(content, str) else content)
            for name, content in rawzip.good_files().items() if name not in skip]


def _zip_of_folder(pkg, tmp, media, rawzip):
    return pkg.zip(tmp / "upload.zip")


QUIZ = "lessons/05-quiz.toml"
INTRO = "lessons/01-intro.md"
TALK = "lessons/02-talk.md"
ONE_LESSON = ('lessons = [\n    "01-intro.md",\n    "02-talk.md",\n    "03-audio.md",\n    "04-handout.md",\n'
              '    "05-quiz.toml",\n]')

CASES: list[Case] = [
    # where the package is
    Case("package-not-found", lambda pkg, tmp, m, r: tmp / "nowhere", "nowhere", None),
    Case("course-toml-missing", _remove("course.toml"), "course.toml", None),
    # course.toml fields
    Case("toml-syntax", _replace("course.toml", 'version = "1.0.0"', 'version = 1.0.0.0'), "course.toml", 'version ='),
    Case("text-encoding", _write(INTRO, "+++\ntitle = \"头盔\"\n+++\n".encode("gbk")), INTRO, None),
    Case("text-too-large", _write(INTRO, "+++\ntitle = \"x\"\nduration = 60\n+++\n" + "很长" * 800_000), INTRO, None),
    Case("unknown-key", _replace("course.toml", "hours = 1.5", "hours = 1.5\ntitel = \"拼错\""),
         "course.toml", "titel"),
    Case("field-missing", _replace("course.toml", 'summary = "骑手、货车司机和网约车司机的道路交通安全要点。"\n', ""),
         "course.toml", None),
    Case("field-type", _replace("course.toml", "hours = 1.5", 'hours = "1.5"'), "course.toml", "hours"),
    Case("field-empty", _replace("course.toml", 'title = "道路交通安全"', 'title = "  "'), "course.toml", "title ="),
    Case("field-too-long", _replace("course.toml", 'title = "道路交通安全"', f'title = "{"长" * 101}"'),
         "course.toml", "title ="),
    Case("field-too-many", _replace("course.toml", 'tags = ["交通", "安全"]',
                                    "tags = [" + ", ".join(f'"t{i}"' for i in range(21)) + "]"), "course.toml", "tags"),
    Case("format-unsupported", _replace("course.toml", "format = 1", "format = 2"), "course.toml", 1),
    Case("id-invalid", _replace("course.toml", 'id = "road-safety"', 'id = "Road_Safety"'), "course.toml", 2),
    Case("version-invalid", _replace("course.toml", 'version = "1.0.0"', 'version = "1 0"'), "course.toml", 3),
    Case("category-unknown", _replace("course.toml", 'category = "安全"', 'category = "娱乐"'),
         "course.toml", "category"),
    Case("audience-unknown", _replace("course.toml", 'audience = ["外卖骑手", "快递员"]',
                                      'audience = [\n  "外卖骑手",\n  "宇航员",\n]'), "course.toml", '"宇航员"'),
    Case("prerequisite-invalid", _replace("course.toml", "hours = 1.5",
                                          'hours = 1.5\nprerequisites = [\n  "traffic-law",\n  "Bad_Id",\n]'),
         "course.toml", '"Bad_Id"'),
    Case("prerequisite-self", _replace("course.toml", "hours = 1.5",
                                       'hours = 1.5\nprerequisites = ["traffic-law", "road-safety"]'),
         "course.toml", "prerequisites"),
    Case("hours-out-of-range", _replace("course.toml", "hours = 1.5", "hours = 0"), "course.toml", "hours"),
    Case("cover-missing", _replace("course.toml", 'cover = "media/cover.png"', 'cover = "media/nope.png"'),
         "course.toml", "cover"),
    Case("cover-not-image", _replace("course.toml", 'cover = "media/cover.png"', 'cover = "media/handout.pdf"'),
         "course.toml", "cover"),
    Case("path-outside-media", _replace("course.toml", 'cover = "media/cover.png"', 'cover = "../cover.png"'),
         "course.toml", "cover"),
    # the lesson list
    Case("lesson-missing", _replace("course.toml", '"05-quiz.toml",', '"05-quiz.toml",\n    "09-ghost.md",'),
         "course.toml", "09-ghost"),
    Case("lesson-listed-twice", _replace("course.toml", '"05-quiz.toml",', '"05-quiz.toml",\n    "01-intro.md",'),
         "course.toml", 17),
    Case("lesson-unlisted", _write("lessons/06-extra.md", "+++\ntitle = \"补充\"\nduration = 60\n+++\n正文\n"),
         "lessons/06-extra.md", None),
    Case("lesson-duplicate-id", _write("lessons/01-intro.toml", "title = \"x\"\nduration = 60\n"),
         "lessons/01-intro.toml", None),
    Case("lesson-bad-id", _write("lessons/Intro Two.md", "+++\ntitle = \"x\"\nduration = 60\n+++\n正文\n"),
         "lessons/Intro Two.md", None),
    Case("course-empty", _steps(*(_remove(f"lessons/{n}") for n in
                                  ("01-intro.md", "02-talk.md", "03-audio.md", "04-handout.md", "05-quiz.toml")),
                                _replace("course.toml", ONE_LESSON, "lessons = []")), "course.toml", "lessons"),
    Case("course-no-required-lesson", _steps(
        _replace("course.toml", ONE_LESSON, 'lessons = ["03-audio.md"]'),
        *(_remove(f"lessons/{n}") for n in ("01-intro.md", "02-talk.md", "04-handout.md", "05-quiz.toml"))),
        "course.toml", "lessons"),
    # Markdown lessons
    Case("frontmatter-missing", _write(INTRO, "title = \"x\"\n\n正文\n"), INTRO, 1),
    Case("frontmatter-unclosed", _write(INTRO, "+++\ntitle = \"x\"\nduration = 60\n\n正文\n"), INTRO, 1),
    Case("kind-unknown", _replace(INTRO, 'kind = "text"', 'kind = "slides"'), INTRO, 3),
    Case("kind-mismatch", _replace(INTRO, 'kind = "text"', 'kind = "quiz"'), INTRO, 3),
    Case("duration-invalid", _replace(INTRO, 'duration = "5m"', 'duration = "5 minutes"'), INTRO, 4),
    Case("dwell-exceeds-duration", _replace(INTRO, 'min_dwell = "2m"', 'min_dwell = "6m"'), INTRO, 5),
    Case("media-required", _replace(TALK, 'media = "media/talk.mp4"\n', ""), TALK, None),
    Case("media-forbidden", _replace(INTRO, 'min_dwell = "2m"', 'min_dwell = "2m"\nmedia = "media/talk.mp4"'),
         INTRO, "media ="),
    Case("media-missing", _replace(TALK, "media/talk.mp4", "media/nope.mp4"), TALK, "media ="),
    Case("media-wrong-kind", _replace(TALK, "media/talk.mp4", "media/handout.pdf"), TALK, "media ="),
    Case("lesson-body-empty", _write(INTRO, "+++\ntitle = \"x\"\nduration = 60\n+++\n\n  \n"), INTRO, None),
    Case("requires-unknown", _replace(TALK, 'requires = ["01-intro"]', 'requires = [\n  "01-intro",\n  "00-ghost",\n]'),
         TALK, "00-ghost"),
    Case("requires-cycle", _replace(INTRO, 'min_dwell = "2m"', 'min_dwell = "2m"\nrequires = ["04-handout"]'),
         INTRO, "requires"),
    # quizzes
    Case("pass-score-out-of-range", _replace(QUIZ, "pass_score = 80", "pass_score = 120"), QUIZ, 5),
    Case("quiz-no-questions", _write(QUIZ, 'title = "测验"\nduration = "3m"\n'), QUIZ, None),
    Case("quiz-too-many-questions", _write(QUIZ, 'title = "测验"\nduration = "3m"\n' + "".join(
        f'\n[[questions]]\ntype = "truefalse"\nprompt = "第{i}题"\nanswer = true\nexplanation = "解析"\n'
        for i in range(51))), QUIZ, "questions"),
    Case("quiz-type-unknown", _replace(QUIZ, 'type = "single"', 'type = "essay"'), QUIZ, 'type = "essay"'),
    Case("quiz-options-count", _replace(QUIZ, 'options = ["佩戴安全头盔", "边骑边看手机", "逆行抄近路"]',
                                        'options = ["佩戴安全头盔"]'), QUIZ, 'options = ["佩戴安全头盔"]'),
    Case("quiz-option-duplicate", _replace(QUIZ, '"逆行抄近路"]', '"佩戴安全头盔"]'), QUIZ, "佩戴安全头盔"),
    Case("quiz-answer-invalid", _replace(QUIZ, 'answer = ["C", "A"]', 'answer = "C"'), QUIZ, 'answer = "C"'),
    Case("quiz-answer-out-of-range", _replace(QUIZ, 'answer = "A"', 'answer = "D"'), QUIZ, 'answer = "D"'),
    Case("quiz-truefalse-options", _replace(QUIZ, "answer = false", 'options = ["对", "错"]\nanswer = false'),
         QUIZ, 'options = ["对", "错"]'),
    # Markdown bodies
    Case("markdown-image-outside-media", _replace(INTRO, "## 头盔", "## 头盔\n\n![外链](https://example.com/a.png)"),
         INTRO, "example.com"),
    Case("markdown-image-missing", _replace(INTRO, "../media/helmet.png", "../media/nope.png"), INTRO, "nope.png"),
    Case("markdown-image-not-image", _replace(INTRO, "../media/helmet.png", "../media/handout.pdf"), INTRO,
         "![头盔示意图]"),
    Case("markdown-link-invalid", _replace(INTRO, "## 头盔", "## 头盔\n\n[配置](../course.toml)"), INTRO, "[配置]"),
    Case("markdown-link-missing", _replace(INTRO, "../media/handout.pdf", "../media/gone.pdf"), INTRO, "gone.pdf"),
    Case("markdown-html-removed", _replace(INTRO, "## 头盔", "## 头盔\n\n<script>alert(1)</script>"),
         INTRO, "<script>"),
    # files in the package
    Case("file-disallowed", _write("media/page.html", "<p>hi</p>"), "media/page.html", None),
    Case("file-symlink", lambda pkg, tmp, m, r: os.symlink("/etc/passwd", pkg.path("media/passwd.png")),
         "media/passwd.png", None),
    Case("file-empty", _write("media/blank.png", b""), "media/blank.png", None),
    Case("file-content-mismatch", _write("media/helmet.png", lambda m: m.jpeg()), "media/helmet.png", None),
    Case("file-html", _write("media/helmet.png", b"<!DOCTYPE html><script>alert(1)</script>"),
         "media/helmet.png", None),
    Case("file-executable", _write("media/helmet.png", lambda m: m.elf), "media/helmet.png", None),
    Case("mp4-not-h264", _write("media/talk.mp4", lambda m: m.mp4(b"hvc1")), "media/talk.mp4", None),
    Case("m4a-not-aac", _write("media/talk.m4a", lambda m: m.m4a(b"alac")), "media/talk.m4a", None),
    # archives
    Case("archive-corrupt", lambda pkg, tmp, m, r: _file(tmp / "upload.zip", b"PK\x03\x04 not really a zip"),
         "upload.zip", None),
    Case("archive-too-many-entries",
         _zipped(lambda r: [r.Member(f"media/{i}.png".encode(), b"x") for i in range(2001)]),
         "upload.zip", None),
    Case("archive-too-large", _zip_of_folder, "upload.zip", None, ArchiveLimits(max_total_bytes=2000)),
    Case("archive-file-too-large", _zip_of_folder, "media/jingle.mp3", None, ArchiveLimits(max_file_bytes=1000)),
    Case("archive-ratio", _zipped(lambda r: [r.Member(b"media/bomb.png", b"\0" * (20 * 1024 * 1024))]),
         "media/bomb.png", None),
    Case("archive-unsafe-path", _zipped(_good_members, lambda r: [r.Member(b"../evil.md", b"x")]), "../evil.md", None),
    Case("archive-symlink", _zipped(_good_members, lambda r: [
        r.Member(b"media/link.png", b"/etc/passwd", external_attr=(stat.S_IFLNK | 0o777) << 16)]),
        "media/link.png", None),
    Case("archive-special-file", _zipped(_good_members, lambda r: [
        r.Member(b"media/fifo.png", b"", external_attr=(stat.S_IFIFO | 0o644) << 16)]), "media/fifo.png", None),
    Case("archive-duplicate-name", _zipped(_good_members, lambda r: [r.Member(b"media/Cover.PNG", b"x")]),
         "media/Cover.PNG", None),
    Case("archive-encrypted", _zipped(_good_members, lambda r: [r.Member(b"media/secret.png", b"x", flags=1)]),
         "media/secret.png", None),
    Case("archive-unsupported-compression", _zipped(_good_members, lambda r: [
        r.Member(b"media/x.png", b"x", method=zipfile.ZIP_BZIP2, stored_bytes=b"BZh9")]), "media/x.png", None),
    Case("archive-size-mismatch", _zipped(lambda r: _good_members(r, skip={"media/talk.mp4"}) + [
        r.Member(b"media/talk.mp4", b"\0" * 100_000, declared_size=1000)]), "media/talk.mp4", None),
    Case("archive-overlapping-entries", lambda pkg, tmp, m, r: _overlap(tmp, r), "media/b.png", None),
]


def _file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _overlap(tmp: Path, rawzip) -> Path:
    """Member B's local record hides inside member A's data; both are listed."""
    inner = rawzip.Member(b"media/b.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, method=zipfile.ZIP_STORED)
    outer = rawzip.Member(b"media/a.png", rawzip.local_record(inner), method=zipfile.ZIP_STORED)
    inner.at = 30 + len(outer.name)
    out = tmp / "upload.zip"
    out.write_bytes(rawzip.build([outer, inner]))
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.code for c in CASES])
def test_problem_is_reported_with_file_and_line(case: Case, package, tmp_path, media, rawzip):
    target = case.edit(package, tmp_path, media, rawzip) or package.root
    pkg, problems = validate_path(target, limits=case.limits)
    assert pkg is None
    matching = [p for p in problems if p.code == case.code]
    assert matching, f"{case.code} not among {[str(p) for p in problems]}"
    line = package.line_of(case.file, case.line) if isinstance(case.line, str) else case.line
    assert (case.file, line) in {(p.file, p.line) for p in matching}, [str(p) for p in matching]
    # every problem carries a readable Chinese message, not a bare code
    assert all(p.message and p.message != p.code for p in problems)


def test_every_message_code_has_a_case():
    assert {c.code for c in CASES} == set(MESSAGES)
