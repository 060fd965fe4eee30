"""Small generated academies and models fitted on them, shared across the recommender tests
(fitting once per session keeps the suite fast)."""

from __future__ import annotations

import pytest

from recommender import Recommender
from recommender.synthetic import generate_academy


@pytest.fixture(scope="session")
def academy():
    return generate_academy(2_000, 150, 30_000, random_state=7)


@pytest.fixture(scope="session")
def model(academy):
    return Recommender(random_state=0).fit(academy.interactions, members=academy.members,
                                           courses=academy.courses)


@pytest.fixture(scope="session")
def titles(academy):
    return dict(zip(academy.courses["course_id"], academy.courses["title"]))


@pytest.fixture(scope="session")
def audience(academy):
    return dict(zip(academy.courses["course_id"], academy.courses["audience"]))
