"""What importing a roster would do, row by row: new, updated, unchanged or an error with its
reason. The preview shows this plan; the commit builds it again from the file and applies it
only when no row has an error (all or nothing)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from learning.auth.operations import PHONE_RE, normalize_phone
from learning.extensions import db
from learning.orgs.kinds import kind_label
from learning.orgs.models import NON_MEMBER_KINDS, Member, MemberKind, Organization, OrgKind
from learning.orgs.roster import mask
from learning.roster.parse import BadDate, RawRow, normalize_text, parse_date

NEW, UPDATED, UNCHANGED, ERROR = "new", "updated", "unchanged", "error"
MIN_AGE = 18
OLDEST_BIRTH_YEAR = 1915

_KINDS = {
    MemberKind.FULL: ("正式", "正式党员", "正", "中共党员", "full", "fullmember", "f", "regular"),
    MemberKind.PROBATIONARY: ("预备", "预备党员", "预", "中共预备党员", "probationary", "probationarymember", "p", "probation"),
    MemberKind.CANDIDATE: ("发展对象", "发展", "入党发展对象", "candidate"),
    MemberKind.ACTIVIST: ("积极分子", "入党积极分子", "积极", "activist"),
    MemberKind.MASSES: ("群众", "普通群众", "非党员", "masses", "mass", "nonmember", "non-member", "none"),
}
_KIND_LOOKUP = {spelling: kind for kind, spellings in _KINDS.items() for spelling in spellings}


@dataclass
class MemberData:
    name: str
    phone: str
    birth_year: int | None
    occupation: str | None
    branch: Organization
    member_kind: str | None
    joined_at: date | None


@dataclass
class RowPlan:
    number: int
    outcome: str
    name: str = ""
    phone_masked: str = ""
    branch_code: str = ""
    changes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    data: MemberData | None = None
    member_id: int | None = None


@dataclass
class Plan:
    org: Organization
    rows: list[RowPlan]

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and self.count(ERROR) == 0

    def summary(self) -> dict[str, int]:
        return {o: self.count(o) for o in (NEW, UPDATED, UNCHANGED, ERROR)}


def parse_kind(value) -> str | None:
    text = re.sub(r"\s", "", normalize_text(value)).lower()
    if not text:
        return None
    return _KIND_LOOKUP.get(text)


def build_plan(rows: list[RawRow], org: Organization, today: date) -> Plan:
    """`org` is the scope: every row's branch must be an open 党支部 inside it."""
    branches = {o.code.upper(): o for o in db.session.scalars(select(Organization))}
    phones = [normalize_phone(normalize_text(r.values.get("phone"))) for r in rows]
    existing = {m.phone: m for m in db.session.scalars(select(Member).where(Member.phone.in_(
        [p for p in phones if PHONE_RE.match(p)])))}
    first_seen: dict[str, int] = {}
    plans = []
    for raw, phone in zip(rows, phones):
        plan = _row(raw, phone, org, branches, existing, today)
        if PHONE_RE.match(phone):
            if phone in first_seen:
                plan.errors.append(_("手机号与第 %(row)d 行重复。", row=first_seen[phone]))
            else:
                first_seen[phone] = raw.number
        if plan.errors:
            plan.outcome, plan.data = ERROR, None
        plans.append(plan)
    return Plan(org, plans)


