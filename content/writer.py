"""Writing package files (course.toml, lessons) from plain values, and reading them back as raw,
unchecked values: what a form-based editor needs to produce the same package an author writes by
hand. Values are written as given (a string stays a string), so the validator judges exactly
what the editor's user typed."""
from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

from content.lessons import FENCE

TomlScalar = str | int | float | bool
TomlValue = TomlScalar | Sequence[TomlScalar]


def toml_value(value: TomlValue) -> str:
    """One TOML value. A JSON string is a valid TOML basic string once DEL, the one control
    character JSON leaves unescaped but TOML forbids, is escaped too."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    return "[" + ", ".join(toml_value(item) for item in value) + "]"


def toml_table(fields: Mapping[str, TomlValue | None]) -> str:
    """`key = value` lines, one per field, in the given order; None means "leave the key out"."""
    return "".join(f"{key} = {toml_value(value)}\n" for key, value in fields.items() if value is not None)


def markdown_lesson(front: Mapping[str, TomlValue | None], body: str) -> str:
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return f"{FENCE}\n{toml_table(front)}{FENCE}\n\n{body}\n" if body else f"{FENCE}\n{toml_table(front)}{FENCE}\n"


def quiz_lesson(front: Mapping[str, TomlValue | None], questions: Sequence[Mapping[str, TomlValue | None]]) -> str:
    parts = [toml_table(front)]
    parts.extend(f"\n[[questions]]\n{toml_table(question)}" for question in questions)
    return "".join(parts)


def read_raw(text: str, *, quiz: bool) -> tuple[dict[str, Any], str]:
    """The fields and the Markdown body of a lesson file (for a quiz, the body is its intro),
    without any checking: ({}, text) when the file does not parse. Used to fill an edit form."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    if quiz:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return {}, ""
        intro = data.get("intro")
        return data, intro if isinstance(intro, str) else ""
    lines = text.split("\n")
    if not lines or lines[0].strip() != FENCE:
        return {}, text
    close = next((i for i in range(1, len(lines)) if lines[i].strip() == FENCE), None)
    if close is None:
        return {}, text
    try:
        data = tomllib.loads("\n".join(lines[1:close]))
    except tomllib.TOMLDecodeError:
        data = {}
    return data, "\n".join(lines[close + 1:]).strip("\n")


def format_duration(seconds: object) -> str:
    """Seconds as the format's duration string ("1h2m3s", "5m"); other values unchanged."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
        return "" if seconds is None else str(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "".join(f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n)
