"""Typed reading of one TOML table, reporting every wrong field with its line."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from content.messages import Reporter, Term
from content.tomllines import TomlLines

MAX_DURATION_S = 24 * 3600
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")

# Returned for a field that was present but wrong, so callers can tell "absent, use the default"
# from "reported already".
INVALID: Any = object()


def parse_duration(value: object) -> int | None:
    """Seconds from an integer or a "1h30m" / "5m" / "90s" string; None when malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str):
        match = _DURATION.match(value.strip())
        if not match or not any(match.groups()):
            return None
        hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    else:
        return None
    if seconds < 0 or seconds > MAX_DURATION_S:
        return None
    return seconds


class TableReader:
    """Reads keys from `data`, the table at `path` in a TOML document."""

    def __init__(self, data: dict[str, Any], lines: TomlLines, path: tuple[str | int, ...],
                 file: str, reporter: Reporter):
        self.data = data
        self.lines = lines
        self.path = path
        self.file = file
        self.rep = reporter

    def line(self, key: str | None = None) -> int | None:
        return self.lines.key(*self.path, key) if key else self.lines.key(*self.path)

    def value_line(self, key: str, value: str, occurrence: int = 0) -> int | None:
        return self.lines.value((*self.path, key), value, occurrence)

    def report(self, at: str | None, code: str, /, **params: object) -> None:
        """Report a problem on the line of key `at` (None: the table's own line, if any)."""
        self.rep.add(self.file, self.line(at), code, **params)

    def unknown_keys(self, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        for key in self.data:
            if key not in allowed:
                self.report(key, "unknown-key", key=key)

    def _missing(self, key: str, required: bool, default: Any) -> Any:
        if required:
            self.report(None, "field-missing", key=key)
            return INVALID
        return default

    def string(self, key: str, *, required: bool = True, default: Any = None, max_len: int = 200,
               allow_empty: bool = False) -> Any:
        if key not in self.data:
            return self._missing(key, required, default)
        value = self.data[key]
        if not isinstance(value, str):
            self.report(key, "field-type", key=key, expected=Term("string"))
            return INVALID
        if not allow_empty and not value.strip():
            self.report(key, "field-empty", key=key)
            return INVALID
        if len(value) > max_len:
            self.report(key, "field-too-long", key=key, max=max_len)
            return INVALID
        return value

    def integer(self, key: str, *, required: bool = True, default: Any = None) -> Any:
        if key not in self.data:
            return self._missing(key, required, default)
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.report(key, "field-type", key=key, expected=Term("integer"))
            return INVALID
        return value

    def number(self, key: str, *, required: bool = True, default: Any = None) -> Any:
        if key not in self.data:
            return self._missing(key, required, default)
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.report(key, "field-type", key=key, expected=Term("number"))
            return INVALID
        return value

    def boolean(self, key: str, *, required: bool = False, default: Any = False) -> Any:
        if key not in self.data:
            return self._missing(key, required, default)
        value = self.data[key]
        if not isinstance(value, bool):
            self.report(key, "field-type", key=key, expected=Term("boolean"))
            return INVALID
        return value

    def string_list(self, key: str, *, required: bool = False, default: Any = (), max_items: int = 100,
                    max_len: int = 200) -> Any:
        if key not in self.data:
            return self._missing(key, required, default)
        value = self.data[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.report(key, "field-type", key=key, expected=Term("string-list"))
            return INVALID
        if len(value) > max_items:
            self.report(key, "field-too-many", key=key, max=max_items)
            return INVALID
        ok = True
        for item in value:
            if not item.strip():
                self.report(key, "field-empty", key=key)
                ok = False
            elif len(item) > max_len:
                self.rep.add(self.file, self.value_line(key, item), "field-too-long", key=key, max=max_len)
                ok = False
        return tuple(value) if ok else INVALID

    def duration(self, key: str, *, required: bool = True, default: Any = None,
                 positive: bool = True) -> Any:
        if key not in self.data:
            return self._missing(key, required, default)
        raw = self.data[key]
        seconds = parse_duration(raw)
        if seconds is None or (positive and seconds == 0):
            self.report(key, "duration-invalid", key=key, value=raw,
                        positive=Term("positive" if positive else ""))
            return INVALID
        return seconds
