"""Writes for 积分兑换 (flush, never commit; every administrative write and every redemption
audited).

A redemption is one transaction that can never spend points twice, spend more than the
balance, or take stock below zero, even when two staff submit at the same moment:
- the code row, the member row and the item rows are locked (SELECT … FOR UPDATE on
  PostgreSQL, always in that order so two redemptions cannot deadlock; on SQLite the request's
  BEGIN IMMEDIATE already serializes writers) and the balance and stock are read after the locks;
- the code is taken with a conditional UPDATE (used_at IS NULL) and Redemption.code_id is
  UNIQUE; stock is taken with a conditional UPDATE (stock >= quantity) whose row count is
  checked; the database refuses negative stock by a CHECK constraint.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from learning.audit.operations import record
from learning.extensions import db
from learning.orgs.models import Member, Organization
from learning.orgs.operations import Refused
from learning.redemption import queries
from learning.redemption.models import (Redemption, RedemptionCode, RedemptionLine, Station, StationItem,
                                        StationOrg, StationStaff)
from learning.study.operations import lock_member
from learning.timeutil import utcnow

CODE_LIFETIME = timedelta(minutes=5)
CODE_DIGITS = 12  # 10^12 possibilities against a handful of live codes, each valid 5 minutes
MAX_QUANTITY = 20


class RedemptionRefused(Refused):
    """A redemption that cannot go ahead; `status` is the HTTP status to answer with."""

    def __init__(self, message, status: int) -> None:
        super().__init__(message)
        self.status = status


# --- stations, items, staff (administrators) --------------------------------------------------

def _set_orgs(station: Station, orgs: list[Organization]) -> None:
    db.session.execute(StationOrg.__table__.delete().where(StationOrg.station_id == station.id))
    db.session.add_all(StationOrg(station_id=station.id, org_id=org.id) for org in orgs)
    db.session.flush()
    db.session.refresh(station, ["orgs"])


def create_station(*, name: str, address: str, orgs: list[Organization], actor: Member) -> Station:
    station = Station(name=name, address=address, active=True)
    db.session.add(station)
    db.session.flush()
    _set_orgs(station, orgs)
    record("station_created", actor_id=actor.id, target=f"station:{station.id}", name=name,
           orgs=[o.code for o in orgs])
    return station


def update_station(station: Station, *, name: str, address: str, orgs: list[Organization], active: bool,
                   actor: Member) -> None:
    station.name, station.address, station.active = name, address, active
    _set_orgs(station, orgs)
    record("station_updated", actor_id=actor.id, target=f"station:{station.id}", name=name, active=active,
           orgs=[o.code for o in orgs])


def add_item(station: Station, *, name: str, price: int, stock: int, actor: Member) -> StationItem:
    item = StationItem(station_id=station.id, name=name, price=price, stock=stock, active=True)
    db.session.add(item)
    db.session.flush()
    record("station_item_added", actor_id=actor.id, target=f"station:{station.id}", item=item.id, name=name,
           price=price, stock=stock)
    return item


def update_item(item: StationItem, *, name: str, price: int, stock: int, active: bool, actor: Member) -> None:
    # Lock the row: a redemption taking stock at this moment waits, then sees the new stock.
    db.session.execute(select(StationItem.id).where(StationItem.id == item.id).with_for_update())
    db.session.refresh(item)
    before = {"name": item.name, "price": item.price, "stock": item.stock, "active": item.active}
    item.name, item.price, item.stock, item.active = name, price, stock, active
    record("station_item_updated", actor_id=actor.id, target=f"station:{item.station_id}", item=item.id,
           before=before, after={"name": name, "price": price, "stock": stock, "active": active})


def add_staff(station: Station, member: Member, *, actor: Member) -> None:
    if db.session.get(StationStaff, (station.id, member.id)) is not None:
        raise Refused(_l("此人已是本驿站的工作人员。"))
    db.session.add(StationStaff(station_id=station.id, member_id=member.id, granted_by_id=actor.id))
    record("station_staff_added", actor_id=actor.id, target=f"member:{member.id}", station=station.id)


def remove_staff(staff: StationStaff, *, actor: Member) -> None:
    db.session.delete(staff)
    record("station_staff_removed", actor_id=actor.id, target=f"member:{staff.member_id}",
           station=staff.station_id)


# --- codes (members) -------------------------------------------------------------------------

def current_code(member: Member) -> RedemptionCode:
    """The member's live code, or a new one when none has a minute left."""
    now = utcnow()
    code = queries.live_code(member.id, now, min_left=timedelta(minutes=1))
    return code if code is not None else new_code(member)


def new_code(member: Member) -> RedemptionCode:
    now = utcnow()
    for _attempt in range(5):
        text = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        try:
            with db.session.begin_nested():
                code = RedemptionCode(code=text, member_id=member.id, created_at=now,
                                      expires_at=now + CODE_LIFETIME)
                db.session.add(code)
        except IntegrityError:
            continue  # the same digits are live for someone else: draw again
        return code
    raise RuntimeError("could not draw a free redemption code")


