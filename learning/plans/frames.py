"""The academy's data as the plain DataFrames the recommender takes (DESIGN §5)."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import aliased

from learning.catalog.models import Course, CourseStatus
from learning.extensions import db
from learning.orgs.models import Member, Organization
from learning.plans.models import Dismissal
from learning.plans.queries import org_attributes
from learning.study.models import CourseCompletion


@dataclass(frozen=True)
class TrainingData:
    interactions: pd.DataFrame  # member_id, course_id, timestamp
    members: pd.DataFrame  # member_id, age, occupation, branch, parent_org
    courses: pd.DataFrame  # course_id, title, summary, category, hours, tags, audience
    dismissals: pd.DataFrame  # member_id, course_id (不感兴趣)

    def summary(self) -> dict[str, int]:
        return {"completions": len(self.interactions), "members": len(self.members),
                "courses": len(self.courses),
                "members_with_history": int(self.interactions["member_id"].nunique()),
                "dismissals": len(self.dismissals)}


def training_data(year: int) -> TrainingData:
    """Course ids are slugs (stable across databases and versions); member ids are row ids."""
    interactions = pd.DataFrame(
        db.session.execute(
            select(CourseCompletion.member_id, Course.slug.label("course_id"),
                   CourseCompletion.completed_at.label("timestamp"))
            .join(Course, Course.id == CourseCompletion.course_id)
            .where(CourseCompletion.source == "online")
        ).all(),
        columns=["member_id", "course_id", "timestamp"],
    )
    home, parent = aliased(Organization), aliased(Organization)
    rows = db.session.execute(
        select(Member.id, Member.birth_year, Member.occupation, home.code, parent.code)
        .join(home, home.id == Member.home_org_id).outerjoin(parent, parent.id == home.parent_id)
        .where(Member.active.is_(True))).all()
    members = pd.DataFrame(
        [{"member_id": m, "age": year - born if born else None, "occupation": occupation,
          **org_attributes(branch, above)} for m, born, occupation, branch, above in rows],
        columns=["member_id", "age", "occupation", "branch", "parent_org"],
    )
    courses = pd.DataFrame(
        [(c.slug, c.title, c.summary, c.category, c.hours, " ".join(c.tags or []), list(c.audience or []))
         for c in db.session.scalars(select(Course).where(Course.status == CourseStatus.PUBLISHED))],
        columns=["course_id", "title", "summary", "category", "hours", "tags", "audience"],
    )
    dismissals = pd.DataFrame(
        db.session.execute(select(Dismissal.member_id, Course.slug)
                           .join(Course, Course.id == Dismissal.course_id)).all(),
        columns=["member_id", "course_id"],
    )
    return TrainingData(interactions=interactions, members=members, courses=courses, dismissals=dismissals)
