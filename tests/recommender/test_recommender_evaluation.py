"""Evaluation functions on tiny cases computed by hand, the splits, the baselines and the runner."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from recommender import Profile
from recommender.baselines import EASEBaseline, GroupPopularityBaseline, ItemKNNBaseline, PopularityBaseline
from recommender.evaluation import (cold_start_split, coverage, evaluate, format_table, hit_rate_at_k,
                                    leave_latest_out, main, n_folds, ndcg_at_k, new_course_split, recall_at_k,
                                    split_notes)
from recommender.synthetic import generate_academy


# ------------------------------------------------------------------ metrics by hand
def test_hit_rate_and_ndcg_without_ties():
    negatives = [0.9, 0.1, 0.2]          # the positive (0.5) is second
    assert hit_rate_at_k(0.5, negatives, k=1) == 0.0
    assert hit_rate_at_k(0.5, negatives, k=2) == 1.0
    assert ndcg_at_k(0.5, negatives, k=2) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(0.5, negatives, k=1) == 0.0
    assert ndcg_at_k(1.0, negatives, k=1) == 1.0


def test_ties_count_at_their_expected_rank():
    # tied with two negatives: ranks 0, 1, 2 equally likely
    assert hit_rate_at_k(1.0, [1.0, 1.0, 0.0], k=1) == pytest.approx(1 / 3)
    assert hit_rate_at_k(1.0, [1.0, 1.0, 0.0], k=2) == pytest.approx(2 / 3)
    assert ndcg_at_k(1.0, [1.0, 1.0, 0.0], k=3) == pytest.approx((1 + 1 / math.log2(3) + 0.5) / 3)
    # a model that scores everything the same is as good as random, not perfect
    assert hit_rate_at_k(0.0, np.zeros(99), k=10) == pytest.approx(0.1)


def test_recall_at_k():
    scores = np.array([3.0, 2.0, 1.0, 0.0])
    assert recall_at_k(scores, np.array([False, True, False, True]), k=2) == 0.5
    assert recall_at_k(scores, np.array([True, True, False, False]), k=2) == 1.0
    # normalised by min(k, relevant): one relevant item found in the top 3 is a perfect score
    assert recall_at_k(scores, np.array([False, False, True, False]), k=3) == 1.0
    # ties at the cut: two tied items for one remaining slot → half a hit expected
    assert recall_at_k(np.array([2.0, 1.0, 1.0, 0.0]), np.array([False, True, False, False]), k=2) == 0.5
    assert math.isnan(recall_at_k(scores, np.zeros(4, dtype=bool), k=2))


def test_coverage():
    assert coverage([["a", "b"], ["b", "c"]], 6) == 0.5
    assert coverage([], 0) == 0.0


# ------------------------------------------------------------------ splits
@pytest.fixture
def tiny():
    return pd.DataFrame({
        "member_id": ["u1", "u1", "u1", "u2", "u2", "u3"],
        "course_id": ["a", "b", "c", "b", "a", "c"],
        "timestamp": [3, 1, 2, 5, 9, 4],
    })


def test_leave_latest_out_hides_each_members_latest_course(tiny):
    split = leave_latest_out(tiny)
    assert split.test == {"u1": ["a"], "u2": ["a"]}                # u3 has one course: train only
    assert len(split.train) == 4
    assert set(zip(split.train["member_id"], split.train["course_id"])) == {
        ("u1", "b"), ("u1", "c"), ("u2", "b"), ("u3", "c")}


def test_cold_start_and_new_course_splits(tiny):
    cold = cold_start_split(tiny, fraction=0.34, random_state=1)
    hidden = set(cold.test)
    assert cold.history_hidden and hidden
    assert not set(cold.train["member_id"]) & hidden
    assert sum(len(v) for v in cold.test.values()) + len(cold.train) == len(tiny)
    new = new_course_split(tiny, fraction=0.34, random_state=1)
    assert new.candidates and not set(new.train["course_id"]) & set(new.candidates)
    assert {c for cs in new.test.values() for c in cs} == set(new.candidates)


# ------------------------------------------------------------------ baselines by hand
@pytest.fixture
def shop():
    rows = [("u1", "a"), ("u1", "b"), ("u2", "a"), ("u2", "b"), ("u3", "a"), ("u3", "c"), ("u4", "d")]
    interactions = pd.DataFrame(rows, columns=["member_id", "course_id"]).assign(timestamp=range(len(rows)))
    members = pd.DataFrame({"member_id": ["u1", "u2", "u3", "u4"], "age": [20, 21, 50, 52],
                            "occupation": ["骑手", "骑手", "司机", "司机"]})
    return interactions, members


def test_popularity_and_group_popularity(shop):
    interactions, members = shop
    pop = PopularityBaseline().fit(interactions, members=members)
    scores = pop.score(Profile(), ["a", "b", "c", "d"])
    assert list(np.argsort(-scores)[:2]) == [0, 1]                  # a (3), then b (2)
    group = GroupPopularityBaseline().fit(interactions, members=members)
    driver = group.score(Profile(age=51, occupation="司机"), ["a", "b", "c", "d"])
    assert driver[1] < min(driver[2], driver[3])                   # drivers of ~50 never took b
    stranger = group.score(Profile(age=30, occupation="教师"), ["a", "b", "c", "d"])
    assert np.argmax(stranger) == 0                                # unseen group → global popularity


def test_item_knn_and_ease_follow_co_occurrence(shop):
    interactions, members = shop
    for model in (ItemKNNBaseline(), EASEBaseline(l2=1.0)):
        model.fit(interactions, members=members)
        scores = model.score(Profile(history=["b"]), ["a", "c", "d"])
        assert scores[0] > scores[1] and scores[0] > scores[2]     # b goes with a
    knn = ItemKNNBaseline().fit(interactions)
    # cosine(b, a) = 2 / sqrt(2 * 3)
    assert knn.similarity_[knn.catalogue_.ids.encode(["b"])[0], knn.catalogue_.ids.encode(["a"])[0]] == \
        pytest.approx(2 / math.sqrt(6), rel=1e-6)


# ------------------------------------------------------------------ runner
def test_evaluate_runs_every_model_on_every_split_and_writes_json(academy, tmp_path):
    out = tmp_path / "eval.json"
    report = evaluate(academy.interactions, academy.members, academy.courses, output=out,
                      ablation=False, max_test_members=300, print_table=False)
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert set(saved["splits"]) == {"latest", "cold_start", "new_course"}
    models = set(saved["splits"]["latest"])
    assert models == {"hongfan", "popularity", "group popularity", "item-kNN", "EASE"}
    latest = report["splits"]["latest"]
    assert latest["hongfan"]["HR@10"] > latest["popularity"]["HR@10"]
    assert latest["hongfan"]["NDCG@10"] > latest["popularity"]["NDCG@10"]
    table = format_table(report)
    assert "hongfan" in table and "HR@10" in table and "new_course" in table
    # coverage counts only courses a list may hold (on new_course: the hidden courses)
    for split in report["splits"].values():
        assert all(0 < metrics["coverage@10"] <= 1 for metrics in split.values())


def test_a_small_catalogue_uses_every_unseen_course_and_says_so():
    """Sixteen courses cannot give 99 negatives: every unseen course is one, the JSON counts
    them, and the table's notes say so and name the metrics a small catalogue makes trivial."""
    small = generate_academy(150, 16, 1_200, random_state=2)
    report = evaluate(small.interactions, small.members, small.courses, ablation=False,
                      splits=["latest", "cold_start", "new_course"], print_table=False)
    latest = report["splits"]["latest"]["hongfan"]
    assert latest["negatives_sampled"] == 99 and latest["negatives_min"] < 16 and latest["negatives"] < 15
    assert latest["candidates"] <= 16
    # cold start pools every fold: each member with a history is tested once
    cold = report["splits"]["cold_start"]["popularity"]
    assert cold["folds"] == 10 and cold["members"] == small.interactions["member_id"].nunique()
    # new courses: folds until every course has been new once; members who took every hidden
    # course have nothing to rank it against and are left out
    new = report["splits"]["new_course"]["EASE"]
    assert new["folds"] == 8 and new["skipped"] >= 0 and new["negatives_min"] >= 1
    notes = "\n".join(split_notes(report))
    assert "every unseen course is a negative" in notes and "10 folds" in notes
    assert "recall@20 is 1 for any model" in notes
    assert "sampled negatives" not in notes
    assert format_table(report).endswith(split_notes(report)[-1])


