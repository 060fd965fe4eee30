"""People and the organization tree."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from learning.extensions import db
from learning.pagecache.models import PageEpoch
from learning.timeutil import utcnow

# Materialized paths are compared byte-wise (range scans for subtrees); PostgreSQL must not
# apply a locale collation that ignores '/'.
PathString = String(255).with_variant(String(255, collation="C"), "postgresql")


class OrgKind(StrEnum):
    COMMITTEE = "committee"  # 党委 / 工委
    GENERAL_BRANCH = "general_branch"  # 党总支
    BRANCH = "branch"  # 党支部


class Role(StrEnum):
    SECRETARY = "secretary"
    ORG_ADMIN = "org_admin"
    ACADEMY_ADMIN = "academy_admin"


class MemberKind(StrEnum):
    """Learner kinds: Party members (full, probationary) and the workers the academy also trains."""

    FULL = "full"  # 正式党员
    PROBATIONARY = "probationary"  # 预备党员
    CANDIDATE = "candidate"  # 发展对象
    ACTIVIST = "activist"  # 入党积极分子
    MASSES = "masses"  # 群众


PARTY_KINDS = (MemberKind.FULL, MemberKind.PROBATIONARY)
NON_MEMBER_KINDS = (MemberKind.CANDIDATE, MemberKind.ACTIVIST, MemberKind.MASSES)


class Organization(db.Model):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    # '/1/7/42/': the ids from the root down to this node; subtree = path range scan.
    path: Mapped[str] = mapped_column(PathString, index=True, default="")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    industry: Mapped[str | None] = mapped_column(String(40))
    region: Mapped[str | None] = mapped_column(String(40))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    parent: Mapped[Organization | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Organization {self.code} {self.path}>"


class Member(UserMixin, db.Model):
    __tablename__ = "member"
    __table_args__ = (
        # Covering for the dashboards' scans of a subtree's members (home branch, then what the
        # figures group by): SQLite reads them from the index alone; it also serves plain
        # lookups by home branch.
        Index("ix_member_home_org_cover", "home_org_id", "active", "member_kind", "occupation", "birth_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(11), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    occupation: Mapped[str] = mapped_column(String(32), default="其他")
    home_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    member_kind: Mapped[str] = mapped_column(String(20), default=MemberKind.FULL)
    joined_at: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped by logout and password change; part of the login id, so every earlier session
    # and remember-me cookie of the account stops working at once.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped in the same transaction as any write that changes what this member's pages show;
    # cached pages carry the version they were rendered under (learning/pagecache).
    page_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The academy-wide page epoch, read in the same statement as the logged-in member
    # (learning/auth: undefer) so a kept page needs no query of its own; deferred elsewhere.
    page_epoch: Mapped[int | None] = column_property(
        select(PageEpoch.version).where(PageEpoch.id == 1).scalar_subquery(), deferred=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    home_org: Mapped[Organization] = relationship()
    # Loaded when first used (one query), not with every member: the logged-in member is loaded
    # on every request, and most requests — a kept page, the study API — never look at roles.
    roles: Mapped[list[RoleGrant]] = relationship(
        back_populates="member", foreign_keys="RoleGrant.member_id", lazy="select"
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def __repr__(self) -> str:
        return f"<Member {self.id}>"


class OrgMembership(db.Model):
    """隶属 (home) and activity memberships over time; the current home is also on Member."""

    __tablename__ = "org_membership"
    __table_args__ = (Index("ix_org_membership_org_kind", "org_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    kind: Mapped[str] = mapped_column(String(10))  # home | activity
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)


class RoleGrant(db.Model):
    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("member_id", "org_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))

    member: Mapped[Member] = relationship(back_populates="roles", foreign_keys=[member_id])
    org: Mapped[Organization] = relationship(lazy="joined")


class TransferStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"  # waiting for its effective date
    APPLIED = "applied"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class Transfer(db.Model):
    """A transfer of 组织关系 (the home branch) with its effective date. The member's history
    stays attached to the member; completions keep the branch they were earned in."""

    __tablename__ = "org_transfer"
    __table_args__ = (
        Index("ix_org_transfer_status_effective", "status", "effective_on"),
        Index("ix_org_transfer_from_status", "from_org_id", "status"),
        Index("ix_org_transfer_to_status", "to_org_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    from_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    to_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    effective_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=TransferStatus.REQUESTED)
    reason: Mapped[str] = mapped_column(String(200), default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime)

    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    from_org: Mapped[Organization] = relationship(foreign_keys=[from_org_id])
    to_org: Mapped[Organization] = relationship(foreign_keys=[to_org_id])
