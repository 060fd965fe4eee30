"""API routes that belong to no single feature: the OpenAPI document and bearer tokens."""
from __future__ import annotations

import re

from flask import jsonify
from flask_babel import gettext as _

from learning.api import bp, spec
from learning.api.auth import api_member, api_token_id, member_required
from learning.api.jsonio import InvalidInput, error, json_object, utc_iso
from learning.api.models import ApiToken
from learning.api.operations import TooManyTokens, issue_token, revoke_token
from learning.api.queries import live_tokens
from learning.auth.operations import InvalidCredentials, TooManyAttempts, authenticate
from learning.auth.passwords import MAX_LENGTH
from learning.extensions import db
from learning.netutil import client_address
from learning.timeutil import utcnow

spec.operation("/openapi.json", "get", operationId="openapi", summary="This document",
               security=spec.PUBLIC, tags=["meta"],
               responses={"200": spec.json_body({"type": "object"}, "The OpenAPI 3 document")})


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec.document())


# --- tokens ---------------------------------------------------------------------------------

NAME_MAX = 64
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
TOKEN_FIELDS = {
    "id": {"type": "integer"},
    "name": {"type": "string", "maxLength": NAME_MAX},
    "created_at": {"type": "string", "format": "date-time"},
    "expires_at": {"type": "string", "format": "date-time"},
}
TOKEN = spec.schema("Token", spec.obj({
    **TOKEN_FIELDS,
    "current": {"type": "boolean", "description": "This token made the request"},
}))
NEW_TOKEN = spec.schema("NewToken", spec.obj({
    "token": {"type": "string", "description": "The secret; shown only in this response"},
    **TOKEN_FIELDS,
}))
TOKEN_REQUEST = spec.schema("TokenRequest", spec.obj({
    "phone": {"type": "string", "minLength": 1, "maxLength": 32, "description": "Mobile number"},
    "password": {"type": "string", "minLength": 1, "maxLength": MAX_LENGTH},
    "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX, "pattern": "^[^\\u0000-\\u001f\\u007f]*$",
             "description": "A label for the device or integration (blank: token-<date>)"},
}, optional=("name",)))

spec.operation(
    "/tokens", "post", operationId="createToken", tags=["tokens"], security=spec.PUBLIC,
    summary="Exchange a mobile number and password for a bearer token",
    description="Same failed-login limits as the login page (per account and per address).",
    requestBody={"required": True, "content": {"application/json": {"schema": TOKEN_REQUEST}}},
    responses={"201": spec.json_body(NEW_TOKEN, "The new token; keep the secret, it is not shown again"),
               **spec.errors(400, 401, 403, 409, 429)},
)


def _token_json(token: ApiToken) -> dict:
    return {"id": token.id, "name": token.name, "created_at": utc_iso(token.created_at),
            "expires_at": utc_iso(token.expires_at)}


def _text_field(body: dict, name: str, max_length: int, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidInput(_("请填写 %(field)s（字符串）。", field=name), name)
    if len(value) > max_length:
        raise InvalidInput(_("%(field)s 最多 %(n)s 个字符。", field=name, n=max_length), name)
    return value


@bp.post("/tokens")
def create_token():
    body = json_object()
    unknown = sorted(set(body) - {"phone", "password", "name"})
    if unknown:
        raise InvalidInput(_("不认识的字段：%(names)s。", names=", ".join(unknown)), unknown[0])
    phone = _text_field(body, "phone", 32)
    password = _text_field(body, "password", MAX_LENGTH)
    now = utcnow()
    name = (_text_field(body, "name", NAME_MAX, required=False) or "").strip()
    if CONTROL.search(name):
        raise InvalidInput(_("name 不能含控制字符。"), "name")
    name = name or f"token-{now:%Y-%m-%d}"
    address = client_address()
    try:
        member = authenticate(phone, password, address)
    except TooManyAttempts:
        return error(429, _("尝试次数过多，请 15 分钟后再试。"))
    except InvalidCredentials:
        return error(401, _("手机号或密码不正确。"))
    if member.must_change_password:
        return error(403, _("请先在网页上登录并修改初始密码。"))
    try:
        token, secret = issue_token(member, name, now, address=address)
    except TooManyTokens:
        return error(409, _("令牌太多，请先撤销不再使用的令牌。"))
    return jsonify({"token": secret, **_token_json(token)}), 201


spec.operation(
    "/tokens", "get", operationId="listTokens", tags=["tokens"], security=spec.MEMBER,
    summary="The caller's tokens that still work (never their secrets)",
    responses={"200": spec.json_body(spec.obj({"items": {"type": "array", "items": TOKEN}}), "Newest first"),
               **spec.errors(401)},
)


@bp.get("/tokens")
@member_required
def list_tokens():
    current = api_token_id()
    rows = db.session.scalars(live_tokens(api_member(), utcnow()))
    return jsonify({"items": [{**_token_json(t), "current": t.id == current} for t in rows]})


spec.operation(
    "/tokens/{token_id}", "delete", operationId="revokeToken", tags=["tokens"], security=spec.MEMBER,
    summary="Revoke one of the caller's tokens",
    parameters=[{"name": "token_id", "in": "path", "required": True,
                 "schema": spec.ID}],
    responses={"204": {"description": "Revoked"}, **spec.errors(400, 401, 404)},
)


@bp.delete("/tokens/<int:token_id>")
@member_required
def revoke(token_id: int):
    member = api_member()
    token = db.session.get(ApiToken, token_id) if token_id <= spec.MAX_ID else None
    if token is None or token.member_id != member.id:
        return error(404, _("没有这个令牌。"))
    revoke_token(token, member, address=client_address())
    return "", 204
