"""Recommender benchmark: fit time and peak memory, scoring and plan latency, next to EASE and
popularity measured in the same run on the same data (DESIGN §8, issue 5 item 6).

    python bench/bench_recommender.py            # 100,000 members × 2,000 courses × 2,000,000 completions
    python bench/bench_recommender.py --small    # 10,000 × 500 × 200,000, a quick run

Targets (full size, 2 cores): fit ≤ 60 s and ≤ 4 GB peak; score one profile against every course
p95 ≤ 5 ms; build one plan p95 ≤ 20 ms.  Each fit runs in a fresh child process so its peak
resident memory is its own (it includes the input data, which any fit needs to hold).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recommender import Profile, Recommender  # noqa: E402
from recommender.baselines import EASEBaseline, PopularityBaseline  # noqa: E402
from recommender.plan import PlanCatalogue, Requirement, build_plan  # noqa: E402
from recommender.synthetic import generate_academy  # noqa: E402

TARGETS = {"fit_s": 60.0, "fit_peak_gb": 4.0, "score_p95_ms": 5.0, "plan_p95_ms": 20.0}


MODELS = {
    "hongfan": lambda seed: Recommender(random_state=seed),
    "EASE": lambda seed: EASEBaseline(),
    "popularity": lambda seed: PopularityBaseline(),
}


def _fit_in_child(name, sizes, seed, queue):
    # The child makes its own copy of the data (same seed, same data) rather than inheriting it
    # through fork: forking a process that has used OpenMP can deadlock.
    academy = generate_academy(*sizes, random_state=seed)
    started = time.perf_counter()
    MODELS[name](seed).fit(academy.interactions, members=academy.members, courses=academy.courses)
    seconds = time.perf_counter() - started
    queue.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))


def measure_fit(name, sizes, seed) -> tuple[float, float]:
    """(seconds, peak resident bytes incl. the data) of one fit in a fresh process."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_fit_in_child, args=(name, sizes, seed, queue))
    child.start()
    result = queue.get()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"{name}: fit failed in child (exit {child.exitcode})")
    return result


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.asarray(samples) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99))}


