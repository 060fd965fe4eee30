"""Writes to the organization tree, members, roles and transfers (flush, never commit)."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, select, update

from learning.audit.operations import record
from learning.extensions import db
from learning.orgs.models import (Member, Organization, OrgKind, OrgMembership, RoleGrant, Transfer,
                                  TransferStatus)
from learning.orgs.queries import subtree_condition
from learning.study import rollups
from learning.timeutil import utcnow


class Refused(Exception):
    """A write the rules do not allow; the message is for the user (lazy, translated)."""

    def __init__(self, message) -> None:
        super().__init__(message)  # lazy: rendered in the language of whoever reads it
        self.message = message


def _actor_id(actor: Member | None) -> int | None:
    return actor.id if actor else None


# --- the tree ------------------------------------------------------------------------------

def create_org(*, code: str, name: str, kind: str, parent: Organization | None,
               industry: str | None = None, region: str | None = None) -> Organization:
    org = Organization(code=code, name=name, kind=kind, parent=parent, industry=industry, region=region)
    db.session.add(org)
    db.session.flush()  # the id is part of the path
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    org.depth = parent.depth + 1 if parent else 0
    return org


def add_org(*, code: str, name: str, kind: str, parent: Organization, actor: Member | None,
            industry: str | None = None, region: str | None = None) -> Organization:
    """A node created by a person (checked and audited); create_org is the bare write."""
    _check_parent(parent)
    if db.session.scalar(select(Organization.id).where(Organization.code == code)) is not None:
        raise Refused(_l("组织编码 %(code)s 已被使用。", code=code))
    org = create_org(code=code, name=name, kind=kind, parent=parent, industry=industry, region=region)
    record("org_created", actor_id=_actor_id(actor), target=f"org:{code}", name=name, kind=kind,
           parent=parent.code)
    return org


def _check_parent(parent: Organization) -> None:
    if parent.kind == OrgKind.BRANCH:
        raise Refused(_l("党支部下不能再建下级组织。"))
    if parent.closed_at is not None:
        raise Refused(_l("上级组织已撤销。"))


def update_org(org: Organization, *, actor: Member | None, name: str, kind: str,
               industry: str | None, region: str | None) -> None:
    if kind == OrgKind.BRANCH and org.kind != OrgKind.BRANCH and db.session.scalar(
            select(Organization.id).where(Organization.parent_id == org.id, Organization.closed_at.is_(None)).limit(1)):
        raise Refused(_l("还有下级组织，不能改为党支部。"))
    before = {"name": org.name, "kind": org.kind, "industry": org.industry, "region": org.region}
    after = {"name": name, "kind": kind, "industry": industry, "region": region}
    changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if not changed:
        return
    org.name, org.kind, org.industry, org.region = name, kind, industry, region
    record("org_updated", actor_id=_actor_id(actor), target=f"org:{org.code}", changes=changed)


def move_org(org: Organization, new_parent: Organization, *, actor: Member | None) -> None:
    """Re-parent a node with its whole subtree: one UPDATE rewrites every path and depth.
    Statistics stay right because credits and their monthly roll-ups carry the branch id, never
    its path; only the per-course roll-ups of the top levels, which sum whole subtrees, follow
    the move (rollups.subtree_moved)."""

    if new_parent.path.startswith(org.path):
        raise Refused(_l("不能把组织移到它自己或它的下级组织之下。"))
    _check_parent(new_parent)
    if org.parent_id == new_parent.id:
        return
    old_path, old_parent = org.path, org.parent
    new_path = f"{new_parent.path}{org.id}/"
    delta = new_parent.depth + 1 - org.depth
    rollups.write_pending(db.session())  # this transaction's own credits, under the paths they were earned in
    db.session.execute(
        update(Organization)
        .where(subtree_condition(Organization.path, old_path))
        .values(path=literal(new_path) + func.substr(Organization.path, len(old_path) + 1),
                depth=Organization.depth + delta)
        .execution_options(synchronize_session=False)
    )
    org.parent_id = new_parent.id
    db.session.flush()
    rollups.subtree_moved(old_path, new_path)
    db.session.expire_all()  # loaded nodes of the subtree carry their old paths
    record("org_moved", actor_id=_actor_id(actor), target=f"org:{org.code}",
           before=old_parent.code if old_parent else None, after=new_parent.code)


def close_org(org: Organization, *, actor: Member | None) -> None:
    """Refused while the node has open children or active members at home there: they must
    be moved or transferred first, so nobody is left without a branch."""
    if org.closed_at is not None:
        return
    if db.session.scalar(select(Organization.id).where(Organization.parent_id == org.id,
                                                       Organization.closed_at.is_(None)).limit(1)):
        raise Refused(_l("还有未撤销的下级组织，请先移走或撤销。"))
    if db.session.scalar(select(Member.id).where(Member.home_org_id == org.id, Member.active.is_(True)).limit(1)):
        raise Refused(_l("还有党员的组织关系在这里，请先办理转接。"))
    org.closed_at = utcnow()
    record("org_closed", actor_id=_actor_id(actor), target=f"org:{org.code}")


# --- members and roles -----------------------------------------------------------------------

def create_member(*, name: str, phone: str, home_org: Organization, password_hash: str | None,
                  birth_year: int | None, occupation: str, member_kind: str, joined_at: date | None,
                  since: date, active: bool = True) -> Member:
    member = Member(name=name, phone=phone, home_org=home_org, password_hash=password_hash,
                    birth_year=birth_year, occupation=occupation, member_kind=member_kind,
                    joined_at=joined_at, active=active)
    db.session.add(member)
    db.session.flush()
    db.session.add(OrgMembership(member_id=member.id, org_id=home_org.id, kind="home", since=since))
    return member


def grant_role(*, member: Member, org: Organization, role: str, actor: Member | None) -> RoleGrant:
    existing = db.session.scalar(select(RoleGrant).where(
        RoleGrant.member_id == member.id, RoleGrant.org_id == org.id, RoleGrant.role == role))
    if existing is not None:
        return existing
    grant = RoleGrant(member=member, org=org, role=role, granted_by_id=actor.id if actor else None)
    db.session.add(grant)
    record("role_granted", actor_id=actor.id if actor else None, target=f"member:{member.id}",
           role=str(role), org=org.code)
    return grant


def revoke_role(grant: RoleGrant, *, actor: Member | None) -> None:
    record("role_revoked", actor_id=_actor_id(actor), target=f"member:{grant.member_id}",
           role=grant.role, org=grant.org.code)
    db.session.delete(grant)


def set_home(member: Member, org: Organization, on: date) -> None:
    """Close the current home membership the day before `on`, open one at `org` from `on`."""
    for row in db.session.scalars(select(OrgMembership).where(
            OrgMembership.member_id == member.id, OrgMembership.kind == "home",
            OrgMembership.until.is_(None))):
        row.until = max(row.since, on)
    db.session.add(OrgMembership(member_id=member.id, org_id=org.id, kind="home", since=on))
    member.home_org = org


def add_activity(member: Member, org: Organization, on: date) -> None:
    if db.session.scalar(select(OrgMembership.id).where(
            OrgMembership.member_id == member.id, OrgMembership.org_id == org.id,
            OrgMembership.until.is_(None))) is None:
        db.session.add(OrgMembership(member_id=member.id, org_id=org.id, kind="activity", since=on))


# --- transfers of 组织关系 -------------------------------------------------------------------

def request_transfer(member: Member, to_org: Organization, effective_on: date, *, actor: Member,
                     reason: str = "") -> Transfer:
    if to_org.kind != OrgKind.BRANCH or to_org.closed_at is not None:
        raise Refused(_l("只能转入未撤销的党支部。"))
    if to_org.id == member.home_org_id:
        raise Refused(_l("党员的组织关系已在这个支部。"))
    if db.session.scalar(select(Transfer.id).where(
            Transfer.member_id == member.id,
            Transfer.status.in_((TransferStatus.REQUESTED, TransferStatus.APPROVED)))):
        raise Refused(_l("这位党员已有一项未完成的转接。"))
    transfer = Transfer(member=member, from_org_id=member.home_org_id, to_org=to_org,
                        effective_on=effective_on, reason=reason, requested_by_id=actor.id,
                        status=TransferStatus.REQUESTED)
    db.session.add(transfer)
    db.session.flush()
    record("transfer_requested", actor_id=actor.id, target=f"member:{member.id}", transfer=transfer.id,
           to=to_org.code, effective_on=effective_on.isoformat())
    return transfer


def decide_transfer(transfer: Transfer, *, approve: bool, actor: Member, today: date) -> None:
    if transfer.status != TransferStatus.REQUESTED:
        raise Refused(_l("这项转接已处理。"))
    transfer.decided_by_id, transfer.decided_at = actor.id, utcnow()
    transfer.status = TransferStatus.APPROVED if approve else TransferStatus.DECLINED
    record("transfer_approved" if approve else "transfer_declined", actor_id=actor.id,
           target=f"member:{transfer.member_id}", transfer=transfer.id)
    if approve and transfer.effective_on <= today:
        apply_transfer(transfer)


def cancel_transfer(transfer: Transfer, *, actor: Member) -> None:
    if transfer.status not in (TransferStatus.REQUESTED, TransferStatus.APPROVED):
        raise Refused(_l("这项转接已处理。"))
    transfer.status = TransferStatus.CANCELLED
    record("transfer_cancelled", actor_id=actor.id, target=f"member:{transfer.member_id}",
           transfer=transfer.id)


def apply_transfer(transfer: Transfer) -> None:
    member = transfer.member
    if member.home_org_id != transfer.from_org_id:
        # The member moved some other way meanwhile (an import inside a subtree): the request
        # no longer describes a move from where they are.
        transfer.status = TransferStatus.CANCELLED
        record("transfer_cancelled", actor_id=None, target=f"member:{member.id}", transfer=transfer.id,
               why="home_changed")
        return
    set_home(member, transfer.to_org, transfer.effective_on)
    transfer.status, transfer.applied_at = TransferStatus.APPLIED, utcnow()
    record("transfer_applied", actor_id=None, target=f"member:{member.id}", transfer=transfer.id,
           before=transfer.from_org.code, after=transfer.to_org.code)


def apply_due_transfers(today: date, member: Member | None = None) -> int:
    """Approved transfers whose effective date has come. Run by `hongfan roster
    apply-transfers` (daily), at login, and before any write request of the member, so a
    completion on or after the effective date always counts for the new branch."""
    query = select(Transfer).where(Transfer.status == TransferStatus.APPROVED, Transfer.effective_on <= today)
    if member is not None:
        query = query.where(Transfer.member_id == member.id)
    due = list(db.session.scalars(query.order_by(Transfer.effective_on, Transfer.id)))
    for transfer in due:
        apply_transfer(transfer)
    db.session.flush()
    return len(due)
