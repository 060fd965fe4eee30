"""A station's day as .xlsx or CSV: every redemption line, then the stock left, with the same
writers as the dashboards' exports."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _, lazy_gettext as _l

from learning.audit.operations import record_read
from learning.orgs.models import Member
from learning.orgs.roster import mask
from learning.redemption import queries
from learning.redemption.models import Station
from learning.stats.exports import FORMATS, to_csv, to_xlsx
from learning.stats.tables import Column, Row, Table
from learning.timeutil import to_local, utcnow

__all__ = ["FORMATS", "day_table", "day_export"]


def day_table(station: Station, day: date) -> Table:
    columns = [Column("at", _l("时间")), Column("name", _l("姓名")), Column("phone", _l("手机号")),
               Column("item", _l("物品")), Column("quantity", _l("数量"), "int"),
               Column("points", _l("积分"), "int"), Column("staff", _l("经办人"))]
    rows = []
    for redemption in queries.day_redemptions(station, day):
        at = to_local(redemption.created_at).strftime("%H:%M:%S")
        for line in redemption.lines:
            rows.append(Row([at, redemption.member.name, mask(redemption.member.phone), line.name, line.quantity,
                             line.price * line.quantity, redemption.staff.name], member_id=redemption.member_id))
    rows.append(Row([str(_l("合计")), "", "", "", sum(r.values[4] for r in rows), sum(r.values[5] for r in rows), ""]))
    for item in station.items:  # the stock left, under the day's lines
        rows.append(Row(["", "", "", item.name, None, None, str(_l("库存 %(n)s", n=item.stock))]))
    return Table(name="redemptions", title=_l("兑换记录"), columns=columns, rows=rows,
                 personal=True, count=len(rows))


def day_export(station: Station, day: date, fmt: str, *, actor: Member, address: str | None) -> tuple[bytes, str]:
    table = day_table(station, day)
    made = to_local(utcnow())
    title = _("%(station)s · 兑换记录 · %(day)s · 导出时间 %(at)s", station=station.name, day=day.isoformat(),
              at=made.strftime("%Y-%m-%d %H:%M"))
    data = to_xlsx(table, title) if fmt == "xlsx" else to_csv(table, title)
    record_read("station_exported", actor_id=actor.id, target=f"station:{station.id}", address=address,
                day=day.isoformat(), format=fmt, rows=len(table.rows))
    return data, f"station-{station.id}-{day.isoformat()}-{made.strftime('%Y%m%d-%H%M%S')}.{fmt}"
