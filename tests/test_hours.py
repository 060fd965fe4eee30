"""学时 per category, and the setting that picks which categories count toward the target."""
from __future__ import annotations

from datetime import date, datetime

from learning.extensions import db
from learning.meetings.models import OfflineAttendance, OfflineSession
from learning.study.hours import counts_toward_target, hours_by_category, hours_toward_target
from learning.study.operations import credit_course


def test_hours_per_category_and_toward_the_target(app, city, make_course):
    member = city["member"]
    credit_course(member, make_course(category="党史", hours=2), datetime(2026, 4, 1), source="online")
    credit_course(member, make_course(category="职业技能", hours=3), datetime(2026, 4, 2), source="online")
    credit_course(member, make_course(category="党史", hours=5), datetime(2025, 4, 2), source="online")
    session = OfflineSession(org_id=member.home_org_id, title="集中学习", kind="集中学习", held_on=date(2026, 7, 1),
                             hours=4, category="理论学习")
    db.session.add(session)
    db.session.flush()
    db.session.add(OfflineAttendance(session_id=session.id, member_id=member.id, org_id=member.home_org_id,
                                     year=2026, hours=4, category="理论学习"))
    db.session.commit()
    assert hours_by_category(member.id, 2026) == {"党史": 2, "理论学习": 4, "职业技能": 3}
    assert hours_toward_target(member.id, 2026) == 9  # empty setting: every category counts
    app.config["TARGET_CATEGORIES"] = ["理论学习", "党史"]
    assert counts_toward_target("党史") and not counts_toward_target("职业技能")
    assert hours_toward_target(member.id, 2026) == 6
