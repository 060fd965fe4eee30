"""Stations (驿站), what they offer, who works there, and the points members spend there.

The points a member has are earned (the PointsEntry ledger, never touched here) minus redeemed
(the Redemption rows below). MemberYear.points keeps counting points earned, so the monthly
ranking (积分晾晒) and `stats reconcile` are unaffected by spending."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.extensions import db
from learning.orgs.models import Member, Organization
from learning.timeutil import utcnow


class Station(db.Model):
    __tablename__ = "station"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    orgs: Mapped[list[Organization]] = relationship(secondary="station_org", lazy="selectin",
                                                    order_by="Organization.path")
    items: Mapped[list[StationItem]] = relationship(back_populates="station", order_by="StationItem.id")


class StationOrg(db.Model):
    """A station serves members whose home branch lies in the subtree of one of its orgs."""

    __tablename__ = "station_org"

    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), primary_key=True, index=True)


class StationItem(db.Model):
    __tablename__ = "station_item"
    # The database itself refuses negative stock, whatever the code above it does.
    __table_args__ = (CheckConstraint("stock >= 0", name="stock"),
                      CheckConstraint("price > 0", name="price"))

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    price: Mapped[int] = mapped_column(Integer)  # points
    stock: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    station: Mapped[Station] = relationship(back_populates="items")


class StationStaff(db.Model):
    """The station-staff role: bound to a station, not to an organization (a station serves
    several organizations, and its staff need not be secretaries of any)."""

    __tablename__ = "station_staff"

    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True, index=True)
    granted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))

    member: Mapped[Member] = relationship(foreign_keys=[member_id])


class RedemptionCode(db.Model):
    """A one-time code a member shows as a QR code: random digits (typeable on a phone), valid
    a few minutes, naming the member without exposing their phone number."""

    __tablename__ = "redemption_code"
    __table_args__ = (Index("ix_redemption_code_member_expires", "member_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class Redemption(db.Model):
    __tablename__ = "redemption"
    __table_args__ = (
        # One code, one redemption: the last line of defence against two staff submitting at once.
        UniqueConstraint("code_id"),
        CheckConstraint("points > 0", name="points"),
        Index("ix_redemption_member_at", "member_id", "created_at"),
        Index("ix_redemption_station_at", "station_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("redemption_code.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    points: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    staff: Mapped[Member] = relationship(foreign_keys=[staff_id])
    station: Mapped[Station] = relationship()
    lines: Mapped[list[RedemptionLine]] = relationship(back_populates="redemption", lazy="selectin",
                                                       order_by="RedemptionLine.id")


class RedemptionLine(db.Model):
    __tablename__ = "redemption_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemption.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("station_item.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))  # as it was called then
    price: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)

    redemption: Mapped[Redemption] = relationship(back_populates="lines")
