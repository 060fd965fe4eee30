"""The Recommender: estimator contract, known answers, cold start, new courses, dismissals."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from recommender import FORMAT_VERSION, ModelFormatError, Profile, Recommendation, Recommender, read_header
from recommender import persistence

COURIER_SAFETY = "c0000"      # 快递安全与禁寄物品, the generator's known answer for couriers


# ------------------------------------------------------------------ estimator contract
def test_get_params_and_clone_keep_hyper_parameters():
    model = Recommender(n_negatives=7, parts=("collaborative", "content"), random_state=3)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert copy.get_params()["n_negatives"] == 7
    assert copy.set_params(recency_half_life=2.0).recency_half_life == 2.0


def test_fit_returns_self_and_learned_attributes_end_in_underscore(academy):
    model = Recommender(random_state=0, max_train_examples=500)
    assert model.fit(academy.interactions, members=academy.members, courses=academy.courses) is model
    assert set(model.course_ids_) == set(academy.courses["course_id"])
    assert model.summary_["completions"] == len(academy.interactions)


def test_unfitted_model_says_so():
    model = Recommender()
    with pytest.raises(NotFittedError):
        model.score(Profile(age=30, occupation="快递员"), ["c0000"])
    with pytest.raises(NotFittedError):
        model.recommend(Profile())


def test_same_random_state_gives_the_same_model(academy):
    fit = lambda: Recommender(random_state=5, max_train_examples=800).fit(  # noqa: E731
        academy.interactions, members=academy.members, courses=academy.courses)
    a, b = fit(), fit()
    profile = Profile(age=41, occupation="货车司机", history=["c0003", "c0010"])
    assert np.array_equal(a.score(profile, a.course_ids_), b.score(profile, b.course_ids_))


def test_save_load_round_trip_keeps_scores(model, tmp_path):
    path = tmp_path / "models" / "model.bin"
    model.save(path, metadata={"HR@10": 0.5})
    loaded = Recommender.load(path)
    profile = Profile(age=28, occupation="外卖骑手", history=["c0001", "c0002"])
    assert np.array_equal(loaded.score(profile, model.course_ids_), model.score(profile, model.course_ids_))
    header = read_header(path)
    assert header["format_version"] == FORMAT_VERSION
    assert header["metadata"] == {"HR@10": 0.5}
    assert header["summary"]["courses"] == len(model.course_ids_)


def test_a_model_file_of_another_version_is_refused_clearly(model, tmp_path, monkeypatch):
    path = tmp_path / "old.bin"
    monkeypatch.setattr(persistence, "FORMAT_VERSION", FORMAT_VERSION + 1)
    model.save(path)
    monkeypatch.undo()
    with pytest.raises(ModelFormatError, match=f"version {FORMAT_VERSION + 1}.*reads version {FORMAT_VERSION}"):
        Recommender.load(path)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelFormatError, match="not a Hongfan recommender model"):
        Recommender.load(junk)


def test_unknown_ids_are_handled(model):
    known = Profile(age=30, occupation="快递员", history=["c0005"])
    noisy = Profile(age=30, occupation="快递员", history=["no-such-course", "c0005", ("a", 1), 12345])
    ids = model.course_ids_
    assert np.array_equal(model.score(known, ids), model.score(noisy, ids))
    scores = model.score(known, ["c0001", "never-seen", "c0002"])
    assert scores.shape == (3,) and np.isfinite(scores).all()
    # an occupation and an age the model never saw still get recommendations
    recs = model.recommend(Profile(age=None, occupation="无人机飞手"), k=5)
    assert len(recs) == 5 and all(isinstance(r, Recommendation) for r in recs)
    assert model.recommend(Profile(age=float("nan"), occupation=None), k=3)
    # histories may come as numpy arrays or pandas Series straight from a query
    as_array = Profile(age=30, occupation="快递员", history=np.array(["c0005"]), dismissed=pd.Series(["c0001"]))
    assert as_array.history == ("c0005",) and as_array.dismissed == ("c0001",)


def test_fit_accepts_any_hashable_ids_and_timestamp_kinds(academy):
    small = academy.interactions.head(6_000)
    members = academy.members
    as_ints = small.assign(timestamp=(small["timestamp"] - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1))
    assert as_ints["timestamp"].iloc[-1] > 1.7e9         # really seconds since 1970
    as_tz = small.assign(timestamp=small["timestamp"].dt.tz_localize("Asia/Shanghai"))
    kwargs = dict(random_state=1, max_train_examples=300)
    a = Recommender(**kwargs).fit(small, members=members, courses=academy.courses)
    b = Recommender(**kwargs).fit(as_ints, members=members, courses=academy.courses)
    c = Recommender(**kwargs).fit(as_tz, members=members, courses=academy.courses)
    profile = Profile(age=33, occupation="快递员", history=["c0004"])
    assert np.allclose(a.score(profile, a.course_ids_), b.score(profile, b.course_ids_))
    assert np.allclose(a.score(profile, a.course_ids_), c.score(profile, c.course_ids_))
    # tuple member ids, integer course ids, no catalogue at all
    odd = pd.DataFrame({
        "member_id": [("branch", int(m)) for m in small["member_id"]],
        "course_id": [int(c[1:]) for c in small["course_id"]],
        "timestamp": small["timestamp"],
    })
    m = Recommender(**kwargs).fit(odd, members=None, courses=None)
    recs = m.recommend(Profile(history=[4, 10]), k=5)
    assert len(recs) == 5 and all(isinstance(r.course_id, int) for r in recs)


def test_bad_input_gets_a_clear_error(academy):
    with pytest.raises(ValueError, match="missing column"):
        Recommender().fit(academy.interactions.drop(columns="timestamp"))
    with pytest.raises(ValueError, match="empty"):
        Recommender().fit(academy.interactions.head(0))
    with pytest.raises(ValueError, match="unknown parts"):
        Recommender(parts=("magic",)).fit(academy.interactions)


def test_degenerate_data_gets_a_clear_error_and_no_warning():
    # two members who took the whole two-course catalogue: no negative to learn from
    everything = pd.DataFrame({"member_id": [1, 1, 2, 2], "course_id": ["a", "b", "a", "b"],
                               "timestamp": [1, 2, 3, 4]})
    with pytest.raises(ValueError, match="too little data"):
        Recommender(random_state=0).fit(everything)


def test_one_completion_per_member_fits_without_numpy_warnings():
    """Degenerate but real data (a pilot where everyone has finished exactly one course): only
    cold-start examples exist; fitting must neither warn ("Mean of empty slice") nor fail."""
    import warnings

    one_each = pd.DataFrame({"member_id": range(60), "course_id": [f"c{i % 6}" for i in range(60)],
                             "timestamp": range(60)})
    members = pd.DataFrame({"member_id": range(60), "age": [20 + i % 30 for i in range(60)],
                            "occupation": ["骑手" if i % 2 else "司机" for i in range(60)]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Recommender(random_state=0).fit(one_each.head(7), members=members)      # seven members
    for params in ({}, {"combiner": "gbm"}, {"combiner": "logistic"}, {"max_train_examples": 10}):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            model = Recommender(random_state=0, **params).fit(one_each, members=members)
            recs = model.recommend(Profile(age=30, occupation="骑手", history=["c1"]), k=3)
        assert list(model.combiner_) == ["cold"] and len(recs) == 3 and "c1" not in [r.course_id for r in recs]
        # riders took the odd courses: c1, c3, c5
        cold = model.recommend(Profile(age=30, occupation="骑手"), k=3)
        assert {r.course_id for r in cold} == {"c1", "c3", "c5"}


def test_a_small_academy_trains_on_several_rounds_and_chooses_its_combiner(academy):
    small = academy.interactions[academy.interactions["member_id"] <= 300]
    model = Recommender(random_state=0).fit(small, members=academy.members, courses=academy.courses)
    summary = model.summary_
    # a few hundred members: several rounds, more examples than members
    assert summary["training_rounds"] > 1 and summary["training_examples"] > 2 * small["member_id"].nunique()
    for regime in ("cold", "warm"):
        choice = summary["combiners"][regime]
        assert choice["combiner"] in ("logistic", "gbm")
        assert set(choice["validation_auc"]) == {"logistic", "gbm"}
    # a fixed combiner is used as given, and a large academy needs one round
    fixed = Recommender(random_state=0, combiner="logistic", max_train_examples=200).fit(
        academy.interactions, members=academy.members, courses=academy.courses)
    assert fixed.summary_["training_rounds"] == 1
    assert {c["combiner"] for c in fixed.summary_["combiners"].values()} == {"logistic"}


# ------------------------------------------------------------------ answers a user would notice
def test_couriers_get_courier_safety_first(model, titles):
    cold = model.recommend(Profile(age=31, occupation="快递员"), k=5)
    assert cold[0].course_id == COURIER_SAFETY
    assert titles[COURIER_SAFETY] == "快递安全与禁寄物品"
    assert cold[0].reason == "与你职业相同的党员常学"
    # also for a courier with some (theory) history who has not taken it yet
    warm = model.recommend(Profile(age=45, occupation="快递员", history=["c0001", "c0002"]), k=5)
    safety = [r for r in warm if r.course_id == COURIER_SAFETY]
    assert safety and safety[0].reason == "与你职业相同的党员常学"
    # but not for a livestream host, for whom it is not written
    host = model.recommend(Profile(age=26, occupation="主播"), k=10)
    assert COURIER_SAFETY not in [r.course_id for r in host]


@pytest.mark.parametrize("occupation, age", [("外卖骑手", 27), ("货车司机", 46), ("主播", 24), ("网约车司机", 38)])
def test_cold_start_recommends_courses_for_the_members_occupation(model, audience, occupation, age):
    recs = model.recommend(Profile(age=age, occupation=occupation), k=10)
    targeted = [audience[r.course_id] for r in recs if audience[r.course_id]]
    # courses written for a specific audience: nearly all for this occupation
    assert targeted, "expected some occupation-specific courses"
    assert sum(occupation in a for a in targeted) >= len(targeted) - 1
    assert all(r.reason for r in recs)


def test_history_is_folded_in_without_retraining(model, academy, titles):
    courses = academy.courses
    series = courses[courses["part"] == 2].iloc[0]
    first = series["prerequisites"][0]
    occupation = next(iter(series["audience"]), "其他")
    profile = Profile(age=35, occupation=occupation, history=[first])
    recs = model.recommend(profile, k=5)
    ids = [r.course_id for r in recs]
    assert series["course_id"] in ids[:3]
    rec = recs[ids.index(series["course_id"])]
    assert rec.reason == f"因为你学完了《{titles[first]}》"
    assert rec.why.text("en") == f"Because you completed “{titles[first]}”"
    assert first not in ids                      # completed courses are not recommended again


def test_a_new_course_reaches_suitable_members_before_anyone_takes_it(academy):
    new = pd.DataFrame([{
        "course_id": "c-new", "title": "外卖骑手夜间配送安全", "category": "安全", "hours": 1.0,
        "summary": "面向外卖骑手的安全课程：夜间骑行、恶劣天气配送和电动自行车安全。",
        "audience": ("外卖骑手",), "tags": ("安全", "骑手交通安全", "外卖骑手"),
    }])
    courses = pd.concat([academy.courses, new], ignore_index=True)
    model = Recommender(random_state=0).fit(academy.interactions, members=academy.members, courses=courses)
    assert model.signals_.item_count[model.catalogue_.ids.encode(["c-new"])[0]] == 0
    ids = model.course_ids_
    new_courses = [c for c in ids if c == "c-new"]
    rider = model.score(Profile(age=27, occupation="外卖骑手"), ids)
    host = model.score(Profile(age=27, occupation="主播"), ids)
    rank = lambda scores: int((scores > scores[ids.index("c-new")]).sum())  # noqa: E731
    assert rank(rider) < rank(host)
    assert rank(rider) < len(ids) // 4        # in the riders' top quarter of the catalogue
    assert new_courses == ["c-new"]


def test_dismissed_courses_never_come_back_and_similar_ones_drop(model, academy):
    base = Profile(age=31, occupation="快递员")
    first = model.recommend(base, k=5)
    gone = first[0].course_id
    dismissed = Profile(age=31, occupation="快递员", dismissed=[gone])
    after = model.recommend(dismissed, k=len(model.course_ids_))
    assert gone not in [r.course_id for r in after]
    ids = model.course_ids_
    before_scores, after_scores = model.score(base, ids), model.score(dismissed, ids)
    assert after_scores[ids.index(gone)] == -np.inf
    # the course most similar in text to the dismissed one lost more than an unrelated course
    sim = model.content_.similarity[ids.index(gone)].copy()
    sim[ids.index(gone)] = np.nan
    similar, unrelated = int(np.nanargmax(sim)), int(np.nanargmin(sim))
    drop = before_scores - after_scores
    assert drop[similar] > drop[unrelated]


def test_dismissals_in_training_teach_the_combiner(academy):
    # members who dismissed a course rarely complete its near-duplicates: the model learns it
    dismissals = academy.interactions.groupby("member_id").head(1)[["member_id", "course_id"]].copy()
    rng = np.random.default_rng(0)
    dismissals["course_id"] = rng.choice(academy.courses["course_id"], len(dismissals))
    model = Recommender(random_state=0, max_train_examples=1_000).fit(
        academy.interactions, members=academy.members, courses=academy.courses, dismissals=dismissals)
    assert "dismiss_sim" in model.features_
    assert model.summary_["dismissals"] == len(dismissals)
    recs = model.recommend(Profile(age=30, occupation="快递员", dismissed=["c0000"]), k=10)
    assert "c0000" not in [r.course_id for r in recs]


def test_exclude_and_k(model):
    profile = Profile(age=40, occupation="网约车司机")
    top = [r.course_id for r in model.recommend(profile, k=4)]
    again = [r.course_id for r in model.recommend(profile, k=4, exclude=top[:2])]
    assert not set(top[:2]) & set(again)
    assert model.recommend(profile, k=0) == []
    scores = [r.score for r in model.recommend(profile, k=10)]
    assert scores == sorted(scores, reverse=True)


def test_every_part_can_be_switched_off(academy):
    for parts in [("collaborative",), ("sequential",), ("demographic",), ("content",)]:
        model = Recommender(parts=parts, random_state=0, max_train_examples=400).fit(
            academy.interactions, members=academy.members, courses=academy.courses)
        assert len(model.recommend(Profile(age=30, occupation="快递员", history=["c0003"]), k=3)) == 3
