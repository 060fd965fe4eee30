"""Offline evaluation: splits, metrics and a runner that puts the model next to baselines.

Everything is a plain function of DataFrames.  Metrics treat tied scores honestly: a positive
tied with negatives gets its *expected* rank under random tie-breaking, so a model that gives
everything the same score cannot look good by the luck of the sort order.

Splits
  * ``latest``: each member's latest completion is hidden (leave-latest-out); the member's other
    completions are the history.
  * ``cold_start``: a sample of members is hidden entirely; only age, occupation and the other
    member attributes (e.g. the branch) are known.
  * ``new_course``: every completion of a sample of courses is hidden; those courses still exist in
    the catalogue (text, category, audience).  As in the usual item cold-start protocol the
    candidates are the hidden courses only: which new course suits which member.

On a small academy one 10 % share of members (or courses) is a handful of cases, so
``cold_start`` and ``new_course`` pool disjoint folds until enough members (courses) have been
hidden, or all of them have (``n_folds``); every model sees the same folds.

Metrics per split: HR@10 and NDCG@10 of one hidden course against 99 sampled courses the member had
not taken — on a catalogue too small for 99, against every course the member had not taken, which
the table and the JSON say (``negatives``); recall@20 over the whole catalogue (hits / min(20,
hidden courses)); coverage@10 = share of the catalogue appearing in someone's top 10.  The notes
under the table also say when a small catalogue makes HR@10 or recall@20 the same for any model.

Command line: ``python -m recommender.evaluation --synthetic`` (or ``--movielens-like``, or
``--interactions/--members/--courses`` CSV or Parquet files) prints the table and writes JSON with ``--output``; the app's
``hongfan recommender evaluate`` calls ``evaluate(...)``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .baselines import default_baselines
from .data import to_seconds
from .features import PARTS
from .model import Recommender
from .profile import Profile

SPLITS = ("latest", "cold_start", "new_course")


# ---------------------------------------------------------------- metrics
def hit_rate_at_k(positive: float, negatives: np.ndarray, k: int = 10) -> float:
    """Probability that the positive lands in the top ``k`` of positive + negatives, breaking ties
    at random."""
    negatives = np.asarray(negatives, dtype=float)
    above = int((negatives > positive).sum())
    tied = int((negatives == positive).sum())
    return max(0, min(k, above + tied + 1) - above) / (tied + 1)


def ndcg_at_k(positive: float, negatives: np.ndarray, k: int = 10) -> float:
    """Expected NDCG@k of a single relevant item (ideal DCG = 1) under random tie-breaking."""
    negatives = np.asarray(negatives, dtype=float)
    above = int((negatives > positive).sum())
    tied = int((negatives == positive).sum())
    ranks = np.arange(above, above + tied + 1)
    return float(np.where(ranks < k, 1.0 / np.log2(ranks + 2), 0.0).mean())


def recall_at_k(scores: np.ndarray, relevant: np.ndarray, k: int = 20) -> float:
    """Expected share of the relevant items in the top ``k`` of ``scores`` (boolean ``relevant``),
    normalised by min(k, number relevant) so a perfect ranking scores 1."""
    scores = np.asarray(scores, dtype=float)
    relevant = np.asarray(relevant, dtype=bool)
    n_rel = int(relevant.sum())
    if n_rel == 0:
        return float("nan")
    if scores.size <= k:
        return n_rel / min(k, n_rel)
    threshold = np.partition(scores, scores.size - k)[scores.size - k]
    above = scores > threshold
    tied = scores == threshold
    slots = k - int(above.sum())
    hits = float((relevant & above).sum()) + float((relevant & tied).sum()) * slots / int(tied.sum())
    return hits / min(k, n_rel)


def coverage(recommended: Sequence[Sequence], catalogue_size: int) -> float:
    """Share of the catalogue that appears in at least one recommendation list."""
    if catalogue_size == 0:
        return 0.0
    seen = set()
    for items in recommended:
        seen.update(items)
    return len(seen) / catalogue_size


# ---------------------------------------------------------------- splits
@dataclass
class Split:
    """``train`` is what a model may fit on; ``test`` maps each test member to the hidden course
    ids; ``history_hidden`` says whether the member's history is withheld at scoring time."""

    name: str
    train: pd.DataFrame
    test: dict
    history_hidden: bool = False
    candidates: list | None = None      # None = the whole catalogue


