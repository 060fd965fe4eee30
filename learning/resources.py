"""Where the non-Python parts live: inside the package in a wheel, beside it in a checkout."""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """templates/ and migrations/ sit at the repository top level in a checkout (and an
    editable install); the wheel build copies them into the package (pyproject force-include)."""
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"{name}/ not found beside or inside {PACKAGE_DIR}")