def normalize_code(raw: str) -> str:
    """What staff type or scan: digits, maybe grouped with spaces or dashes."""
    return "".join(ch for ch in raw if ch not in " -\u3000\t")


# --- redemptions (station staff) -------------------------------------------------------------

@dataclass(frozen=True)
class Pick:
    item_id: int
    quantity: int


def preview(station: Station, raw_code: str) -> tuple[RedemptionCode, Member]:
    """Check a code without taking it: who it names, refused when expired, used, forged or the
    member is not served by the station."""
    code = queries.code_by_text(normalize_code(raw_code))
    _check_code(code, station)
    return code, db.session.get(Member, code.member_id)


def _check_code(code: RedemptionCode | None, station: Station) -> None:
    if code is None:
        raise RedemptionRefused(_l("兑换码无效，请让对方刷新后重新出示。"), 404)
    if code.used_at is not None:
        raise RedemptionRefused(_l("这个兑换码已经用过，请让对方刷新后重新出示。"), 409)
    if code.expires_at <= utcnow():
        raise RedemptionRefused(_l("兑换码已过期，请让对方刷新后重新出示。"), 410)
    member = db.session.get(Member, code.member_id)
    if member is None or not member.active:
        raise RedemptionRefused(_l("兑换码无效，请让对方刷新后重新出示。"), 404)
    if not queries.serves(station, member):
        raise RedemptionRefused(_l("该党员所在组织不在本驿站的服务范围内。"), 403)


def redeem(station: Station, raw_code: str, picks: list[Pick], *, staff: Member,
           address: str | None = None) -> Redemption:
    if not station.active:
        raise RedemptionRefused(_l("本驿站已停用。"), 409)
    wanted: dict[int, int] = {}
    for pick in picks:
        if not 1 <= pick.quantity <= MAX_QUANTITY:
            raise RedemptionRefused(_l("每件物品的数量应在 1 到 %(n)s 之间。", n=MAX_QUANTITY), 400)
        wanted[pick.item_id] = wanted.get(pick.item_id, 0) + pick.quantity
    if not wanted:
        raise RedemptionRefused(_l("请至少选择一件物品。"), 400)
    # Locks, always in this order: code, member, items by id.
    # populate_existing: the locked row as committed now, not a version this session read earlier.
    code = db.session.scalar(select(RedemptionCode).where(RedemptionCode.code == normalize_code(raw_code))
                             .with_for_update().execution_options(populate_existing=True))
    if code is not None and code.member_id == staff.id:
        raise RedemptionRefused(_l("工作人员不能为自己办理兑换，请由其他工作人员办理。"), 403)
    _check_code(code, station)
    member = db.session.get(Member, code.member_id)
    lock_member(member)
    items = {item.id: item for item in db.session.scalars(
        select(StationItem).where(StationItem.id.in_(sorted(wanted)), StationItem.station_id == station.id)
        .order_by(StationItem.id).with_for_update().execution_options(populate_existing=True))}
    for item_id, quantity in wanted.items():
        item = items.get(item_id)
        if item is None or not item.active:
            raise RedemptionRefused(_l("本驿站没有这件物品。"), 400)
        if item.stock < quantity:
            raise RedemptionRefused(_l("“%(name)s”库存不足（剩 %(n)s 件）。", name=item.name, n=item.stock), 409)
    total = sum(items[i].price * q for i, q in wanted.items())
    balance = queries.balance_of(member.id).balance
    if balance < total:
        raise RedemptionRefused(_l("积分不足：需要 %(need)s 分，可用 %(have)s 分。", need=total, have=balance), 409)
    now = utcnow()
    taken = db.session.execute(
        update(RedemptionCode).where(RedemptionCode.id == code.id, RedemptionCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise RedemptionRefused(_l("这个兑换码已经用过，请让对方刷新后重新出示。"), 409)
    for item_id, quantity in sorted(wanted.items()):
        done = db.session.execute(
            update(StationItem).where(StationItem.id == item_id, StationItem.stock >= quantity)
            .values(stock=StationItem.stock - quantity).execution_options(synchronize_session=False)).rowcount
        if done != 1:
            raise RedemptionRefused(_l("“%(name)s”库存不足。", name=items[item_id].name), 409)
    redemption = Redemption(code_id=code.id, member_id=member.id, station_id=station.id, staff_id=staff.id,
                            points=total, created_at=now)
    redemption.lines = [RedemptionLine(item_id=i, name=items[i].name, price=items[i].price, quantity=q)
                        for i, q in sorted(wanted.items())]
    db.session.add(redemption)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise RedemptionRefused(_l("这个兑换码已经用过，请让对方刷新后重新出示。"), 409) from None
    for item in items.values():
        db.session.refresh(item)
    record("points_redeemed", actor_id=staff.id, target=f"member:{member.id}", address=address,
           station=station.id, redemption=redemption.id, points=total,
           items=[{"item": i, "name": items[i].name, "quantity": q} for i, q in sorted(wanted.items())])
    return redemption
