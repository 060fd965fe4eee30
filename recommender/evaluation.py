"""Offline evaluation: splits, metrics and a runner that puts the model next to baselines.

Everything is a plain function of DataFrames.  Metrics treat tied scores honestly: a positive
tied with negatives gets its *expected* rank under random tie-breaking, so a model that gives
everything the same score cannot look good by the luck of the sort order.

Splits
  * ``latest``: each member's latest completion is hidden (leave-latest-out); the member's other
    completions are the history.
  * ``cold_start``: a sample of members is hidden entirely; only age and occupation are known.
  * ``new_course``: every completion of a sample of courses is hidden; those courses still exist in
    the catalogue (text, category, audience).  As in the usual item cold-start protocol the
    candidates are the hidden courses only: which new course suits which member.

Metrics per split: HR@10 and NDCG@10 of one hidden course against 99 sampled courses the member had
not taken; recall@20 over the whole catalogue (hits / min(20, hidden courses)); coverage@10 = share
of the catalogue appearing in someone's top 10.

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


def cold_start_split(interactions: pd.DataFrame, fraction: float = 0.1, random_state: int = 0) -> Split:
    """Hide every completion of a random ``fraction`` of members."""
    rng = np.random.default_rng(random_state)
    members = pd.unique(interactions["member_id"].to_numpy(dtype=object))
    hidden = set(rng.choice(members, max(1, int(round(fraction * len(members)))), replace=False).tolist())
    mask = interactions["member_id"].isin(hidden).to_numpy()
    test = interactions[mask].groupby("member_id", sort=False)["course_id"].agg(list).to_dict()
    return Split("cold_start", interactions[~mask], test, history_hidden=True)


def new_course_split(interactions: pd.DataFrame, fraction: float = 0.1, random_state: int = 0) -> Split:
    """Hide every completion of a random ``fraction`` of the courses anyone completed."""
    rng = np.random.default_rng(random_state)
    courses = pd.unique(interactions["course_id"].to_numpy(dtype=object))
    hidden = set(rng.choice(courses, max(1, int(round(fraction * len(courses)))), replace=False).tolist())
    mask = interactions["course_id"].isin(hidden).to_numpy()
    test = interactions[mask].groupby("member_id", sort=False)["course_id"].agg(list).to_dict()
    return Split("new_course", interactions[~mask], test, candidates=sorted(hidden, key=str))


def make_split(name: str, interactions: pd.DataFrame, random_state: int = 0) -> Split:
    if name == "latest":
        return leave_latest_out(interactions)
    if name == "cold_start":
        return cold_start_split(interactions, random_state=random_state)
    if name == "new_course":
        return new_course_split(interactions, random_state=random_state)
    raise ValueError(f"unknown split {name!r}; choose from {SPLITS}")


# ---------------------------------------------------------------- running models
def evaluate_split(models: Mapping[str, object], split: Split, members: pd.DataFrame | None,
                   courses: pd.DataFrame | None, *, n_negatives: int = 99, k: int = 10,
                   recall_k: int = 20, max_test_members: int | None = 2_000,
                   random_state: int = 0, log: Callable[[str], None] | None = None) -> dict:
    """Fit every model on ``split.train`` and measure it on the same test members, negatives and
    catalogue.  Returns {model name: {metric: value}}."""
    rng = np.random.default_rng(random_state)
    catalogue = _catalogue_ids(split, courses)
    position = {c: i for i, c in enumerate(catalogue)}
    history = _histories(split.train)
    attrs = _member_attributes(members)
    allowed = np.ones(len(catalogue), dtype=bool)
    if split.candidates is not None:
        allowed[:] = False
        allowed[[position[c] for c in split.candidates if c in position]] = True
    test_members = [m for m in split.test if any(c in position for c in split.test[m])]
    if max_test_members is not None and len(test_members) > max_test_members:
        pick = rng.choice(len(test_members), max_test_members, replace=False)
        test_members = [test_members[i] for i in np.sort(pick)]

    cases = []
    for m in test_members:
        hist = [] if split.history_hidden else history.get(m, [])
        targets = [position[c] for c in split.test[m] if c in position]
        owned = np.zeros(len(catalogue), dtype=bool)
        owned[[position[c] for c in hist if c in position]] = True
        owned[targets] = True
        free = np.flatnonzero(~owned & allowed)
        negs = rng.choice(free, min(n_negatives, free.size), replace=False)
        positive = targets[int(rng.integers(len(targets)))]
        age, occupation, extra = attrs.get(m, (None, None, {}))
        cases.append((Profile(age=age, occupation=occupation, history=hist, attributes=extra), positive, negs,
                      np.array(targets), np.array([position[c] for c in hist if c in position], dtype=int)))

    results = {}
    for name, model in models.items():
        started = time.perf_counter()
        model.fit(split.train, members=members, courses=courses)
        fitted = time.perf_counter() - started
        hr, ndcg, rec, tops = [], [], [], []
        started = time.perf_counter()
        for profile, positive, negs, targets, hist_idx in cases:
            scores = np.asarray(model.score(profile, catalogue), dtype=float)
            scores = np.where(np.isnan(scores), -np.inf, scores)
            hr.append(hit_rate_at_k(scores[positive], scores[negs], k))
            ndcg.append(ndcg_at_k(scores[positive], scores[negs], k))
            candidates = np.where(allowed, scores, -np.inf)
            candidates[hist_idx] = -np.inf
            relevant = np.zeros(len(catalogue), dtype=bool)
            relevant[targets] = True
            rec.append(recall_at_k(candidates, relevant, recall_k))
            top = np.argsort(-candidates, kind="stable")[:k]
            tops.append(top[np.isfinite(candidates[top])].tolist())  # never the excluded courses
        scored = time.perf_counter() - started
        results[name] = {
            f"HR@{k}": float(np.mean(hr)) if hr else float("nan"),
            f"NDCG@{k}": float(np.mean(ndcg)) if ndcg else float("nan"),
            f"recall@{recall_k}": float(np.nanmean(rec)) if rec else float("nan"),
            f"coverage@{k}": coverage(tops, int(allowed.sum())),
            "members": len(cases),
            "fit_s": round(fitted, 2),
            "score_ms": round(1000 * scored / max(len(cases), 1), 3),
        }
        if log:
            log(f"  {split.name:<11} {name:<28} " + "  ".join(
                f"{key}={value:.4f}" for key, value in results[name].items() if key.startswith(("HR", "NDCG", "recall"))))
    return results


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
        split = make_split(name, interactions, random_state)
        report["splits"][name] = evaluate_split(models, split, members, courses,
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
    metrics = [m for m in next(iter(report["splits"][splits[0]].values())) if "@" in m]
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
    return "\n".join(lines)


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
