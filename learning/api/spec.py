"""The OpenAPI 3 registry: every API module describes its operations here, beside the route,
and /api/v1/openapi.json serves the assembled document."""
from __future__ import annotations

from typing import Any

PATHS: dict[str, dict[str, dict[str, Any]]] = {}
SCHEMAS: dict[str, dict[str, Any]] = {}

SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer",
                   "description": "A token from POST /tokens: `Authorization: Bearer hf_…`. "
                                  "No CSRF token needed."},
    "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session",
                   "description": "The web session cookie. State-changing calls must also send the "
                                  "page's CSRF token in the X-CSRFToken header."},
}
# Operations for a signed-in member accept either way in.
MEMBER = [{"bearerAuth": []}, {"cookieAuth": []}]
PUBLIC: list[dict[str, list[str]]] = []
# Ids are 32-bit integers in the database: larger ones in a URL are simply not found.
MAX_ID = 2**31 - 1
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}

_ERROR_TEXT = {
    400: "Bad input (body, parameter or missing CSRF token); `error` says what to fix",
    401: "No credentials, or a token that is invalid, expired or revoked",
    403: "Not allowed",
    404: "No such resource (or not visible to the caller)",
    409: "Conflicts with the current state",
    413: "Request body too large",
    429: "Too many failed attempts; try later",
}


def operation(path: str, method: str, **definition: Any) -> None:
    """Describe one operation. `path` uses OpenAPI templating, e.g. '/courses/{course_id}'
    (relative to /api/v1)."""
    PATHS.setdefault(path, {})[method.lower()] = definition


def schema(name: str, definition: dict[str, Any]) -> dict[str, str]:
    """Register a component schema; returns a $ref to it."""
    SCHEMAS[name] = definition
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """A closed object schema: every property required unless named in `optional`."""
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "required": [name for name in properties if name not in optional]}


def nullable(definition: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in definition:  # OpenAPI 3.0 ignores keywords beside a $ref
        return {"allOf": [definition], "nullable": True}
    return {**definition, "nullable": True}


ERROR = schema("Error", obj({
    "error": {"type": "string", "description": "What went wrong, in the caller's language"},
    "status": {"type": "integer", "description": "The HTTP status, repeated"},
    "field": {"type": "string", "description": "The parameter or body field at fault, when one is"},
}, optional=("field",)))


def json_body(definition: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": definition}}}


def errors(*codes: int) -> dict[str, Any]:
    """Documented error responses, all with the Error body."""
    return {str(code): json_body(ERROR, _ERROR_TEXT[code]) for code in codes}


def query(name: str, definition: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": definition, "description": description}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "红帆学院 Hongfan Academy API", "version": "1",
                 "description": "JSON API for phones and integrations. Times are RFC 3339 in UTC; "
                                "errors share the Error body."},
        "servers": [{"url": "/api/v1"}],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "securitySchemes": SECURITY_SCHEMES},
    }
