"""The academy's data as the plain DataFrames the recommender takes (DESIGN §5)."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select

from learning.catalog.models import Course, CourseStatus
from learning.extensions import db
from learning.orgs.models import Member
from learning.study.models import CourseCompletion


@dataclass(frozen=True)
class TrainingData:
    interactions: pd.DataFrame  # member_id, course_id, timestamp
    members: pd.DataFrame  # member_id, age, occupation
    courses: pd.DataFrame  # course_id, title, summary, category, hours, tags, audience

    def summary(self) -> dict[str, int]:
        return {"completions": len(self.interactions), "members": len(self.members),
                "courses": len(self.courses),
                "members_with_history": int(self.interactions["member_id"].nunique())}


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
    members = pd.DataFrame(
        [(m.id, year - m.birth_year if m.birth_year else None, m.occupation)
         for m in db.session.execute(select(Member.id, Member.birth_year, Member.occupation)
                                     .where(Member.active.is_(True)))],
        columns=["member_id", "age", "occupation"],
    )
    courses = pd.DataFrame(
        [(c.slug, c.title, c.summary, c.category, c.hours, " ".join(c.tags or []), list(c.audience or []))
         for c in db.session.scalars(select(Course).where(Course.status == CourseStatus.PUBLISHED))],
        columns=["course_id", "title", "summary", "category", "hours", "tags", "audience"],
    )
    return TrainingData(interactions=interactions, members=members, courses=courses)
