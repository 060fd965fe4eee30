"""Files that desktops and archivers add on their own."""
from __future__ import annotations

from pathlib import PurePosixPath

_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})


def is_junk(name: str) -> bool:
    """macOS resource forks and Finder/Explorer metadata. They are skipped, never imported, so a
    package zipped by double-clicking on a Mac or browsed in Explorer is not refused for them."""
    parts = PurePosixPath(name).parts
    if not parts:
        return False
    base = parts[-1]
    return parts[0] == "__MACOSX" or base.lower() in _JUNK_NAMES or base.startswith("._")