def _sorted(interactions: pd.DataFrame) -> pd.DataFrame:
    order = np.lexsort((np.arange(len(interactions)), to_seconds(interactions["timestamp"]),
                       pd.factorize(interactions["member_id"])[0]))
    return interactions.iloc[order]


def leave_latest_out(interactions: pd.DataFrame) -> Split:
    """Hide each member's latest completion (members with at least two)."""
    df = _sorted(interactions)
    member = df["member_id"].to_numpy(dtype=object)
    last = np.ones(len(df), dtype=bool)
    last[:-1] = member[:-1] != member[1:]
    counts = df.groupby("member_id", sort=False)["course_id"].transform("size").to_numpy()
    test_rows = last & (counts >= 2)
    test = {m: [c] for m, c in zip(member[test_rows], df["course_id"].to_numpy(dtype=object)[test_rows])}
    return Split("latest", df[~test_rows], test)


def cold_start_split(interactions: pd.DataFrame, fraction: float = 0.1, random_state: int = 0,
                     fold: int = 0) -> Split:
    """Hide every completion of a random ``fraction`` of members.  ``fold`` k hides the k-th such
    share of one random order of the members, so folds 0, 1, … are disjoint."""
    rng = np.random.default_rng(random_state)
    members = rng.permutation(pd.unique(interactions["member_id"].to_numpy(dtype=object)))
    size = max(1, int(round(fraction * len(members))))
    hidden = set(members[fold * size:(fold + 1) * size].tolist())
    mask = interactions["member_id"].isin(hidden).to_numpy()
    test = interactions[mask].groupby("member_id", sort=False)["course_id"].agg(list).to_dict()
    return Split("cold_start", interactions[~mask], test, history_hidden=True)


def new_course_split(interactions: pd.DataFrame, fraction: float = 0.1, random_state: int = 0,
                     fold: int = 0) -> Split:
    """Hide every completion of a random ``fraction`` of the courses anyone completed (``fold``
    as in ``cold_start_split``)."""
    rng = np.random.default_rng(random_state)
    courses = rng.permutation(pd.unique(interactions["course_id"].to_numpy(dtype=object)))
    size = max(1, int(round(fraction * len(courses))))
    hidden = set(courses[fold * size:(fold + 1) * size].tolist())
    mask = interactions["course_id"].isin(hidden).to_numpy()
    test = interactions[mask].groupby("member_id", sort=False)["course_id"].agg(list).to_dict()
    return Split("new_course", interactions[~mask], test, candidates=sorted(hidden, key=str))