def timed(fn, args_list) -> list[float]:
    fn(*args_list[0])                                    # warm caches once
    out = []
    for args in args_list:
        started = time.perf_counter()
        fn(*args)
        out.append(time.perf_counter() - started)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="10,000 × 500 × 200,000 (quick)")
    parser.add_argument("--members", type=int)
    parser.add_argument("--courses", type=int)
    parser.add_argument("--completions", type=int)
    parser.add_argument("--profiles", type=int, default=500, help="profiles timed for score/plan")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n_m, n_c, n_i = (10_000, 500, 200_000) if args.small else (100_000, 2_000, 2_000_000)
    n_m, n_c, n_i = args.members or n_m, args.courses or n_c, args.completions or n_i

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    started = time.perf_counter()
    academy = generate_academy(n_m, n_c, n_i, random_state=args.seed)
    print(f"data: {len(academy.members):,} members × {len(academy.courses):,} courses × "
          f"{len(academy.interactions):,} completions (generated in {time.perf_counter() - started:.1f} s)")

    fits = {name: measure_fit(name, (n_m, n_c, n_i), args.seed) for name in MODELS}

    # latency: fit once more here, then score real members' profiles
    fitted = {name: factory(args.seed).fit(academy.interactions, members=academy.members,
                                           courses=academy.courses)
              for name, factory in MODELS.items()}
    rng = np.random.default_rng(args.seed)
    inter = academy.interactions.sort_values("timestamp", kind="stable")
    history = inter.groupby("member_id", sort=False)["course_id"].agg(list)
    members = academy.members.set_index("member_id")
    picked = rng.choice(history.index.to_numpy(), min(args.profiles, len(history)), replace=False)
    profiles = [Profile(age=float(members.at[m, "age"]), occupation=members.at[m, "occupation"],
                        history=history[m], attributes={"branch_id": members.at[m, "branch_id"]})
                for m in picked]
    all_ids = fitted["hongfan"].course_ids_
    score = {name: percentiles(timed(model.score, [(p, all_ids) for p in profiles]))
             for name, model in fitted.items()}
    hongfan = fitted["hongfan"]
    recommend = percentiles(timed(hongfan.recommend, [(p, 50) for p in profiles]))

    catalogue = PlanCatalogue.from_frame(academy.courses)
    today = dt.date(2024, 9, 2)
    assignments = academy.assignments.groupby("branch_id")
    def plan_inputs(p):
        required = []
        branch = p.attributes["branch_id"]
        if branch in assignments.groups:
            for row in assignments.get_group(branch).itertuples():
                required.append(Requirement(row.course_id, row.due_on.date() if hasattr(row.due_on, "date") else row.due_on))
        return required
    recs = [hongfan.recommend(p, k=50) for p in profiles]
    required = [plan_inputs(p) for p in profiles]
    plan_args = [(r, catalogue, 12.0, today, req, p.history) for r, req, p in zip(recs, required, profiles)]

    def plan_only(r, cat, gap, day, req, done):
        return build_plan(r, cat, hours_gap=gap, today=day, required=req, completed=done)

    def recommend_and_plan(p, req):
        return build_plan(hongfan.recommend(p, k=50), catalogue, hours_gap=12.0, today=today,
                          required=req, completed=p.history)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.bin"
        started = time.perf_counter()
        hongfan.save(path)
        saved_s = time.perf_counter() - started
        started = time.perf_counter()
        Recommender.load(path)
        loaded_s = time.perf_counter() - started
        model_mb = path.stat().st_size / 1e6

    plan = percentiles(timed(plan_only, plan_args))
    plan_total = percentiles(timed(recommend_and_plan, list(zip(profiles, required))))

    def mark(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print()
    print(f"{'model':<12}{'fit s':>9}{'peak GB':>10}{'score p50 ms':>15}{'p95 ms':>9}{'p99 ms':>9}")
    for name in MODELS:
        seconds, peak = fits[name]
        s = score[name]
        print(f"{name:<12}{seconds:>9.2f}{peak / 1e9:>10.2f}{s['p50']:>15.3f}{s['p95']:>9.3f}{s['p99']:>9.3f}")
    print()
    print(f"hongfan recommend(k=50):      p50 {recommend['p50']:.3f} ms  p95 {recommend['p95']:.3f} ms")
    print(f"build_plan (from 50 recs):    p50 {plan['p50']:.3f} ms  p95 {plan['p95']:.3f} ms")
    print(f"recommend + build_plan:       p50 {plan_total['p50']:.3f} ms  p95 {plan_total['p95']:.3f} ms")
    print(f"model file: {model_mb:.0f} MB, save {saved_s:.2f} s, load {loaded_s:.2f} s")
    print()
    seconds, peak = fits["hongfan"]
    full = (n_m, n_c, n_i) == (100_000, 2_000, 2_000_000)
    print("targets" + ("" if full else " (apply to the full size; this run is smaller)") + ":")
    print(f"  fit ≤ {TARGETS['fit_s']:.0f} s: {seconds:.1f} s {mark(seconds <= TARGETS['fit_s'])}")
    print(f"  fit peak ≤ {TARGETS['fit_peak_gb']:.0f} GB: {peak / 1e9:.2f} GB {mark(peak / 1e9 <= TARGETS['fit_peak_gb'])}")
    print(f"  score p95 ≤ {TARGETS['score_p95_ms']:.0f} ms: {score['hongfan']['p95']:.2f} ms "
          f"{mark(score['hongfan']['p95'] <= TARGETS['score_p95_ms'])}")
    print(f"  plan p95 ≤ {TARGETS['plan_p95_ms']:.0f} ms: {plan_total['p95']:.2f} ms (recommend + plan) "
          f"{mark(plan_total['p95'] <= TARGETS['plan_p95_ms'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
