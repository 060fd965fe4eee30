"""Writing a dashboard table to .xlsx or CSV: a title row naming the node, the period and the
time it was made, the header, every row, the total."""
from __future__ import annotations

import csv
import io
from itertools import chain
from collections.abc import Iterator
from datetime import date, datetime

from flask_babel import gettext as _

from learning.audit.operations import record_read
from learning.orgs.models import Member, Organization
from learning.stats.queries import Period
from learning.stats.tables import Table
from learning.stats.xlsx import write_xlsx
from learning.timeutil import to_local, utcnow

FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8"}


def period_label(period: Period) -> str:
    if (period.month_from, period.month_to) == (1, 12):
        return _("%(y)s 年", y=period.year)
    return _("%(y)s 年 %(a)s–%(b)s 月", y=period.year, a=period.month_from, b=period.month_to)


def title_line(table: Table, org: Organization, period: Period, made: datetime) -> str:
    return _("%(org)s（%(code)s） · %(table)s · %(period)s · 导出时间 %(at)s", org=org.name, code=org.code,
             table=str(table.title), period=period_label(period), at=made.strftime("%Y-%m-%d %H:%M"))


def file_name(table: Table, org: Organization, period: Period, made: datetime, fmt: str) -> str:
    return f"{org.code}-{table.name}-{period.slug}-{made.strftime('%Y%m%d-%H%M%S')}.{fmt}"


def _plain(value, kind: str):
    if value is None:
        return ""
    if kind == "pct" and isinstance(value, float):
        return round(value * 100, 1)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


def header(table: Table) -> list[str]:
    return [str(c.label) + (" (%)" if c.kind == "pct" else "") for c in table.columns]


def body(table: Table) -> Iterator[list]:
    """The rows then the total, as plain values (percentages as numbers of per cent; empty
    cells None, which both writers leave empty)."""
    kinds = [c.kind for c in table.columns]
    special = [i for i, k in enumerate(kinds) if k in ("pct", "date", "moment")]
    for row in table.rows:
        if not special:  # text, counts and hours are written as they are
            yield row.values
            continue
        values = list(row.values)
        for i in special:
            values[i] = _plain(values[i], kinds[i]) if values[i] is not None else None
        yield values
    if table.total is not None:
        yield [_plain(v, k) for v, k in zip(table.total, kinds)]


def to_csv(table: Table, title: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title])
    writer.writerow(header(table))
    writer.writerows(body(table))
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM lets Excel read UTF-8 Chinese


def to_xlsx(table: Table, title: str) -> bytes:
    """The title and header rows in bold, then the body."""
    return write_xlsx(chain([[title], header(table)], body(table)), title=str(table.title), bold_rows=2)


def render(table: Table, org: Organization, period: Period, fmt: str, *, actor: Member | None,
           address: str | None = None, made: datetime | None = None) -> tuple[bytes, str]:
    """The file's bytes and name; exports holding personal data are audited (who, what, when)."""
    made_utc = made or utcnow()
    local = to_local(made_utc).replace(tzinfo=None)
    title = title_line(table, org, period, local)
    data = to_xlsx(table, title) if fmt == "xlsx" else to_csv(table, title)
    if table.personal:
        record_read("stats_exported", actor_id=actor.id if actor else None, target=f"org:{org.code}",
                    address=address, table=table.name, format=fmt, period=period.slug, rows=len(table.rows))
    return data, file_name(table, org, period, local, fmt)
