"""Problem messages in Chinese and English, keyed by problem code.

A table rather than gettext: `content` is used from the command line and from the app alike,
and the codes are part of the documented format (FORMAT.md lists them)."""
from __future__ import annotations

from dataclasses import dataclass, field

from content.model import Problem

LOCALES = ("zh", "en")

# code -> (zh, en). Placeholders are filled from the keyword arguments of Reporter.add; a value
# wrapped in Term is itself translated through TERMS, and a list is joined the locale's way.
MESSAGES: dict[str, tuple[str, str]] = {
    # where the package is
    "package-not-found": (
        "找不到课程包 {path}，或它既不是文件夹也不是 .zip 文件",
        "Course package {path} not found, or it is neither a folder nor a .zip file",
    ),
    "course-toml-missing": (
        "缺少 course.toml：它应位于课程包根目录（或压缩包中唯一的顶层文件夹里）",
        "course.toml is missing: it belongs at the package root (or in the zip's single top-level folder)",
    ),
    # generic TOML fields
    "toml-syntax": ("TOML 语法错误：{detail}", "TOML syntax error: {detail}"),
    "text-encoding": ("文件不是 UTF-8 编码的文本", "The file is not UTF-8 text"),
    "text-too-large": ("文本文件过大：最大 {max}", "The text file is too large: at most {max}"),
    "unknown-key": ("未知字段“{key}”（拼写错误？）", "Unknown field '{key}' (a typo?)"),
    "field-missing": ("缺少必填字段“{key}”", "Required field '{key}' is missing"),
    "field-type": ("字段“{key}”应为{expected}", "Field '{key}' must be {expected}"),
    "field-empty": ("字段“{key}”不能为空", "Field '{key}' must not be empty"),
    "field-too-long": (
        "字段“{key}”过长：最多 {max} 个字符",
        "Field '{key}' is too long: at most {max} characters",
    ),
    "field-too-many": (
        "字段“{key}”的项目过多：最多 {max} 项",
        "Field '{key}' has too many items: at most {max}",
    ),
    # course.toml
    "format-unsupported": (
        "不支持的格式版本 format = {value}；本程序支持 format = {supported}",
        "Unsupported format = {value}; this program reads format = {supported}",
    ),
    "id-invalid": (
        "课程 id“{value}”无效：只能用小写英文字母、数字和“-”，3–64 个字符，首尾不能是“-”",
        "Course id '{value}' is invalid: use lowercase letters, digits and '-', 3-64 characters, "
        "not starting or ending with '-'",
    ),
    "version-invalid": (
        "版本号“{value}”无效：1–32 个字符，只能用英文字母、数字和“.+-_”，以字母或数字开头",
        "Version '{value}' is invalid: 1-32 characters of letters, digits and '.+-_', "
        "starting with a letter or digit",
    ),
    "category-unknown": (
        "未知分类“{value}”；可选：{allowed}",
        "Unknown category '{value}'; choose one of: {allowed}",
    ),
    "prerequisite-invalid": (
        "先修课程“{value}”不是有效的课程 id：只能用小写英文字母、数字和“-”，3–64 个字符",
        "Prerequisite course '{value}' is not a valid course id: lowercase letters, digits and '-', "
        "3-64 characters",
    ),
    "prerequisite-self": (
        "课程不能把自己（“{value}”）列为先修课程",
        "A course cannot list itself ('{value}') as a prerequisite",
    ),
    "audience-unknown": (
        "未知职业“{value}”；可选：{allowed}",
        "Unknown occupation '{value}'; choose from: {allowed}",
    ),
    "hours-out-of-range": (
        "学时 {value} 超出范围：应大于 0 且不超过 100",
        "Hours {value} out of range: must be more than 0 and at most 100",
    ),
    "cover-missing": ("封面图片 {path} 不存在", "Cover image {path} does not exist"),
    "cover-not-image": (
        "封面 {path} 不是 png、jpg 或 webp 图片",
        "Cover {path} is not a png, jpg or webp image",
    ),
    "path-outside-media": (
        "路径“{path}”必须指向本课程包 media/ 文件夹中的文件",
        "Path '{path}' must point at a file in this package's media/ folder",
    ),
    "lesson-missing": (
        "lessons 中列出的课时文件“{name}”在 lessons/ 文件夹中不存在",
        "Lesson file '{name}' listed in lessons does not exist in the lessons/ folder",
    ),
    "lesson-listed-twice": (
        "课时“{name}”在 lessons 中重复列出",
        "Lesson '{name}' is listed twice in lessons",
    ),
    "lesson-unlisted": (
        "此课时文件没有列入 course.toml 的 lessons，不会被导入；请列入或删除它",
        "This lesson file is not listed in course.toml's lessons and would not be imported; "
        "list it or delete it",
    ),
    "lesson-duplicate-id": (
        "课时 id“{slug}”重复：{other} 也使用了它",
        "Lesson id '{slug}' is used twice: {other} uses it too",
    ),
    "lesson-bad-id": (
        "课时文件名“{name}”无效：文件名（不含扩展名）只能用小写英文字母、数字、“-”和“_”，"
        "以字母或数字开头，最长 64 个字符",
        "Lesson file name '{name}' is invalid: the name without extension may use lowercase letters, "
        "digits, '-' and '_', start with a letter or digit, at most 64 characters",
    ),
    "course-empty": ("课程没有任何课时", "The course has no lessons"),
    "course-no-required-lesson": (
        "所有课时都是选学（optional = true），课程至少需要一个必学课时",
        "Every lesson is optional; a course needs at least one required lesson",
    ),
    # lessons
    "frontmatter-missing": (
        "Markdown 课时必须以“+++”开头的 TOML 前置块开始",
        "A Markdown lesson must begin with a TOML front-matter block opened by '+++'",
    ),
    "frontmatter-unclosed": (
        "前置块没有以单独一行“+++”结束",
        "The front-matter block is not closed by a '+++' line",
    ),
    "kind-unknown": (
        "未知课时类型“{value}”；可选：{allowed}",
        "Unknown lesson kind '{value}'; choose one of: {allowed}",
    ),
    "kind-mismatch": (
        "课时类型“{value}”与文件不符：.md 课时可用 text、video、audio、pdf；测验（quiz）写在 .toml 文件中",
        "Lesson kind '{value}' does not fit the file: .md lessons are text, video, audio or pdf; "
        "quizzes are .toml files",
    ),
    "duration-invalid": (
        "{key} 的值“{value}”无效：请写整数秒数，或如 \"90s\"、\"5m\"、\"1h30m\" 的字符串，不超过 24 小时{positive}",
        "{key} = '{value}' is invalid: write whole seconds or a string such as \"90s\", \"5m\", "
        "\"1h30m\", at most 24 hours{positive}",
    ),
    "dwell-exceeds-duration": (
        "最短学习时间 min_dwell（{dwell} 秒）不能超过时长 duration（{duration} 秒）",
        "min_dwell ({dwell} s) must not exceed duration ({duration} s)",
    ),
    "media-required": (
        "{kind} 类型的课时必须用 media 指定媒体文件",
        "A {kind} lesson must name its media file in 'media'",
    ),
    "media-forbidden": (
        "text 类型的课时不能指定 media；图片请在正文中用 Markdown 引用",
        "A text lesson must not have 'media'; reference images from the body in Markdown",
    ),
    "media-missing": ("媒体文件 {path} 不存在", "Media file {path} does not exist"),
    "media-wrong-kind": (
        "媒体文件 {path} 是 {found}，{kind} 课时需要 {expected}",
        "Media file {path} is {found}; a {kind} lesson needs {expected}",
    ),
    "lesson-body-empty": ("图文课时的正文为空", "The text lesson has no body"),
    "requires-unknown": (
        "先修课时“{value}”不在本课程中",
        "Prerequisite '{value}' is not a lesson of this course",
    ),
    "requires-cycle": (
        "先修关系形成循环：{cycle}",
        "Prerequisites form a cycle: {cycle}",
    ),
    # quizzes
    "pass-score-out-of-range": (
        "及格分 pass_score = {value} 超出 0–100",
        "pass_score = {value} is outside 0-100",
    ),
    "quiz-no-questions": (
        "测验至少需要一道题（[[questions]]）",
        "A quiz needs at least one question ([[questions]])",
    ),
    "quiz-too-many-questions": (
        "测验最多 50 道题，现有 {count} 道",
        "A quiz has at most 50 questions; this one has {count}",
    ),
    "quiz-type-unknown": (
        "第 {n} 题的题型“{value}”未知；可选：single、multiple、truefalse",
        "Question {n}: unknown type '{value}'; choose single, multiple or truefalse",
    ),
    "quiz-options-count": (
        "第 {n} 题需要 2–8 个选项，现有 {count} 个",
        "Question {n} needs 2-8 options; it has {count}",
    ),
    "quiz-option-duplicate": (
        "第 {n} 题的选项“{value}”重复",
        "Question {n}: option '{value}' appears twice",
    ),
    "quiz-answer-invalid": (
        "第 {n} 题的答案格式不对：应为{form}",
        "Question {n}: the answer must be {form}",
    ),
    "quiz-answer-out-of-range": (
        "第 {n} 题的答案“{value}”超出选项范围 A–{last}",
        "Question {n}: answer '{value}' is outside the options A-{last}",
    ),
    "quiz-truefalse-options": (
        "第 {n} 题是判断题，不能写 options：选项固定为“正确”“错误”",
        "Question {n} is true/false and must not have options: they are always 正确 / 错误",
    ),
    # Markdown bodies
    "markdown-image-outside-media": (
        "图片“{url}”必须引用本课程包 media/ 文件夹中的文件（不支持外部图片）",
        "Image '{url}' must reference a file in this package's media/ folder (no remote images)",
    ),
    "markdown-image-missing": ("图片文件 {path} 不存在", "Image file {path} does not exist"),
    "markdown-image-not-image": (
        "{path} 不是 png、jpg 或 webp 图片",
        "{path} is not a png, jpg or webp image",
    ),
    "markdown-link-invalid": (
        "链接“{url}”无效：只能链接 https、http、mailto 地址或 media/ 中的文件",
        "Link '{url}' is not allowed: links may point at https, http or mailto addresses "
        "or at files in media/",
    ),
    "markdown-link-missing": ("链接的文件 {path} 不存在", "Linked file {path} does not exist"),
    "markdown-html-removed": (
        "不允许的内嵌 HTML {tag}：显示时会被删除，请改用 Markdown",
        "Embedded HTML {tag} is not allowed and would be removed when shown; use Markdown instead",
    ),
    # files
    "file-disallowed": (
        "不允许的文件：课程包只能包含 course.toml、lessons/ 中的 .md 和 .toml 课时，以及 media/ 中的 "
        "mp4、m4a、mp3、pdf、png、jpg、webp 文件",
        "File not allowed: a package holds course.toml, .md and .toml lessons in lessons/, and "
        "mp4, m4a, mp3, pdf, png, jpg, webp files in media/",
    ),
    "file-symlink": ("不允许符号链接", "Symbolic links are not allowed"),
    "file-empty": ("文件是空的", "The file is empty"),
    "file-content-mismatch": (
        "文件内容与扩展名不符：应为 {expected}，实际是 {found}",
        "The file's content does not match its extension: expected {expected}, found {found}",
    ),
    "file-html": (
        "文件内容是 HTML、SVG 或 XML，不允许上传",
        "The file contains HTML, SVG or XML, which is not allowed",
    ),
    "file-executable": (
        "文件是可执行程序或脚本，不允许上传",
        "The file is an executable program or script, which is not allowed",
    ),
    "mp4-not-h264": (
        "视频必须是 H.264（avc1）编码，此文件的视频轨为 {found}",
        "Video must be H.264 (avc1); this file's video track is {found}",
    ),
    "m4a-not-aac": (
        "m4a 音频必须是 AAC（mp4a）编码，此文件为 {found}",
        "m4a audio must be AAC (mp4a); this file has {found}",
    ),
    # archives
    "archive-corrupt": (
        "ZIP 文件已损坏或无法读取",
        "The ZIP file is damaged or unreadable",
    ),
    "archive-too-many-entries": (
        "压缩包有 {count} 个条目，超过上限 {max}",
        "The archive has {count} entries; the limit is {max}",
    ),
    "archive-too-large": (
        "解压后总大小 {size} 超过上限 {max}",
        "Unpacked size {size} exceeds the limit of {max}",
    ),
    "archive-file-too-large": (
        "文件解压后 {size}，超过单个文件上限 {max}",
        "The file unpacks to {size}, over the per-file limit of {max}",
    ),
    "archive-ratio": (
        "压缩比 {ratio}:1 异常（上限 {max}:1），可能是“压缩炸弹”",
        "Compression ratio {ratio}:1 is suspicious (limit {max}:1): possibly a zip bomb",
    ),
    "archive-unsafe-path": (
        "不安全的路径“{name}”：{reason}",
        "Unsafe path '{name}': {reason}",
    ),
    "archive-symlink": ("压缩包中不允许符号链接", "Symbolic links are not allowed in the archive"),
    "archive-special-file": (
        "压缩包中不允许设备文件、管道等特殊文件",
        "Device files, pipes and other special files are not allowed in the archive",
    ),
    "archive-duplicate-name": (
        "名称重复（不区分大小写），或与同名文件夹冲突：{name}",
        "Duplicate name (ignoring case) or a clash with a folder of the same name: {name}",
    ),
    "archive-encrypted": (
        "不支持加密的压缩包条目",
        "Encrypted archive entries are not supported",
    ),
    "archive-unsupported-compression": (
        "不支持的压缩方式：只支持“存储”和 Deflate",
        "Unsupported compression method: only stored and Deflate are supported",
    ),
    "archive-size-mismatch": (
        "解压出的数据与压缩包声明的大小 {declared} 字节不符",
        "The unpacked data does not match the declared size of {declared} bytes",
    ),
    "archive-overlapping-entries": (
        "压缩包条目的数据相互重叠，可能是“压缩炸弹”",
        "Archive entries overlap each other: possibly a zip bomb",
    ),
}

