"""The development-data generator produces what its docstring promises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.synthetic import CATEGORIES, OCCUPATIONS, generate_academy, generate_movielens_like


def test_shapes_and_columns(academy):
    assert list(academy.interactions.columns) == ["member_id", "course_id", "timestamp"]
    assert {"member_id", "age", "occupation", "branch_id"} <= set(academy.members.columns)
    assert {"course_id", "title", "summary", "category", "hours", "audience", "prerequisites"} <= set(
        academy.courses.columns)
    assert len(academy.members) == 2_000 and len(academy.courses) == 150
    assert 0.95 * 30_000 <= len(academy.interactions) <= 30_000
    assert set(academy.members["occupation"]) <= set(OCCUPATIONS)
    assert set(academy.courses["category"]) == set(CATEGORIES)
    assert academy.members["age"].between(18, 65).all()


def test_one_completion_per_member_and_course_within_the_year(academy):
    inter = academy.interactions
    assert not inter.duplicated(["member_id", "course_id"]).any()
    assert inter["timestamp"].dt.year.eq(2024).all()
    assert inter["timestamp"].is_monotonic_increasing


def test_prerequisites_are_completed_first(academy):
    inter = academy.interactions
    when = dict(zip(zip(inter["member_id"], inter["course_id"]), inter["timestamp"]))
    checked = 0
    for course, prereqs in zip(academy.courses["course_id"], academy.courses["prerequisites"]):
        for p in prereqs:
            for member in inter.loc[inter["course_id"] == course, "member_id"]:
                assert (member, p) in when and when[(member, p)] < when[(member, course)]
                checked += 1
    assert checked > 0


def test_couriers_take_courier_safety_most_and_drop_outs_stop(academy):
    merged = academy.interactions.merge(academy.members, on="member_id")
    couriers = merged[merged["occupation"] == "快递员"]
    assert couriers["course_id"].value_counts().index[0] == "c0000"
    left = merged[merged["left_on"].notna()]
    assert len(left) and (left["timestamp"] <= left["left_on"]).all()


def test_seasons_and_assignments(academy):
    months = academy.interactions["timestamp"].dt.month.value_counts()
    assert months[6] > months[5] and months[12] > months[9]        # 七一 and the year-end rush
    assert len(academy.assignments) and (academy.assignments["due_on"] > academy.assignments["assigned_on"]).all()
    assert set(academy.assignments["branch_id"]) <= set(academy.branches["branch_id"])


def test_same_seed_same_academy():
    a = generate_academy(200, 30, 2_000, random_state=3)
    b = generate_academy(200, 30, 2_000, random_state=3)
    pd.testing.assert_frame_equal(a.interactions, b.interactions)
    c = generate_academy(200, 30, 2_000, random_state=4)
    assert not a.interactions.equals(c.interactions)


def test_rejects_impossible_sizes():
    with pytest.raises(ValueError):
        generate_academy(0, 30, 10)
    assert np.issubdtype(generate_academy(5, 9, 0).interactions["member_id"].dtype, np.integer)


def test_movielens_like_test_bed():
    interactions, members, courses = generate_movielens_like(200, 150, 4_000, random_state=1)
    assert list(interactions.columns) == ["member_id", "course_id", "timestamp"]
    assert not interactions.duplicated(["member_id", "course_id"]).any()
    assert set(members["age"]) <= {1, 18, 25, 35, 45, 50, 56}
    assert set(interactions["course_id"]) <= set(courses["course_id"])
    assert courses["title"].str.contains(r"\(\d{4}\)").all()
