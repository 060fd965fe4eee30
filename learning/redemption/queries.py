"""Reads for 积分兑换: balances, history, which stations serve a member, who staffs a station."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, literal, select, union_all

from learning.extensions import db
from learning.orgs.models import Member, Organization
from learning.orgs.queries import is_admin
from learning.redemption.models import (Redemption, RedemptionCode, Station, StationItem, StationOrg,
                                        StationStaff)
from learning.study import points as rules
from learning.study.models import PointsEntry
from learning.timeutil import academy_zone, from_aware

BEHAVIOURS = {
    rules.FIRST_STUDY_OF_DAY: _l("每日首次学习"),
    rules.LESSON_COMPLETE: _l("学完一课"),
    rules.COURSE_COMPLETE: _l("学完课程"),
    rules.QUIZ_PASS: _l("测验通过"),
    rules.QUIZ_FULL_MARKS: _l("测验满分"),
    rules.STREAK_7: _l("连续学习 7 天"),
}


def behaviour_label(behaviour: str) -> str:
    return str(BEHAVIOURS.get(behaviour, behaviour))


@dataclass(frozen=True)
class Balance:
    earned: int
    redeemed: int

    @property
    def balance(self) -> int:
        return self.earned - self.redeemed


def earned_points(member_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0))
                                 .where(PointsEntry.member_id == member_id)) or 0)


def redeemed_points(member_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(Redemption.points), 0))
                                 .where(Redemption.member_id == member_id)) or 0)


def balance_of(member_id: int) -> Balance:
    return Balance(earned_points(member_id), redeemed_points(member_id))


@dataclass(frozen=True)
class HistoryLine:
    kind: str  # earned | redeemed
    label: str
    points: int  # positive when earned, negative when spent
    at: datetime  # naive UTC


def history(member_id: int, *, page: int, per_page: int) -> tuple[list[HistoryLine], int]:
    """Points earned and spent, newest first: one page and the number of lines in all."""
    earned = select(literal("earned").label("kind"), PointsEntry.behaviour.label("label"),
                    PointsEntry.points.label("points"), PointsEntry.awarded_at.label("at"),
                    PointsEntry.id.label("id")).where(PointsEntry.member_id == member_id)
    spent = (select(literal("redeemed").label("kind"), Station.name.label("label"),
                    (-Redemption.points).label("points"), Redemption.created_at.label("at"),
                    Redemption.id.label("id"))
             .join(Station, Station.id == Redemption.station_id).where(Redemption.member_id == member_id))
    both = union_all(earned, spent).subquery()
    total = db.session.scalar(select(func.count()).select_from(both)) or 0
    rows = db.session.execute(select(both).order_by(both.c.at.desc(), both.c.kind, both.c.id.desc())
                              .limit(per_page).offset((page - 1) * per_page))
    lines = [HistoryLine(row.kind, behaviour_label(row.label) if row.kind == "earned" else row.label,
                         int(row.points), row.at) for row in rows]
    return lines, int(total)


# --- stations --------------------------------------------------------------------------------

def serves(station: Station, member: Member) -> bool:
    """A station serves the members whose home branch lies under one of its organizations."""
    return station.active and any(member.home_org.path.startswith(org.path) for org in station.orgs)


def stations_serving(member: Member) -> list[Station]:
    home = member.home_org.path
    # The org paths that are prefixes of the member's home path: the home branch and its ancestors.
    ancestors = [int(part) for part in home.strip("/").split("/") if part]
    return list(db.session.scalars(
        select(Station).join(StationOrg, StationOrg.station_id == Station.id)
        .where(StationOrg.org_id.in_(ancestors), Station.active.is_(True))
        .distinct().order_by(Station.name, Station.id)))


def offered_items(station: Station) -> list[StationItem]:
    return [item for item in station.items if item.active]


def all_stations() -> Select[tuple[Station]]:
    return select(Station).order_by(Station.active.desc(), Station.name, Station.id)


def is_staff(actor: Member | None, station: Station) -> bool:
    return actor is not None and db.session.get(StationStaff, (station.id, actor.id)) is not None


def can_operate(actor: Member | None, station: Station) -> bool:
    """Staff of the station redeem and see its day; administrators may do so at any station."""
    return is_admin(actor) or is_staff(actor, station)


def stations_operated_by(actor: Member) -> list[Station]:
    statement = all_stations()
    if not is_admin(actor):
        statement = statement.join(StationStaff, StationStaff.station_id == Station.id) \
            .where(StationStaff.member_id == actor.id)
    return list(db.session.scalars(statement))


def staff_of(station: Station) -> list[StationStaff]:
    return list(db.session.scalars(select(StationStaff).where(StationStaff.station_id == station.id)
                                   .order_by(StationStaff.granted_at, StationStaff.member_id)))


def live_code(member_id: int, now: datetime, *, min_left: timedelta) -> RedemptionCode | None:
    """The member's newest unused code with at least `min_left` before it expires."""
    return db.session.scalar(select(RedemptionCode).where(
        RedemptionCode.member_id == member_id, RedemptionCode.used_at.is_(None),
        RedemptionCode.expires_at > now + min_left).order_by(RedemptionCode.expires_at.desc()).limit(1))


def code_by_text(text: str) -> RedemptionCode | None:
    return db.session.scalar(select(RedemptionCode).where(RedemptionCode.code == text))


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A local calendar day as a naive-UTC half-open interval."""
    start = from_aware(datetime.combine(day, time.min, tzinfo=academy_zone()))
    return start, from_aware(datetime.combine(day + timedelta(days=1), time.min, tzinfo=academy_zone()))


def day_redemptions(station: Station, day: date) -> list[Redemption]:
    start, end = day_bounds(day)
    return list(db.session.scalars(
        select(Redemption).where(Redemption.station_id == station.id, Redemption.created_at >= start,
                                 Redemption.created_at < end)
        .order_by(Redemption.created_at, Redemption.id)))


def orgs_by_codes(codes: list[str]) -> tuple[list[Organization], list[str]]:
    """The organizations named, and the codes that name none."""
    found = {org.code: org for org in db.session.scalars(select(Organization).where(Organization.code.in_(codes)))}
    return [found[c] for c in codes if c in found], [c for c in codes if c not in found]