def n_folds(name: str, interactions: pd.DataFrame, fraction: float = 0.1, min_members: int = 2_000,
            min_courses: int = 20) -> int:
    """How many disjoint folds of a split to pool, so that its figures rest on enough cases.

    One fold hides 10 % of the members (``cold_start``) or courses (``new_course``).  On a large
    academy one fold is plenty; on a small one (a pilot, the demo: a few hundred members and a
    16-course library) one fold would be a couple of dozen members or two courses, and its
    figures would be noise.  Folds are added until at least ``min_members`` test members (and,
    for ``new_course``, ``min_courses`` hidden courses) or until everyone (every course) has been
    hidden once.  Every model is fitted and measured on the same folds.  ``latest`` already tests
    every member with two or more completions: one fold."""
    if name == "latest":
        return 1
    column = "member_id" if name == "cold_start" else "course_id"
    n = int(interactions[column].nunique())
    size = max(1, int(round(fraction * n)))
    most = max(1, -(-n // size))
    if name == "cold_start":
        return int(min(most, -(-min_members // size)))
    return int(min(most, -(-min_courses // size)))


def make_split(name: str, interactions: pd.DataFrame, random_state: int = 0, fold: int = 0) -> Split:
    if name == "latest":
        return leave_latest_out(interactions)
    if name == "cold_start":
        return cold_start_split(interactions, random_state=random_state, fold=fold)
    if name == "new_course":
        return new_course_split(interactions, random_state=random_state, fold=fold)
    raise ValueError(f"unknown split {name!r}; choose from {SPLITS}")


# ---------------------------------------------------------------- running models
def evaluate_split(models: Mapping[str, object], split: Split | Sequence[Split], members: pd.DataFrame | None,
                   courses: pd.DataFrame | None, *, n_negatives: int = 99, k: int = 10,
                   recall_k: int = 20, max_test_members: int | None = 2_000,
                   random_state: int = 0, log: Callable[[str], None] | None = None) -> dict:
    """Fit every model on each fold's ``train`` and measure it on the same test members, negatives
    and catalogue; the folds' cases are pooled.  Returns {model name: {metric: value}}.

    Each case ranks the hidden course against ``n_negatives`` courses sampled from those the member
    has not taken (and, on ``new_course``, that are new).  When fewer exist — a small catalogue —
    every such course is a negative; ``negatives`` in each model's figures says how many a case
    had on average, and ``format_table`` prints a note.  A case with no such course at all (a
    member who took every candidate) is left out and counted in ``skipped``."""
    folds = [split] if isinstance(split, Split) else list(split)
    rng = np.random.default_rng(random_state)
    attrs = _member_attributes(members)
    per_model: dict[str, dict[str, list]] = {name: {"hr": [], "ndcg": [], "rec": [], "tops": [], "fit": [], "score": []}
                                             for name in models}
    n_negs, n_candidates, allowed_ids, skipped = [], [], set(), 0
    for fold in folds:
        catalogue = _catalogue_ids(fold, courses)
        position = {c: i for i, c in enumerate(catalogue)}
        history = _histories(fold.train)
        allowed = np.ones(len(catalogue), dtype=bool)
        if fold.candidates is not None:
            allowed[:] = False
            allowed[[position[c] for c in fold.candidates if c in position]] = True
        allowed_ids.update(c for c, ok in zip(catalogue, allowed) if ok)
        test_members = [m for m in fold.test if any(c in position for c in fold.test[m])]
        if max_test_members is not None and len(test_members) > max_test_members:
            pick = rng.choice(len(test_members), max_test_members, replace=False)
            test_members = [test_members[i] for i in np.sort(pick)]

        cases = []
        for m in test_members:
            hist = [] if fold.history_hidden else history.get(m, [])
            targets = [position[c] for c in fold.test[m] if c in position]
            owned = np.zeros(len(catalogue), dtype=bool)
            owned[[position[c] for c in hist if c in position]] = True
            owned[targets] = True
            free = np.flatnonzero(~owned & allowed)
            if free.size == 0:
                skipped += 1          # nothing to rank the course against: no model can differ
                continue
            negs = rng.choice(free, min(n_negatives, free.size), replace=False)
            n_negs.append(negs.size)
            seen = np.zeros(len(catalogue), dtype=bool)
            seen[[position[c] for c in hist if c in position]] = True
            n_candidates.append(int((allowed & ~seen).sum()))
            positive = targets[int(rng.integers(len(targets)))]
            age, occupation, extra = attrs.get(m, (None, None, {}))
            cases.append((Profile(age=age, occupation=occupation, history=hist, attributes=extra), positive, negs,
                          np.array(targets), np.array([position[c] for c in hist if c in position], dtype=int)))

        for name, model in models.items():
            got = per_model[name]
            started = time.perf_counter()
            model.fit(fold.train, members=members, courses=courses)
            got["fit"].append(time.perf_counter() - started)
            started = time.perf_counter()
            for profile, positive, negs, targets, hist_idx in cases:
                scores = np.asarray(model.score(profile, catalogue), dtype=float)
                scores = np.where(np.isnan(scores), -np.inf, scores)
                got["hr"].append(hit_rate_at_k(scores[positive], scores[negs], k))
                got["ndcg"].append(ndcg_at_k(scores[positive], scores[negs], k))
                candidates = np.where(allowed, scores, -np.inf)
                candidates[hist_idx] = -np.inf
                relevant = np.zeros(len(catalogue), dtype=bool)
                relevant[targets] = True
                got["rec"].append(recall_at_k(candidates, relevant, recall_k))
                top = np.argsort(-candidates, kind="stable")[:k]
                # never the excluded courses; ids, so that folds with other catalogues pool
                got["tops"].append([catalogue[i] for i in top[np.isfinite(candidates[top])]])
            got["score"].append(time.perf_counter() - started)

    name_of = folds[0].name if folds else ""
    results = {}
    n_cases = len(n_negs)
    for name, got in per_model.items():
        results[name] = {
            f"HR@{k}": float(np.mean(got["hr"])) if got["hr"] else float("nan"),
            f"NDCG@{k}": float(np.mean(got["ndcg"])) if got["ndcg"] else float("nan"),
            f"recall@{recall_k}": float(np.nanmean(got["rec"])) if got["rec"] else float("nan"),
            f"coverage@{k}": coverage(got["tops"], len(allowed_ids)),
            "members": n_cases,
            "skipped": skipped,
            "folds": len(folds),
            "negatives": round(float(np.mean(n_negs)), 2) if n_negs else 0.0,
            "negatives_min": int(min(n_negs)) if n_negs else 0,
            "negatives_sampled": n_negatives,
            "candidates": round(float(np.mean(n_candidates)), 2) if n_candidates else 0.0,
            "fit_s": round(float(np.sum(got["fit"])), 2),
            "score_ms": round(1000 * float(np.sum(got["score"])) / max(n_cases, 1), 3),
        }
        if log:
            log(f"  {name_of:<11} {name:<28} " + "  ".join(
                f"{key}={value:.4f}" for key, value in results[name].items() if key.startswith(("HR", "NDCG", "recall"))))
    # The first model against each other one on the same cases: the mean difference in NDCG@k
    # with a 95 % paired-bootstrap interval, so that "ahead" can be told from noise.
    names = list(per_model)
    if len(names) > 1 and n_cases:
        first = np.asarray(per_model[names[0]]["ndcg"])
        resample = np.random.default_rng(random_state).integers(0, n_cases, (_BOOTSTRAP, n_cases))
        results[names[0]][f"NDCG@{k} margin"] = {
            other: _margin(first - np.asarray(per_model[other]["ndcg"]), resample) for other in names[1:]}
    return results


_BOOTSTRAP = 1_000


def _margin(diff: np.ndarray, resample: np.ndarray) -> dict[str, float]:
    means = diff[resample].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {"mean": round(float(diff.mean()), 4), "ci95": [round(float(low), 4), round(float(high), 4)]}


def _catalogue_ids(split: Split, courses: pd.DataFrame | None) -> list:
    ids = list(courses["course_id"]) if courses is not None else []
    seen = set(ids)
    for frame_ids in (split.train["course_id"], [c for cs in split.test.values() for c in cs]):
        for c in frame_ids:
            if c not in seen:
                seen.add(c)
                ids.append(c)
    return ids


def _histories(train: pd.DataFrame) -> dict:
    df = _sorted(train)
    return df.groupby("member_id", sort=False)["course_id"].agg(list).to_dict()


def _member_attributes(members: pd.DataFrame | None) -> dict:
    if members is None:
        return {}
    age = members["age"] if "age" in members.columns else pd.Series([None] * len(members))
    occ = members["occupation"] if "occupation" in members.columns else pd.Series([None] * len(members))
    extra_columns = [c for c in members.columns if c not in ("member_id", "age", "occupation")]
    extras = members[extra_columns].to_dict("records") if extra_columns else [{}] * len(members)
    out = {}
    for m, a, o, extra in zip(members["member_id"], age, occ, extras):
        out[m] = (None if pd.isna(a) else float(a), None if _missing(o) else o, extra)
    return out


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def default_models(random_state: int = 0, ablation: bool = True, **params) -> dict[str, object]:
    """The model (with hyper-parameters ``params``), its ablations, and the baselines."""
    models: dict[str, object] = {"hongfan": Recommender(random_state=random_state, **params)}
    if ablation:
        for part in PARTS:
            models[f"hongfan − {part}"] = Recommender(
                parts=tuple(p for p in PARTS if p != part), random_state=random_state, **params)
    models.update(default_baselines())
    return models


def evaluate(interactions: pd.DataFrame, members: pd.DataFrame | None = None,
             courses: pd.DataFrame | None = None, *, output: str | Path | None = None,
             models: Mapping[str, object] | None = None, splits: Sequence[str] = SPLITS,
             ablation: bool = True, max_test_members: int | None = 2_000, random_state: int = 0,
             print_table: bool = True, log: Callable[[str], None] | None = None) -> dict:
    """Run every model on every split; print the table, write JSON to ``output``, return the dict."""
    models = dict(models) if models is not None else default_models(random_state, ablation)
    report = {
        "data": {"members": int(interactions["member_id"].nunique()),
                 "courses": int(len(courses) if courses is not None else interactions["course_id"].nunique()),
                 "completions": int(len(interactions))},
        "splits": {},
    }
    for name in splits:
        folds = [make_split(name, interactions, random_state, fold)
                 for fold in range(n_folds(name, interactions, min_members=max_test_members or 2_000))]
        report["splits"][name] = evaluate_split(models, folds, members, courses,
                                                max_test_members=max_test_members,
                                                random_state=random_state, log=log)
    if print_table:
        print(format_table(report))
    if output is not None:
        Path(output).write_text(json.dumps(report, ensure_ascii=False, indent=2, default=_json_default),
                                encoding="utf-8")
    return report


def _json_default(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    raise TypeError(type(value).__name__)


def format_table(report: dict) -> str:
    """One row per model, one column group per split; the best value of each column is marked *."""
    splits = list(report["splits"])
    if not splits:
        return "(no splits)"
    metrics = [m for m, v in next(iter(report["splits"][splits[0]].values())).items()
               if "@" in m and isinstance(v, (int, float))]
    models = list(report["splits"][splits[0]])
    width = 10
    group = width * len(metrics)
    lines = [f"{'':<26}" + "".join(f"{s:^{group}}" for s in splits),
             f"{'model':<26}" + "".join(f"{_short(m):>{width}}" for _ in splits for m in metrics)]
    lines.append("-" * len(lines[1]))
    best = {}
    for s in splits:
        for m in metrics:
            values = [v[m] for v in report["splits"][s].values() if not math.isnan(v[m])]
            best[(s, m)] = max(values) if values else float("nan")
    for model in models:
        cells = []
        for s in splits:
            for m in metrics:
                value = report["splits"][s][model][m]
                mark = "*" if value == best[(s, m)] else " "
                cells.append(f"{value:>{width - 1}.4f}{mark}")
        lines.append(f"{model:<26}" + "".join(cells))
    d = report.get("data", {})
    lines.append(f"data: {d.get('members')} members, {d.get('courses')} courses, "
                 f"{d.get('completions')} completions; * = best in its column")
    lines.extend(split_notes(report))
    return "\n".join(lines)


def split_notes(report: dict) -> list[str]:
    """What a reader must know to read each split's figures: pooled folds, negatives that are
    every unseen course rather than a sample, metrics that a small catalogue makes trivial."""
    notes = []
    for s, by_model in report["splits"].items():
        first = next(iter(by_model.values()), {})
        if "negatives" not in first:
            continue
        k = next((int(m.split("@")[1]) for m in first if m.startswith("HR@")), 10)
        recall_k = next((int(m.split("@")[1]) for m in first if m.startswith("recall@")), 20)
        parts = [f"{first['members']} test members" + (f" in {first['folds']} folds" if first.get("folds", 1) > 1 else "")
                 + (f" ({first['skipped']} left out: no unseen candidate)" if first.get("skipped") else "")]
        if first["negatives_min"] < first["negatives_sampled"]:
            parts.append(f"fewer than {first['negatives_sampled']} unseen courses: every unseen course is a negative "
                         f"({first['negatives']:.1f} per case on average, at least {first['negatives_min']})")
        else:
            parts.append(f"{first['negatives_sampled']} sampled negatives per case")
        if first["negatives"] < k:
            parts.append(f"HR@{k} is near 1 for any model")
        if first["candidates"] <= recall_k:
            parts.append(f"recall@{recall_k} is 1 for any model (≤ {recall_k} candidates)")
        notes.append(f"{s}: " + "; ".join(parts))
    for s, by_model in report["splits"].items():
        first_name, first = next(iter(by_model.items()), (None, {}))
        margins = next((v for m, v in first.items() if m.endswith(" margin")), None)
        if not margins:
            continue
        metric = next(m for m in first if m.endswith(" margin"))[: -len(" margin")]
        baselines = {m: v for m, v in margins.items() if not m.startswith(first_name)}
        if not baselines:
            continue
        best = max(baselines, key=lambda m: by_model[m][metric])
        margin = baselines[best]
        low, high = margin["ci95"]
        notes.append(f"{s}: {first_name} − best other ({best}): {metric} {margin['mean']:+.4f} "
                     f"(95% paired bootstrap {low:+.4f} … {high:+.4f})")
    return notes


def _short(metric: str) -> str:
    return metric.replace("recall", "R").replace("coverage", "cov")


# ---------------------------------------------------------------- command line
def _read_table(path: str) -> pd.DataFrame:
    return pd.read_parquet(path) if path.endswith((".parquet", ".pq")) else pd.read_csv(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recommender.evaluation",
                                     description="Evaluate the recommender against baselines.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--synthetic", nargs="?", const="20000,500,300000", metavar="M,C,N",
                        help="generate members,courses,completions (default 20000,500,300000)")
    source.add_argument("--movielens-like", nargs="?", const="6000,3000,600000", metavar="U,I,N",
                        help="a differently built MovieLens-1M-shaped test bed (users,items,ratings)")
    source.add_argument("--interactions", help="CSV/Parquet with member_id, course_id, timestamp")
    parser.add_argument("--members", help="CSV/Parquet with member_id, age, occupation")
    parser.add_argument("--courses", help="CSV/Parquet with course_id, title, category, …")
    parser.add_argument("--output", help="write the results as JSON here")
    parser.add_argument("--splits", default=",".join(SPLITS))
    parser.add_argument("--no-ablation", action="store_true")
    parser.add_argument("--max-members", type=int, default=2_000, help="test members per split")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.synthetic:
        from .synthetic import generate_academy
        n_m, n_c, n_i = (int(x) for x in args.synthetic.split(","))
        academy = generate_academy(n_m, n_c, n_i, random_state=args.seed)
        interactions, members, courses = academy.interactions, academy.members, academy.courses
    elif args.movielens_like:
        from .synthetic import generate_movielens_like
        n_u, n_it, n_r = (int(x) for x in args.movielens_like.split(","))
        interactions, members, courses = generate_movielens_like(n_u, n_it, n_r, random_state=args.seed)
    else:
        interactions = _read_table(args.interactions)
        members = _read_table(args.members) if args.members else None
        courses = _read_table(args.courses) if args.courses else None
    evaluate(interactions, members, courses, output=args.output,
             splits=[s for s in args.splits.split(",") if s], ablation=not args.no_ablation,
             max_test_members=args.max_members, random_state=args.seed,
             log=lambda line: print(line, file=sys.stderr, flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
