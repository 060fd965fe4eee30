"""The OpenAPI 3 registry: every API module describes its operations here, beside the route,
and /api/v1/openapi.json serves the assembled document."""
from __future__ import annotations

from typing import Any

PATHS: dict[str, dict[str, dict[str, Any]]] = {}
SCHEMAS: dict[str, dict[str, Any]] = {}


def operation(path: str, method: str, **definition: Any) -> None:
    """Describe one operation. `path` uses OpenAPI templating, e.g. '/courses/{course_id}'
    (relative to /api/v1)."""
    PATHS.setdefault(path, {})[method.lower()] = definition


def schema(name: str, definition: dict[str, Any]) -> dict[str, str]:
    """Register a component schema; returns a $ref to it."""
    SCHEMAS[name] = definition
    return {"$ref": f"#/components/schemas/{name}"}