# Words used inside messages: Term("string") is shown as TERMS["string"][locale].
TERMS: dict[str, tuple[str, str]] = {
    "string": ("文本（用引号括起来）", "a string (in quotes)"),
    "integer": ("整数", "an integer"),
    "number": ("数字", "a number"),
    "boolean": ("true 或 false", "true or false"),
    "string-list": ("文本列表，如 [\"a\", \"b\"]", "a list of strings such as [\"a\", \"b\"]"),
    "table-list": ("[[questions]] 形式的表数组", "an array of tables written as [[questions]]"),
    "duration": ("时长", "a duration"),
    "answer-single": ("一个选项字母，如 \"A\"", "one option letter such as \"A\""),
    "answer-multiple": (
        "不重复的选项字母列表，如 [\"A\", \"C\"]",
        "a list of distinct option letters such as [\"A\", \"C\"]",
    ),
    "answer-truefalse": ("true（正确）或 false（错误）", "true (correct) or false (wrong)"),
    "positive": ("，且必须大于 0", ", and more than 0"),
    "": ("", ""),
    "traversal": ("含有“..”，会跳出解压目录", "contains '..' and would escape the target folder"),
    "absolute": ("是绝对路径", "is an absolute path"),
    "drive": ("含有盘符", "contains a drive letter"),
    "backslash": ("含有反斜杠“\\”", "contains a backslash"),
    "control": ("含有控制字符", "contains control characters"),
    "empty-part": ("含有空的或“.”路径段", "contains an empty or '.' path segment"),
    "too-long": ("路径过长", "is too long"),
    "none": ("无", "none"),
    "video": ("H.264 编码的 mp4 视频", "an H.264 mp4 video"),
    "audio": ("m4a 或 mp3 音频", "m4a or mp3 audio"),
    "pdf-document": ("PDF 文档", "a PDF document"),
    "unknown": ("无法识别的内容", "unrecognized content"),
    "damaged": ("已损坏或不完整的文件", "a damaged or incomplete file"),
}


class Term(str):
    """A message parameter that is translated, not shown verbatim."""


def _show(value: object, index: int) -> object:
    if isinstance(value, Term):
        return TERMS[value][index]
    if isinstance(value, list | tuple):
        return ("、", ", ")[index].join(str(v) for v in value)
    return value


def message(code: str, locale: str, params: dict[str, object]) -> str:
    index = 1 if locale == "en" else 0
    values = {key: _show(value, index) for key, value in params.items()}
    return MESSAGES[code][index].format(**values)


@dataclass
class Reporter:
    """Collects problems for one validation run, in one locale."""

    locale: str = "zh"
    problems: list[Problem] = field(default_factory=list)

    def add(self, file: str, line: int | None, code: str, /, **params: object) -> None:
        self.problems.append(Problem(file, line, code, message(code, self.locale, params)))

    def sorted(self) -> list[Problem]:
        # Stable: within one file, problems stay in line order, missing lines first.
        return sorted(self.problems, key=lambda p: (p.file, p.line or 0))


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
