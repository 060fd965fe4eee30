"""Learner kinds (党员类别) as people read them, and the spellings a roster file may use."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from learning.orgs import bp
from learning.orgs.models import NON_MEMBER_KINDS, PARTY_KINDS, MemberKind

KIND_LABELS = {
    MemberKind.FULL: _l("正式党员"),
    MemberKind.PROBATIONARY: _l("预备党员"),
    MemberKind.CANDIDATE: _l("发展对象"),
    MemberKind.ACTIVIST: _l("入党积极分子"),
    MemberKind.MASSES: _l("群众"),
}
KINDS = tuple(KIND_LABELS)


def kind_label(kind: str | None) -> str:
    return str(KIND_LABELS.get(kind, kind or ""))


def is_party_member(kind: str | None) -> bool:
    return kind in PARTY_KINDS


bp.add_app_template_global(kind_label, "kind_label")

__all__ = ["KINDS", "KIND_LABELS", "NON_MEMBER_KINDS", "PARTY_KINDS", "is_party_member", "kind_label"]
