"""Line numbers for TOML keys and values.

tomllib returns plain dicts without positions, but an administrator fixing a package needs the
line. This scanner recovers where each key was written, tracking [table] and [[array]] headers
and skipping multi-line strings, which is all the package format uses."""
from __future__ import annotations

import re
import tomllib

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_LITERAL = r"'[^']*'"
_KEY_PART = rf"(?:{_BARE}|{_QUOTED}|{_LITERAL})"
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_KEY_LINE = re.compile(rf"^\s*({_DOTTED})\s*=(.*)$")
_ARRAY_HEADER = re.compile(rf"^\s*\[\[\s*({_DOTTED})\s*\]\]")
_TABLE_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]")
_PART = re.compile(_KEY_PART)
_ERROR_POSITION = re.compile(r"\s*\(at line (\d+), column \d+\)|\s*\(at end of document\)")

Path = tuple[str | int, ...]


def _parts(dotted: str) -> tuple[str, ...]:
    parts = []
    for match in _PART.finditer(dotted):
        text = match.group(0)
        if text[0] in "\"'":
            text = text[1:-1]
        parts.append(text)
    return tuple(parts)


def _opens_multiline(rest: str) -> str | None:
    """The delimiter of a multi-line string that starts in `rest` and does not close on it."""
    for delim in ('"""', "'''"):
        start = rest.find(delim)
        if start != -1 and rest.find(delim, start + 3) == -1:
            return delim
    return None


class TomlLines:
    """Where keys of one TOML document sit. `offset` is added to every line number (a front
    matter block starts below the opening '+++')."""

    def __init__(self, text: str, offset: int = 0):
        self._lines = text.split("\n")
        self._offset = offset
        self._keys: dict[Path, int] = {}
        current: Path = ()
        counts: dict[tuple[str, ...], int] = {}
        in_string: str | None = None
        for number, line in enumerate(self._lines, start=1 + offset):
            if in_string is not None:
                if in_string in line:
                    in_string = None
                continue
            if match := _ARRAY_HEADER.match(line):
                name = _parts(match.group(1))
                index = counts.get(name, 0)
                counts[name] = index + 1
                current = (*name, index)
                self._keys.setdefault(current, number)
                self._keys.setdefault(name, number)  # the array as a whole: its first header
                continue
            if match := _TABLE_HEADER.match(line):
                current = _parts(match.group(1))
                self._keys.setdefault(current, number)
                continue
            if match := _KEY_LINE.match(line):
                self._keys.setdefault((*current, *_parts(match.group(1))), number)
                in_string = _opens_multiline(match.group(2))

    def key(self, *path: str | int) -> int | None:
        """The line of the key at `path`, else of its nearest written ancestor, else None."""
        for end in range(len(path), 0, -1):
            line = self._keys.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def path_at(self, line: int) -> Path | None:
        """The key written on `line` (the deepest one: ("questions", 2, "answer")), or None for a
        line that starts no key: the inverse of key(), used to put a problem next to its field."""
        found = [path for path, number in self._keys.items() if number == line]
        return max(found, key=len) if found else None

    def value(self, path: Path, value: str, occurrence: int = 0) -> int | None:
        """The line where the string `value` is written (for the `occurrence`-th time, from 0)
        inside the array at `path`, which may span several lines; falls back to the key's line."""
        start = self.key(*path)
        if start is None:
            return None
        quoted = (f'"{value}"', f"'{value}'")
        first = start - 1 - self._offset
        for index in range(first, len(self._lines)):
            text = self._lines[index]
            if any(q in text for q in quoted):
                if occurrence == 0:
                    return index + 1 + self._offset
                occurrence -= 1
            if "]" in text:
                break
        return start


def decode_error(error: tomllib.TOMLDecodeError, offset: int = 0) -> tuple[str, int | None]:
    """tomllib's message without its position suffix, and the 1-based line (plus offset)."""
    text = str(error)
    match = _ERROR_POSITION.search(text)
    line = None
    if match and match.group(1):
        line = int(match.group(1)) + offset
    detail = _ERROR_POSITION.sub("", text).strip()
    return detail, line
