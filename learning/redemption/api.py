"""积分兑换 over the API: the member's balance and history, a code to show, and a station's
redemption (for station staff)."""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from learning.api import bp, spec
from learning.api.auth import api_member, member_required
from learning.api.jsonio import InvalidInput, error, int_arg, json_object, utc_iso
from learning.extensions import db
from learning.netutil import client_address
from learning.orgs.roster import mask
from learning.redemption import operations, queries
from learning.redemption.models import Station

POINTS = {"type": "integer", "minimum": 0}
HISTORY_LINE = spec.schema("PointsHistoryLine", spec.obj({
    "kind": {"type": "string", "enum": ["earned", "redeemed"]},
    "label": {"type": "string", "description": "The behaviour that earned the points, or the station"},
    "points": {"type": "integer", "description": "Positive when earned, negative when spent"},
    "at": {"type": "string", "format": "date-time"},
}))
MY_POINTS = spec.schema("MyPoints", spec.obj({
    "balance": {"type": "integer", "description": "earned − redeemed"},
    "earned": {**POINTS, "description": "积分 earned over all years"},
    "redeemed": {**POINTS, "description": "积分 spent at stations"},
    "page": {"type": "integer", "minimum": 1},
    "per_page": {"type": "integer", "minimum": 1},
    "total": {**POINTS, "description": "History lines in all"},
    "history": {"type": "array", "items": HISTORY_LINE, "description": "Newest first"},
}))

spec.operation(
    "/me/points", "get", operationId="myPoints", tags=["redemption"], security=spec.MEMBER,
    summary="The caller's points balance (earned − redeemed) and history, paginated",
    parameters=[spec.query("page", {"type": "integer", "minimum": 1, "maximum": 100000}, "Page, from 1"),
                spec.query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "Lines per page")],
    responses={"200": spec.json_body(MY_POINTS, "Balance and one page of history"), **spec.errors(400, 401)})


@bp.get("/me/points")
@member_required
def my_points():
    member = api_member()
    page, per_page = int_arg("page", 1, 1, 100000), int_arg("per_page", 20, 1, 100)
    balance = queries.balance_of(member.id)
    lines, total = queries.history(member.id, page=page, per_page=per_page)
    return jsonify({"balance": balance.balance, "earned": balance.earned, "redeemed": balance.redeemed,
                    "page": page, "per_page": per_page, "total": total,
                    "history": [{"kind": l.kind, "label": l.label, "points": l.points, "at": utc_iso(l.at)}
                                for l in lines]})


CODE = spec.schema("RedemptionCode", spec.obj({
    "code": {"type": "string", "pattern": "^[0-9]{12}$", "description": "Show as a QR code or read out"},
    "expires_at": {"type": "string", "format": "date-time"},
}))

spec.operation(
    "/me/redemption-codes", "post", operationId="newRedemptionCode", tags=["redemption"], security=spec.MEMBER,
    summary="A new one-time code (valid 5 minutes) to show at a station",
    responses={"201": spec.json_body(CODE, "The code"), **spec.errors(400, 401)})


@bp.post("/me/redemption-codes")
@member_required
def new_redemption_code():
    code = operations.new_code(api_member())
    return jsonify({"code": code.code, "expires_at": utc_iso(code.expires_at)}), 201


REDEEM_BODY = spec.obj({
    "code": {"type": "string", "minLength": 1, "maxLength": 40, "description": "The member's code"},
    "station_id": spec.ID,
    "items": {"type": "array", "minItems": 1, "maxItems": 50, "items": spec.obj({
        "item_id": spec.ID,
        "quantity": {"type": "integer", "minimum": 1, "maximum": operations.MAX_QUANTITY},
    })},
})
REDEMPTION = spec.schema("Redemption", spec.obj({
    "id": {"type": "integer"},
    "station_id": {"type": "integer"},
    "member": spec.obj({"name": {"type": "string"}, "phone": {"type": "string", "description": "Masked"}}),
    "points": {"type": "integer", "minimum": 1},
    "balance": {"type": "integer", "minimum": 0, "description": "The member's balance afterwards"},
    "lines": {"type": "array", "items": spec.obj({
        "item_id": {"type": "integer"}, "name": {"type": "string"}, "price": {"type": "integer"},
        "quantity": {"type": "integer"}})},
    "created_at": {"type": "string", "format": "date-time"},
}))

spec.operation(
    "/redemptions", "post", operationId="redeem", tags=["redemption"], security=spec.MEMBER,
    summary="Station staff redeem a member's code for items: points and stock in one transaction",
    requestBody={"required": True, "content": {"application/json": {"schema": REDEEM_BODY}}},
    responses={"201": spec.json_body(REDEMPTION, "Redeemed"),
               **spec.errors(400, 401, 403, 404, 409),
               "410": spec.json_body(spec.ERROR, "The code has expired")})


def _picks(body: dict) -> list[operations.Pick]:
    items = body.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= 50:
        raise InvalidInput(_("items 应为 1 到 50 项的列表。"), "items")
    picks = []
    for entry in items:
        if not isinstance(entry, dict) or set(entry) != {"item_id", "quantity"} or not all(
                type(entry[k]) is int for k in ("item_id", "quantity")):
            raise InvalidInput(_("items 的每一项应为 {\"item_id\": 整数, \"quantity\": 整数}。"), "items")
        picks.append(operations.Pick(entry["item_id"], entry["quantity"]))
    return picks


@bp.post("/redemptions")
@member_required
def redeem():
    staff = api_member()
    body = json_object()
    extra = set(body) - {"code", "station_id", "items"}
    if extra:
        raise InvalidInput(_("不认识的字段：%(names)s", names=", ".join(sorted(extra))), sorted(extra)[0])
    code, station_id = body.get("code"), body.get("station_id")
    if not isinstance(code, str) or not 1 <= len(code) <= 40:
        raise InvalidInput(_("code 应为兑换码字符串。"), "code")
    if type(station_id) is not int:
        raise InvalidInput(_("station_id 应为整数。"), "station_id")
    picks = _picks(body)
    station = db.session.get(Station, station_id) if 1 <= station_id <= spec.MAX_ID else None
    if station is None:
        return error(404, _("没有这个驿站。"))
    if not queries.can_operate(staff, station):
        return error(403, _("你不是这个驿站的工作人员。"))
    try:
        redemption = operations.redeem(station, code, picks, staff=staff, address=client_address())
    except operations.RedemptionRefused as refused:
        return error(refused.status, str(refused.message))
    member = redemption.member
    return jsonify({
        "id": redemption.id, "station_id": station.id, "points": redemption.points,
        "member": {"name": member.name, "phone": mask(member.phone)},
        "balance": queries.balance_of(member.id).balance,
        "lines": [{"item_id": l.item_id, "name": l.name, "price": l.price, "quantity": l.quantity}
                  for l in redemption.lines],
        "created_at": utc_iso(redemption.created_at)}), 201