def test_folds_are_disjoint_and_cover_everyone(tiny):
    hidden = [set(cold_start_split(tiny, fraction=0.34, random_state=1, fold=f).test) for f in range(3)]
    assert set.union(*hidden) == {"u1", "u2", "u3"} and sum(len(h) for h in hidden) == 3
    courses = [set(new_course_split(tiny, fraction=0.34, random_state=1, fold=f).candidates) for f in range(3)]
    assert set.union(*courses) == {"a", "b", "c"}
    assert n_folds("latest", tiny) == 1
    assert n_folds("cold_start", tiny, fraction=0.34) == 3                 # too few members: all folds
    big = pd.DataFrame({"member_id": range(50_000), "course_id": [f"c{i % 900}" for i in range(50_000)],
                        "timestamp": range(50_000)})
    assert n_folds("cold_start", big) == 1 and n_folds("new_course", big) == 1


def test_command_line_on_files(academy, tmp_path, capsys):
    small = academy.interactions.head(4_000)
    small.to_csv(tmp_path / "i.csv", index=False)
    academy.members.drop(columns=["joined_on", "left_on"]).to_csv(tmp_path / "m.csv", index=False)
    assert main(["--interactions", str(tmp_path / "i.csv"), "--members", str(tmp_path / "m.csv"),
                 "--splits", "latest", "--no-ablation", "--max-members", "100",
                 "--output", str(tmp_path / "r.json")]) == 0
    assert "EASE" in capsys.readouterr().out
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["splits"]["latest"]["hongfan"]["members"] == 100