def _row(raw: RawRow, phone: str, org: Organization, branches: dict[str, Organization],
         existing: dict[str, Member], today: date) -> RowPlan:
    v = raw.values
    errors: list[str] = []
    name = re.sub(r"\s+", "", normalize_text(v.get("name")))
    plan = RowPlan(raw.number, NEW, name=name, errors=errors)
    if not name:
        errors.append(_("姓名为空。"))
    elif len(name) > 64:
        errors.append(_("姓名太长（最多 64 个字）。"))

    plan.phone_masked = mask(phone) if PHONE_RE.match(phone) else normalize_text(v.get("phone"))[:20]
    if not phone:
        errors.append(_("手机号为空。"))
    elif not PHONE_RE.match(phone):
        errors.append(_("手机号“%(phone)s”不是有效的 11 位手机号码。", phone=plan.phone_masked))

    birth_year = None
    try:
        birth, _year_only = parse_date(v.get("birth"), allow_year=True)
    except BadDate as bad:
        birth = None
        errors.append(_date_message(_("出生日期"), bad))
    if birth is not None:
        if birth > today or birth.year > today.year - MIN_AGE or birth.year < OLDEST_BIRTH_YEAR:
            errors.append(_("出生年份 %(year)d 不合理（党员须年满 18 岁）。", year=birth.year))
        else:
            birth_year = birth.year

    joined = None
    try:
        joined, _unused = parse_date(v.get("joined"), allow_year=False)
    except BadDate as bad:
        errors.append(_date_message(_("入党日期"), bad))
    if joined is not None:
        if joined > today:
            errors.append(_("入党日期 %(day)s 在今天之后。", day=joined.isoformat()))
            joined = None
        elif birth_year is not None and joined.year - birth_year < MIN_AGE:
            errors.append(_("入党日期 %(day)s 时不满 18 岁。", day=joined.isoformat()))

    raw_kind = normalize_text(v.get("kind"))
    member_kind = parse_kind(raw_kind)
    if raw_kind and member_kind is None:
        errors.append(_("党员类别“%(value)s”无法识别（应为正式党员、预备党员、发展对象、入党积极分子或群众）。", value=raw_kind[:20]))
    if member_kind in NON_MEMBER_KINDS and joined is not None:
        errors.append(_("%(kind)s不是党员，不应填写入党日期。", kind=kind_label(member_kind)))
    if member_kind == MemberKind.PROBATIONARY and joined is not None and (today - joined).days > 3 * 366:
        errors.append(_("预备党员的入党日期 %(day)s 已超过预备期。", day=joined.isoformat()))

    occupation = re.sub(r"\s+", "", normalize_text(v.get("occupation"))) or None
    if occupation and len(occupation) > 32:
        errors.append(_("职业太长（最多 32 个字）。"))

    code = normalize_text(v.get("branch")).upper()
    plan.branch_code = code
    branch = None
    if not code:
        if org.kind == OrgKind.BRANCH:
            branch, plan.branch_code = org, org.code
        else:
            errors.append(_("支部编码为空。"))
    elif code not in branches:
        errors.append(_("支部编码 %(code)s 不存在。", code=code))
    else:
        branch = branches[code]
        if not branch.path.startswith(org.path):
            errors.append(_("支部 %(code)s 不在 %(org)s 范围内。", code=code, org=org.name))
            branch = None
        elif branch.kind != OrgKind.BRANCH:
            errors.append(_("%(code)s 不是党支部。", code=code))
            branch = None
        elif branch.closed_at is not None:
            errors.append(_("支部 %(code)s 已撤销。", code=code))
            branch = None

    member = existing.get(phone)
    if member is not None:
        if not member.active:
            errors.append(_("这个手机号的账号已停用，请联系学院管理员。"))
        elif not member.home_org.path.startswith(org.path):
            errors.append(_("这个手机号已是其他组织的党员，请办理组织关系转接。"))
    if errors or branch is None:
        return plan
    plan.data = MemberData(name=name, phone=phone, birth_year=birth_year, occupation=occupation,
                           branch=branch, member_kind=member_kind, joined_at=joined)
    if member is None:
        return plan
    plan.member_id = member.id
    plan.changes = changes_for(member, plan.data)
    plan.outcome = UPDATED if plan.changes else UNCHANGED
    return plan


def changes_for(member: Member, data: MemberData) -> list[str]:
    """Labels of the fields an import would change; empty cells keep what is stored."""
    changes = []
    if data.name != member.name:
        changes.append(_("姓名"))
    if data.birth_year is not None and data.birth_year != member.birth_year:
        changes.append(_("出生年份"))
    if data.occupation and data.occupation != member.occupation:
        changes.append(_("职业"))
    if data.branch.id != member.home_org_id:
        changes.append(_("支部"))
    if data.member_kind and data.member_kind != member.member_kind:
        changes.append(_("党员类别"))
    if data.joined_at is not None and data.joined_at != member.joined_at:
        changes.append(_("入党日期"))
    return changes


def _date_message(label: str, bad: BadDate) -> str:
    if bad.kind == "impossible":
        return _("%(label)s“%(text)s”不存在（日期不合法）。", label=label, text=bad.text[:20])
    return _("%(label)s“%(text)s”无法识别。", label=label, text=bad.text[:20])
