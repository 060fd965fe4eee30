"""The predicate and the query filter must agree, for every actor and every member."""
from __future__ import annotations

from sqlalchemy import select

from learning.extensions import db
from learning.orgs.models import Member, Organization
from learning.orgs.queries import can_view_member, can_view_org, members_visible_to, orgs_visible_to


def test_predicate_and_filter_agree(city):
    members = list(db.session.scalars(select(Member)))
    orgs = list(db.session.scalars(select(Organization)))
    for actor in members:
        listed = set(db.session.scalars(members_visible_to(actor).with_only_columns(Member.id)))
        assert listed == {m.id for m in members if can_view_member(actor, m)}, actor.name
        listed_orgs = set(db.session.scalars(orgs_visible_to(actor).with_only_columns(Organization.id)))
        assert listed_orgs == {o.id for o in orgs if can_view_org(actor, o)}, actor.name


def test_secretary_sees_only_their_subtree(city):
    names = set(db.session.scalars(members_visible_to(city["secretary"]).with_only_columns(Member.name)))
    assert names == {"支部书记", "骑手小王"}
    committee = set(db.session.scalars(members_visible_to(city["committee"]).with_only_columns(Member.name)))
    assert committee == {"工委书记", "支部书记", "邻支部书记", "骑手小王", "骑手小李"}
    member_view = set(db.session.scalars(members_visible_to(city["member"]).with_only_columns(Member.name)))
    assert member_view == {"骑手小王"}


def test_subtree_range_does_not_leak_into_ids_with_the_same_prefix(make_org, make_member):
    """/1/ must not match /10/ or /11/: the range filter works on whole path segments."""
    roots = [make_org(f"组织{i}", code=f"R{i:02d}") for i in range(12)]
    first = roots[0]  # path /1/
    secretary = make_member(first, role="secretary")
    for org in roots[1:]:
        make_member(org)
    visible_orgs = set(db.session.scalars(orgs_visible_to(secretary).with_only_columns(Organization.code)))
    assert visible_orgs == {"R00"}
