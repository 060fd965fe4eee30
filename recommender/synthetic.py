"""Development data: a generator of realistic-looking academies.

This is a *test bed*, not a target: the recommender must not know it exists.  It produces plain
DataFrames with the shapes the recommender contract takes, plus the tables the app and the plan
builder need (branches, assignments).  Everything is vectorised numpy, so
``generate_academy(100_000, 2_000, 2_000_000)`` runs in seconds and the benchmarks can use it.

What the generated academy contains, and why each piece is there:

* **Members** (``members``): occupation drawn from the new-sector mix (骑手 and 快递员 dominate,
  主播 are few); age depends on the occupation (主播 and 骑手 are young, 货车司机 older).  About 12 % of
  members join during the year (short history) and about 12 % drop out (their history stops early).
* **Interests**: each member mixes nine categories (理论学习, 党史, …, 数字技能).  The mix depends on the
  occupation (drivers and riders care about 安全 and 职业技能, 主播 about 数字技能) and on age (older
  members take more 党史 and 理论学习, younger ones more 数字技能), with individual noise.  Age acts
  smoothly (each course's appeal drifts with age in 3-year steps), not through fixed bands.
* **Hidden taste clusters**: every member belongs to one of eight clusters that nothing in the member
  table reveals; each course appeals differently to each cluster.  Only completion histories expose
  this, which is what collaborative filtering is for.
* **Courses** (``courses``): titles, summaries and tags written from topic lists per category and per
  occupation, so the text says who a course is for; ``audience`` lists the occupations a course
  targets (empty = everyone).  Popularity is skewed (log-normal appeal), a course targeted at other
  occupations is rarely taken, some courses are released during the year (new courses get a burst of
  attention after release), and some form series (（一）（二）（三）) where each part requires the previous
  one and members go through them in order, dropping off along the way.
* **Known answer**: course ``c0000`` 《快递安全与禁寄物品》 is the course couriers take most; a good
  recommender puts it first for a courier who has not taken it.
* **Branches and assignments** (``branches``, ``assignments``): branches belong to an industry, most
  members sit in a branch of their own industry, and each branch assigns one to three required courses
  with a due date; most members complete them shortly before the due date.
* **Seasons**: theory and Party-history courses peak in June (七一, the Party's anniversary); everyone
  studies more from mid-November (the year-end rush to reach the 学时 target), and about a quarter of
  members leave most of their study to the end of the year.

``interactions`` has one row per completion (``member_id``, ``course_id``, ``timestamp``), at most one
per member and course, sorted by time.

Two entry points share the same study behaviour:

* ``generate_academy`` makes up everything (members, courses, branches) — the benchmarks and the
  evaluation's ``--synthetic`` use it;
* ``simulate_study`` takes members, courses and branches that already exist and simulates a period
  of their study — ``hongfan demo`` maps it onto the starter library and the demo city.  There a
  course's ``prerequisites`` play the part of series (a course with prerequisites is reached by
  following them), an ``audience`` may name several occupations (the first is the one the course is
  mainly for), seasons fall in whichever years the period touches, and the library's courses vary
  less in appeal than a generated catalogue of thousands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CATEGORIES: tuple[str, ...] = (
    "理论学习", "党史", "党章党规", "政策法规", "职业技能", "安全", "权益保障", "社会治理", "数字技能",
)
# Categories that peak around 七一 (the Party's anniversary on 1 July).
_SEASONAL_THEORY = ("理论学习", "党史", "党章党规")

# occupation: (share of members, mean age, sd of age)
OCCUPATIONS: dict[str, tuple[float, float, float]] = {
    "快递员": (0.22, 33, 7),
    "外卖骑手": (0.28, 30, 6),
    "货车司机": (0.12, 42, 8),
    "网约车司机": (0.14, 38, 8),
    "主播": (0.08, 27, 5),
    "平台企业员工": (0.10, 31, 6),
    "其他": (0.06, 40, 11),
}

# How much each occupation cares about each category (same order as CATEGORIES).
_INTEREST = {
    "快递员":     (1.0, 0.8, 0.6, 0.7, 1.6, 2.2, 1.2, 0.5, 0.5),
    "外卖骑手":   (0.9, 0.7, 0.5, 0.7, 1.5, 2.4, 1.4, 0.6, 0.6),
    "货车司机":   (1.0, 0.9, 0.6, 0.8, 1.4, 2.3, 1.1, 0.4, 0.3),
    "网约车司机": (1.0, 0.9, 0.6, 0.9, 1.4, 1.9, 1.1, 0.6, 0.5),
    "主播":       (0.9, 0.6, 0.5, 1.0, 1.8, 0.8, 0.9, 0.5, 2.2),
    "平台企业员工": (1.3, 0.9, 0.9, 1.2, 1.3, 0.9, 0.9, 0.7, 1.6),
    "其他":       (1.4, 1.3, 1.0, 1.0, 0.6, 0.8, 0.8, 1.2, 0.7),
}
# Age slope per category: positive = older members favour it (multiplied by a standardised age).
_AGE_SLOPE = (0.35, 0.55, 0.25, 0.1, -0.1, 0.0, 0.05, 0.2, -0.55)

_OCCUPATION_TOPICS = {
    "快递员": {
        "安全": ["快递安全与禁寄物品", "收寄验视实务", "危险品识别", "分拣场地安全"],
        "职业技能": ["快件派送规范", "快递柜与驿站服务", "快递客户沟通"],
        "权益保障": ["快递员劳动权益", "快递员工伤保障"],
    },
    "外卖骑手": {
        "安全": ["骑手交通安全", "电动自行车安全", "恶劣天气配送安全"],
        "职业技能": ["外卖配送规范", "食品安全与配送卫生", "外卖顾客服务"],
        "权益保障": ["骑手劳动权益", "骑手职业伤害保障"],
    },
    "货车司机": {
        "安全": ["货车行车安全", "疲劳驾驶防范", "危险货物运输安全"],
        "职业技能": ["货运合规经营", "货车维护保养", "物流平台接单"],
        "权益保障": ["货车司机权益保障"],
    },
    "网约车司机": {
        "安全": ["网约车安全驾驶", "乘客安全保障"],
        "职业技能": ["网约车合规经营", "网约车文明服务"],
        "权益保障": ["网约车司机权益"],
    },
    "主播": {
        "职业技能": ["直播带货合规", "网络直播内容规范", "短视频创作"],
        "数字技能": ["直播数据分析", "直播间运营"],
        "权益保障": ["主播合同与权益"],
    },
    "平台企业员工": {
        "职业技能": ["平台规则与算法治理", "平台客服与调解"],
        "数字技能": ["数据安全与个人信息保护", "网络安全防护"],
        "权益保障": ["新就业形态劳动者权益"],
    },
}
_GENERAL_TOPICS = {
    "理论学习": ["新时代思想学习", "党的二十大精神", "理论热点解读", "中国式现代化", "学思想强党性"],
    "党史": ["中国共产党历史", "伟大建党精神", "长征精神", "红色家书", "改革开放史", "抗美援朝精神"],
    "党章党规": ["党章学习", "党员的义务和权利", "组织生活制度", "廉洁自律准则", "流动党员管理"],
    "政策法规": ["劳动合同法", "社会保险法", "民法典", "新就业形态政策", "安全生产法"],
    "职业技能": ["沟通表达", "时间管理", "急救常识"],
    "安全": ["消防安全", "防范电信诈骗"],
    "权益保障": ["劳动者权益保护", "工伤保险", "劳动争议调解"],
    "社会治理": ["社区网格服务", "志愿服务", "应急处置", "城市文明劝导"],
    "数字技能": ["手机学习技巧", "网络信息辨别", "短视频制作入门", "办公软件"],
}
_ASPECTS = ["入门", "要点", "案例", "实务", "专题", "问答", "进阶", "解读", "实训", "指南"]
_PART_NAMES = ["一", "二", "三", "四"]
_CLUSTERS = 8
_DAY = 86_400
_AGE_STEPS = 16          # 18–65 in 3-year steps


@dataclass(frozen=True)
class Academy:
    """One generated academy; every field is a plain DataFrame."""

    members: pd.DataFrame       # member_id, age, occupation, branch_id, joined_on, left_on
    courses: pd.DataFrame       # course_id, title, summary, category, hours, audience, tags,
                                # released_on, series, part, prerequisites
    branches: pd.DataFrame      # branch_id, name, industry
    assignments: pd.DataFrame   # branch_id, course_id, assigned_on, due_on
    interactions: pd.DataFrame  # member_id, course_id, timestamp


@dataclass(frozen=True)
class Study:
    """A simulated period of study for given members and courses (``simulate_study``)."""

    interactions: pd.DataFrame  # member_id, course_id, timestamp (naive datetimes)
    assignments: pd.DataFrame   # branch_id, course_id, assigned_on, due_on
    windows: pd.DataFrame       # member_id, studies_from, studies_until, joined, dropped_out


def generate_academy(
    n_members: int = 2_000,
    n_courses: int = 200,
    n_completions: int = 40_000,
    *,
    year: int = 2024,
    random_state: int | None = 0,
) -> Academy:
    """Generate an academy of ``n_members`` members, ``n_courses`` courses and (about, never more
    than) ``n_completions`` completions during ``year``.  Same ``random_state`` → same academy."""
    if n_members < 1 or n_courses < len(CATEGORIES) or n_completions < 0:
        raise ValueError(f"need n_members >= 1 and n_courses >= {len(CATEGORIES)}")
    rng = np.random.default_rng(random_state)
    start = np.datetime64(f"{year}-01-01T00:00:00", "s").astype(np.int64)
    end = np.datetime64(f"{year}-12-31T23:59:59", "s").astype(np.int64)

    courses, course_cat, course_occ, quality = _make_courses(n_courses, year, start, end, rng)
    members, occ_idx, m_start, m_end = _make_members(n_members, year, start, end, rng)
    branches, branch_of, branch_industry = _make_branches(occ_idx, rng)
    members["branch_id"] = branches["branch_id"].to_numpy()[branch_of]
    occ_names = list(OCCUPATIONS)
    aud = np.ones((len(occ_names), n_courses))
    targeted = course_occ >= 0
    aud[:, targeted] = 0.02
    aud[course_occ[targeted], np.flatnonzero(targeted)] = 7.0
    all_m, all_c, all_t, assignments = _simulate(
        rng, occ_names=occ_names, occ_idx=occ_idx, age=members["age"].to_numpy(dtype=float),
        cat_names=list(CATEGORIES), course_cat=course_cat, aud=aud, quality=quality,
        prerequisites=[[int(p[1:]) for p in pre] for pre in courses["prerequisites"]],
        released=courses["released_on"].to_numpy(dtype="datetime64[s]").astype(np.int64),
        m_start=m_start, m_end=m_end, branch_of=branch_of, branch_industry=branch_industry,
        start=start, end=end, n_completions=n_completions)
    assignments.insert(0, "branch_id", branches["branch_id"].to_numpy()[assignments.pop("branch")])
    assignments.insert(1, "course_id", courses["course_id"].to_numpy(dtype=object)[assignments.pop("course")])
    order = np.argsort(all_t, kind="stable")
    interactions = pd.DataFrame({
        "member_id": members["member_id"].to_numpy()[all_m[order]],
        "course_id": courses["course_id"].to_numpy(dtype=object)[all_c[order]],
        "timestamp": all_t[order].astype("datetime64[s]"),
    })
    return Academy(members=members, courses=courses, branches=branches,
                   assignments=assignments, interactions=interactions)


def simulate_study(
    members: pd.DataFrame,
    courses: pd.DataFrame,
    branches: pd.DataFrame | None = None,
    *,
    n_completions: int,
    start,
    end,
    random_state: int | None = 0,
) -> Study:
    """The same study behaviour as ``generate_academy`` for members and courses that already exist
    (the demo academy maps it onto the starter courses and its organization).

    members: DataFrame[member_id, age, occupation] and optionally ``branch_id``.  Occupations
        outside ``OCCUPATIONS`` study like "其他"; a missing age counts as 38.
    courses: DataFrame[course_id, category] and optionally ``audience`` (occupations, the main one
        first; empty = all),
        ``prerequisites`` (course ids; a course with prerequisites is reached by following them, as
        a series is), ``released_on`` and ``quality`` (how appealing; when absent drawn
        log-normal with σ = 0.5, a curated library's spread).
    branches: DataFrame[branch_id, industry] (industry: the occupation a branch's members mostly
        have, or None); each branch assigns one to three courses with a due date.
    start, end: the period (anything ``numpy.datetime64`` reads), naive local time.
    ``n_completions``: about (never more than) this many completions.  Same seed → same study.
    Returns the completions, the branches' assignments and each member's study window (about 12 %
    join during the period and about 12 % drop out).
    """
    rng = np.random.default_rng(random_state)
    start = np.datetime64(start, "s").astype(np.int64)
    end = np.datetime64(end, "s").astype(np.int64)
    if end <= start + 60 * _DAY:
        raise ValueError("the period must last more than 60 days")
    n_members, n_courses = len(members), len(courses)
    if n_members == 0 or n_courses == 0:
        raise ValueError("need members and courses")
    occ = [o if isinstance(o, str) else "其他" for o in members["occupation"]]
    occ_names = list(dict.fromkeys([*[o for o in OCCUPATIONS if o in set(occ)], *occ]))
    occ_idx = np.array([occ_names.index(o) for o in occ])
    age = pd.to_numeric(members["age"], errors="coerce").fillna(38.0).to_numpy(dtype=float)
    categories = [str(c) for c in courses["category"]]
    cat_names = list(dict.fromkeys(categories))
    course_cat = np.array([cat_names.index(c) for c in categories])
    ids = courses["course_id"].tolist()
    position = {c: i for i, c in enumerate(ids)}
    audience = courses["audience"].tolist() if "audience" in courses.columns else [()] * n_courses
    aud = np.ones((len(occ_names), n_courses))
    for c, names in enumerate(audience):
        names = [n for n in (names if isinstance(names, (list, tuple, set, frozenset, np.ndarray)) else ())]
        if names:
            # the first occupation named is the one the course is mainly for; the others take
            # it less (7, 3.5, 2.3, … times as likely as a course for everyone)
            aud[:, c] = 0.02
            for rank, n in enumerate(names, start=1):
                if n in occ_names:
                    aud[occ_names.index(n), c] = max(7.0 / rank, 1.0)
    pre = courses["prerequisites"].tolist() if "prerequisites" in courses.columns else [()] * n_courses
    prerequisites = [[position[p] for p in (row if isinstance(row, (list, tuple, np.ndarray)) else ())
                      if p in position] for row in pre]
    # a given catalogue is usually a curated one (the starter library): its courses' appeal
    # varies less than across the thousands of courses generate_academy makes
    quality = (courses["quality"].to_numpy(dtype=float) if "quality" in courses.columns
               else rng.lognormal(0.0, 0.5, n_courses))
    released = (courses["released_on"].to_numpy(dtype="datetime64[s]").astype(np.int64)
                if "released_on" in courses.columns else np.full(n_courses, start - _DAY))
    # study windows: some join during the period, some drop out (study stops early)
    joined = rng.random(n_members) < 0.12
    span_days = int((end - start) // _DAY)
    m_start = np.where(joined, start + rng.integers(0, max(span_days - 35, 1), n_members) * _DAY, start)
    dropped = rng.random(n_members) < 0.12
    m_end = np.where(dropped, np.minimum(np.maximum(start + rng.integers(30, span_days, n_members) * _DAY,
                                                    m_start + 30 * _DAY), end - _DAY), end)
    if branches is not None and "branch_id" in members.columns:
        branch_ids = branches["branch_id"].tolist()
        bpos = {b: i for i, b in enumerate(branch_ids)}
        branch_of = np.array([bpos.get(b, -1) for b in members["branch_id"]])
        branch_industry = np.array([occ_names.index(i) if i in occ_names else -1
                                    for i in branches["industry"]])
    else:
        branch_ids, branch_of, branch_industry = [], np.full(n_members, -1), np.zeros(0, dtype=int)
    all_m, all_c, all_t, assignments = _simulate(
        rng, occ_names=occ_names, occ_idx=occ_idx, age=age, cat_names=cat_names, course_cat=course_cat,
        aud=aud, quality=quality, prerequisites=prerequisites, released=released, m_start=m_start,
        m_end=m_end, branch_of=branch_of, branch_industry=branch_industry, start=start, end=end,
        n_completions=n_completions)
    assignments.insert(0, "branch_id", np.asarray(branch_ids, dtype=object)[assignments.pop("branch")])
    assignments.insert(1, "course_id", np.asarray(ids, dtype=object)[assignments.pop("course")])
    order = np.argsort(all_t, kind="stable")
    interactions = pd.DataFrame({
        "member_id": members["member_id"].to_numpy()[all_m[order]],
        "course_id": np.asarray(ids, dtype=object)[all_c[order]],
        "timestamp": all_t[order].astype("datetime64[s]"),
    })
    windows = pd.DataFrame({"member_id": members["member_id"].to_numpy(),
                            "studies_from": m_start.astype("datetime64[s]"),
                            "studies_until": m_end.astype("datetime64[s]"),
                            "joined": joined, "dropped_out": dropped})
    return Study(interactions=interactions, assignments=assignments, windows=windows)


def _simulate(rng, *, occ_names, occ_idx, age, cat_names, course_cat, aud, quality, prerequisites,
              released, m_start, m_end, branch_of, branch_industry, start, end, n_completions):
    """The study behaviour shared by ``generate_academy`` and ``simulate_study``: returns member,
    course and time arrays of the completions, and the assignments (branch and course positions)."""
    n_members, n_courses = occ_idx.size, course_cat.size
    n_cat = len(cat_names)
    interest_table = np.array([[_INTEREST.get(o, _INTEREST["其他"])[CATEGORIES.index(c)]
                                if c in CATEGORIES else 1.0 for c in cat_names] for o in occ_names])
    slope = np.array([_AGE_SLOPE[CATEGORIES.index(c)] if c in CATEGORIES else 0.0 for c in cat_names])
    theory_cat = np.array([c in _SEASONAL_THEORY for c in cat_names])
    has_pre = np.array([bool(p) for p in prerequisites])
    followers = [[] for _ in range(n_courses)]
    for c, pre in enumerate(prerequisites):
        for p in pre:
            followers[p].append(c)

    cluster = rng.integers(0, _CLUSTERS, n_members)
    # --- per-member category interest (occupation × age × noise), over the categories that exist
    z_age = (age - 38.0) / 10.0
    interest = (interest_table[occ_idx] * np.exp(np.outer(z_age, slope))
                * rng.gamma(4.0, 0.25, (n_members, n_cat)))
    interest /= interest.sum(axis=1, keepdims=True)

    # --- course weights per (occupation, age band, taste cluster) group ----------------------
    # Age acts smoothly (3-year steps), not through the coarse bands a model might use.
    n_band = _AGE_STEPS
    band_idx = np.clip((age - 18) // 3, 0, _AGE_STEPS - 1).astype(np.int64)
    band_mid = 18 + 3 * np.arange(_AGE_STEPS) + 1.0
    age_tilt = rng.normal(0, 0.35, n_courses) + slope[course_cat] * 0.5
    taste = np.exp(rng.normal(0, 0.9, (_CLUSTERS, n_courses)))
    # group g = (occ * n_band + band) * clusters + cluster
    w = (quality[None, None, None, :] * aud[:, None, None, :]
         * np.exp(np.outer((band_mid - 38.0) / 10.0, age_tilt))[None, :, None, :]
         * taste[None, None, :, :])
    # Members start a series (any course with prerequisites) at its beginning; the courses that
    # follow come by expansion below.
    w[..., has_pre] = 0.0
    w = w.reshape(-1, n_courses)
    group = (occ_idx * n_band + band_idx) * _CLUSTERS + cluster

    # --- free draws: category from the member's interest, course from the group's weights ----
    activity = rng.lognormal(0.0, 0.8, n_members)
    activity *= (m_end - m_start) / (end - start)          # short windows study less
    activity /= activity.sum()
    cum_interest = np.cumsum(interest, axis=1)

    def free_draws(n_draws: float):
        per_member = rng.poisson(activity * n_draws)
        rows_m = np.repeat(np.arange(n_members), per_member)
        u = rng.random(rows_m.size)
        cat = (u[:, None] > cum_interest[rows_m]).sum(axis=1).clip(0, n_cat - 1)
        rows_c = _sample_in_category(w, course_cat, n_cat, group[rows_m], cat, rng)
        ok = rows_c >= 0
        rows_m, rows_c = rows_m[ok], rows_c[ok]
        rows_t = _season_times(rows_m, rows_c, theory_cat[course_cat], m_start, m_end, start, end, rng)
        # new courses: a draw before release moves to just after it (the launch burst)
        early = rows_t < released[rows_c]
        rows_t[early] = released[rows_c[early]] + (rng.exponential(20.0, early.sum()) * _DAY).astype(np.int64)
        # series: go on to the courses that follow, dropping off with probability 0.3 at each
        return _expand_followers(rows_m, rows_c, rows_t, followers, released, rng)

    assignments, all_m, all_c, all_t = _make_assignments(
        branch_of, branch_industry, course_cat, theory_cat, aud, quality, has_pre,
        m_start, m_end, start, end, rng)
    # Duplicates (a member drawing a course twice) are dropped, so top up until the target is met.
    for _ in range(6):
        shortfall = n_completions - all_m.size
        if shortfall <= 0:
            break
        rows_m, rows_c, rows_t = free_draws(shortfall * 1.1)
        all_m = np.concatenate([all_m, rows_m])
        all_c = np.concatenate([all_c, rows_c])
        all_t = np.concatenate([all_t, rows_t])
        all_m, all_c, all_t = _valid_unique(all_m, all_c, all_t, m_start, m_end, released, prerequisites)
    if all_m.size > n_completions:
        # trim courses nothing follows from, so that no course loses its prerequisite
        droppable = np.flatnonzero(np.array([not f for f in followers], dtype=bool)[all_c])
        n_drop = min(all_m.size - n_completions, droppable.size)
        drop = rng.choice(droppable, n_drop, replace=False)
        keep = np.ones(all_m.size, dtype=bool)
        keep[drop] = False
        all_m, all_c, all_t = all_m[keep], all_c[keep], all_t[keep]
    return all_m, all_c, all_t, assignments


def _valid_unique(all_m, all_c, all_t, m_start, m_end, released, prerequisites):
    """Keep completions inside the member's window and after release, one per member and course
    (the earliest), and only where the member completed the course's prerequisites before it."""
    keep = (all_t <= m_end[all_m]) & (all_t >= m_start[all_m]) & (all_t >= released[all_c])
    all_m, all_c, all_t = all_m[keep], all_c[keep], all_t[keep]
    order = np.lexsort((all_t, all_c, all_m))
    all_m, all_c, all_t = all_m[order], all_c[order], all_t[order]
    first = np.ones(all_m.size, dtype=bool)
    first[1:] = (all_m[1:] != all_m[:-1]) | (all_c[1:] != all_c[:-1])
    all_m, all_c, all_t = all_m[first], all_c[first], all_t[first]
    edges = [(c, p) for c, pre in enumerate(prerequisites) for p in pre]
    n_courses = len(prerequisites)
    while edges and all_m.size:
        key = all_m.astype(np.int64) * n_courses + all_c       # sorted: rows are by member, course
        ok = np.ones(all_m.size, dtype=bool)
        for c, p in edges:
            rows = np.flatnonzero(all_c == c)
            pos = np.minimum(np.searchsorted(key, all_m[rows].astype(np.int64) * n_courses + p), key.size - 1)
            ok[rows] &= (key[pos] == all_m[rows].astype(np.int64) * n_courses + p) & (all_t[pos] < all_t[rows])
        if ok.all():
            break
        all_m, all_c, all_t = all_m[ok], all_c[ok], all_t[ok]
    return all_m, all_c, all_t


def _make_courses(n_courses, year, start, end, rng):
    day = 86_400
    cat_weights = np.array([1.1, 1.0, 0.7, 0.8, 1.4, 1.2, 0.8, 0.6, 0.8])
    cat = rng.choice(len(CATEGORIES), n_courses, p=cat_weights / cat_weights.sum())
    cat[: len(CATEGORIES)] = np.arange(len(CATEGORIES))     # every category has a course
    cat[0] = CATEGORIES.index("安全")
    occ_names = list(OCCUPATIONS)
    occ_share = np.array([OCCUPATIONS[o][0] for o in occ_names])
    titles, summaries, tags, audiences, course_occ = [], [], [], [], np.full(n_courses, -1)
    used: dict[str, int] = {}
    for i in range(n_courses):
        category = CATEGORIES[cat[i]]
        candidates = [o for o in occ_names if category in _OCCUPATION_TOPICS.get(o, {})]
        targeted = i == 0 or (candidates and rng.random() < 0.65)
        if targeted:
            occ = "快递员" if i == 0 else candidates[rng.choice(  # share-weighted
                len(candidates), p=occ_share[[occ_names.index(o) for o in candidates]]
                / occ_share[[occ_names.index(o) for o in candidates]].sum())]
            course_occ[i] = occ_names.index(occ)
            topic = "快递安全与禁寄物品" if i == 0 else str(rng.choice(_OCCUPATION_TOPICS[occ][category]))
            audience = (occ,)
        else:
            topic = str(rng.choice(_GENERAL_TOPICS[category]))
            audience = ()
        aspect = "" if i == 0 else str(rng.choice(_ASPECTS))
        title = f"{topic}{aspect}"
        used[title] = used.get(title, 0) + 1
        if used[title] > 1:
            title = f"{title}·第{used[title]}讲"
        who = "、".join(audience) if audience else "全体党员"
        titles.append(title)
        summaries.append(f"面向{who}的{category}课程：{topic}{aspect}，结合工作实际讲清要点和做法。")
        tags.append(tuple(dict.fromkeys([category, topic, *audience])))
        audiences.append(audience)
    quality = rng.lognormal(0.0, 1.0, n_courses)
    quality[0] = quality.max() * 2.5          # the known answer for couriers
    hours = rng.choice([0.5, 1.0, 1.5, 2.0, 3.0], n_courses, p=[0.25, 0.35, 0.2, 0.15, 0.05])
    hours[0] = 1.0
    # 80 % of the catalogue exists at the start of the year; the rest is released during it
    released = np.where(rng.random(n_courses) < 0.8,
                        start - rng.integers(1, 400, n_courses) * day,
                        start + rng.integers(0, 330, n_courses) * day)
    released[0] = start - 30 * day

    # series: runs of 2–4 courses of the same category and audience, parts released in order
    series_of = np.full(n_courses, -1)
    part_of = np.zeros(n_courses, dtype=int)
    prerequisites: list[tuple[str, ...]] = [()] * n_courses
    course_ids = [f"c{i:04d}" for i in range(n_courses)]
    n_series = 0
    candidates = rng.permutation(np.arange(1, n_courses))[: int(0.15 * n_courses)]
    pool = list(candidates)
    while len(pool) >= 2:
        length = min(int(rng.integers(2, 5)), len(pool))
        members_ = sorted(pool[:length])
        pool = pool[length:]
        head = members_[0]
        base_title = titles[head].split("·")[0]
        for k, c in enumerate(members_):
            series_of[c] = n_series
            part_of[c] = k + 1
            cat[c] = cat[head]
            course_occ[c] = course_occ[head]
            audiences[c] = audiences[head]
            titles[c] = f"{base_title}（{_PART_NAMES[k]}）"
            summaries[c] = summaries[head].replace("课程：", f"系列课程第{_PART_NAMES[k]}讲：")
            tags[c] = tags[head]
            released[c] = released[head] + k * 14 * day
            if k:
                prerequisites[c] = (course_ids[members_[k - 1]],)
        n_series += 1
    part_of[series_of < 0] = 0
    courses = pd.DataFrame({
        "course_id": course_ids,
        "title": titles,
        "summary": summaries,
        "category": [CATEGORIES[c] for c in cat],
        "hours": hours,
        "audience": audiences,
        "tags": tags,
        "released_on": released.astype("datetime64[s]"),
        "series": [f"s{s:03d}" if s >= 0 else None for s in series_of],
        "part": part_of,
        "prerequisites": prerequisites,
    })
    return courses, cat, course_occ, quality


def _make_members(n_members, year, start, end, rng):
    day = 86_400
    occ_names = list(OCCUPATIONS)
    share = np.array([OCCUPATIONS[o][0] for o in occ_names])
    occ_idx = rng.choice(len(occ_names), n_members, p=share / share.sum())
    mean = np.array([OCCUPATIONS[o][1] for o in occ_names])[occ_idx]
    sd = np.array([OCCUPATIONS[o][2] for o in occ_names])[occ_idx]
    age = np.clip(np.rint(rng.normal(mean, sd)), 18, 65).astype(int)
    joined = np.where(rng.random(n_members) < 0.12,
                      start + rng.integers(0, 330, n_members) * day,
                      start - rng.integers(30, 3000, n_members) * day)
    left = np.where(rng.random(n_members) < 0.12,
                    start + rng.integers(30, 360, n_members) * day, -1)
    m_start = np.maximum(joined, start)
    # a member leaves at least a month after joining (and within the year)
    left = np.where(left > 0, np.minimum(np.maximum(left, m_start + 30 * day), end - day), -1)
    m_end = np.where(left > 0, left, end)
    members = pd.DataFrame({
        "member_id": np.arange(1, n_members + 1, dtype=np.int64),
        "age": age,
        "occupation": [occ_names[o] for o in occ_idx],
        "joined_on": joined.astype("datetime64[s]"),
        "left_on": np.where(left > 0, left, np.iinfo(np.int64).min).astype("datetime64[s]"),
    })
    return members, occ_idx, m_start, m_end


def _make_branches(occ_idx, rng):
    occ_names = list(OCCUPATIONS)
    n_members = occ_idx.size
    counts = np.bincount(occ_idx, minlength=len(occ_names))
    industry = np.concatenate([np.full(max(1, int(np.ceil(c / 40))), o) for o, c in enumerate(counts)])
    first = np.concatenate([[0], np.cumsum([max(1, int(np.ceil(c / 40))) for c in counts])[:-1]])
    per_occ = np.array([max(1, int(np.ceil(c / 40))) for c in counts])
    own = first[occ_idx] + rng.integers(0, 1 << 30, n_members) % per_occ[occ_idx]
    other = rng.integers(0, industry.size, n_members)
    branch_of = np.where(rng.random(n_members) < 0.9, own, other)
    branches = pd.DataFrame({
        "branch_id": np.arange(1, industry.size + 1, dtype=np.int64),
        "name": [f"{occ_names[o]}第{k + 1}党支部" for k, o in enumerate(industry)],
        "industry": [occ_names[o] for o in industry],
    })
    return branches, branch_of, industry


def _sample_in_category(w, course_cat, n_cat, g, cat, rng):
    """Draw one course per row from the row's group weights restricted to its category.

    One sorted array of block-offset cumulative sums serves every (group, category) block, so the
    whole draw is a single ``searchsorted``."""
    n_groups, n_courses = w.shape
    order = np.argsort(course_cat, kind="stable")
    cat_sorted = course_cat[order]
    ws = w[:, order]
    cs = np.cumsum(ws, axis=1)
    seg_start = np.searchsorted(cat_sorted, np.arange(n_cat))
    before = np.where(seg_start > 0, cs[:, np.maximum(seg_start - 1, 0)], 0.0)[:, cat_sorted]
    seg_total = np.add.reduceat(ws, seg_start, axis=1) if n_courses else ws
    total = seg_total[:, cat_sorted]
    frac = np.where(total > 0, (cs - before) / np.where(total > 0, total, 1.0), 1.0)
    keys = (np.arange(n_groups)[:, None] * n_cat + cat_sorted[None, :] + frac).ravel()
    keys = np.maximum.accumulate(keys)         # guard against rounding
    target = g * n_cat + cat + rng.random(g.size) * (1 - 1e-9)
    pos = np.searchsorted(keys, target, side="right")
    pos = np.minimum(pos, keys.size - 1)
    chosen = order[pos % n_courses]
    valid = (course_cat[chosen] == cat) & (pos // n_courses == g)
    return np.where(valid, chosen, -1)


def _yearly_windows(s, e, start, end, month_day_from, month_day_to, rng):
    """Per row, a random part of [s, e] that falls in the yearly window (e.g. June 1 – July 1) of
    one of the years the period touches, chosen by overlap; (lo, hi, found)."""
    years = range(int(str(np.datetime64(int(start), "s"))[:4]), int(str(np.datetime64(int(end), "s"))[:4]) + 1)
    los, his = [], []
    for y in years:
        lo = np.datetime64(f"{y}-{month_day_from}", "s").astype(np.int64)
        hi = np.datetime64(f"{y}-{month_day_to}", "s").astype(np.int64)
        los.append(np.maximum(s, lo))
        his.append(np.minimum(e, hi))
    lo, hi = np.stack(los, axis=1), np.stack(his, axis=1)
    length = np.maximum(hi - lo, 0).astype(float)
    total = length.sum(axis=1)
    found = total > 0
    cum = np.cumsum(length, axis=1)
    pick = (rng.random(s.size) * total)[:, None]
    k = np.minimum((pick >= cum).sum(axis=1), len(years) - 1)
    rows = np.arange(s.size)
    return np.where(found, lo[rows, k], s), np.where(found, hi[rows, k], e), found


def _season_times(rows_m, rows_c, theory, m_start, m_end, start, end, rng):
    n = rows_m.size
    s, e = m_start[rows_m], m_end[rows_m]
    is_theory = theory[rows_c]
    u = rng.random(n)
    july = is_theory & (u < 0.3)
    rush = (is_theory & (u >= 0.3) & (u < 0.5)) | (~is_theory & (u < 0.3))
    lo, hi = s.copy(), e.copy()
    if july.any():
        jl, jh, _ = _yearly_windows(s[july], e[july], start, end, "06-01", "07-01", rng)
        lo[july], hi[july] = jl, jh
    if rush.any():
        rl, rh, _ = _yearly_windows(s[rush], e[rush], start, end, "11-15", "12-31T23:59:59", rng)
        lo[rush], hi[rush] = rl, rh
    empty = hi <= lo
    lo[empty], hi[empty] = s[empty], e[empty]
    # a quarter of the members leave most of their study to the end of the year
    procrastinator = (rows_m * 2654435761 % 4) == 0
    frac = np.where(procrastinator & ~(july | rush), rng.beta(3.0, 1.0, n), rng.random(n))
    t = lo + (frac * (hi - lo)).astype(np.int64)
    t = t - t % _DAY + rng.integers(6 * 3600, 23 * 3600, n)      # daytime on that day
    return np.clip(t, s, e)


def _expand_followers(rows_m, rows_c, rows_t, followers, released, rng):
    """After a course, go on to each course that requires it with probability 0.7, and so on
    along the chain (a series' next part, a follow-up course)."""
    out_m, out_c, out_t = [rows_m], [rows_c], [rows_t]
    n_follow = np.array([len(f) for f in followers])
    cur_m, cur_c, cur_t = rows_m, rows_c, rows_t
    while cur_c.size:
        k = n_follow[cur_c]
        src = np.repeat(np.arange(cur_c.size), k)
        nxt = np.array([f for c in cur_c[k > 0] for f in followers[c]], dtype=np.int64)
        go = rng.random(src.size) < 0.7
        if not go.any():
            break
        src, nxt = src[go], nxt[go]
        cur_m, cur_c = cur_m[src], nxt
        cur_t = np.maximum(cur_t[src] + (rng.exponential(9.0, src.size) * _DAY).astype(np.int64) + _DAY,
                           released[cur_c] + _DAY)
        out_m.append(cur_m)
        out_c.append(cur_c)
        out_t.append(cur_t)
    return np.concatenate(out_m), np.concatenate(out_c), np.concatenate(out_t)


def _make_assignments(branch_of, branch_industry, course_cat, theory_cat, aud, quality, has_pre,
                      m_start, m_end, start, end, rng):
    """Each branch assigns one to three courses (half of them for its industry, the rest theory)
    with a due date 30–90 days later; 80 % of its members complete each, mostly near the due date."""
    n_branches = branch_industry.size
    theory = np.flatnonzero(theory_cat[course_cat] & ~has_pre)
    if not theory.size:
        theory = np.flatnonzero(~has_pre)
    a_branch, a_course, a_assigned, a_due = [], [], [], []
    span_days = int((end - start) // _DAY)
    for b in range(n_branches):
        ind = branch_industry[b]
        own = (np.flatnonzero((aud[ind] > 1.0) & ~has_pre) if ind >= 0 else np.zeros(0, dtype=int))
        k = int(rng.integers(1, 4))
        chosen: set[int] = set()
        for _ in range(k):
            pool = own if (own.size and rng.random() < 0.5) else theory
            if not pool.size:
                continue
            p = quality[pool] / quality[pool].sum()
            chosen.add(int(rng.choice(pool, p=p)))
        for c in sorted(chosen):
            assigned = start + int(rng.integers(9, max(span_days - 65, 10))) * _DAY
            a_branch.append(b)
            a_course.append(c)
            a_assigned.append(assigned)
            a_due.append(min(assigned + int(rng.choice([30, 45, 60, 90])) * _DAY, end - end % _DAY))
    a_branch = np.array(a_branch, dtype=int)
    a_course = np.array(a_course, dtype=int)
    a_assigned = np.array(a_assigned, dtype=np.int64)
    a_due = np.array(a_due, dtype=np.int64)
    assignments = pd.DataFrame({
        "branch": a_branch,
        "course": a_course,
        "assigned_on": a_assigned.astype("datetime64[s]").astype("datetime64[D]"),
        "due_on": a_due.astype("datetime64[s]").astype("datetime64[D]"),
    })
    # members × their branch's assignments (members without a branch have none)
    order = np.argsort(a_branch, kind="stable")
    ptr = np.searchsorted(a_branch[order], np.arange(n_branches + 1))
    in_branch = branch_of >= 0
    safe_branch = np.where(in_branch, branch_of, 0)
    n_per = np.where(in_branch, ptr[safe_branch + 1] - ptr[safe_branch], 0) if n_branches else np.zeros_like(branch_of)
    m = np.repeat(np.arange(branch_of.size), n_per)
    offset = np.arange(m.size) - np.repeat(np.cumsum(n_per) - n_per, n_per)
    a = order[ptr[branch_of[m]] + offset]
    lo = np.maximum(a_assigned[a], m_start[m])
    hi = np.minimum(a_due[a] + _DAY - 1, m_end[m])
    done = (hi > lo) & (rng.random(m.size) < 0.8)
    m, a, lo, hi = m[done], a[done], lo[done], hi[done]
    t = lo + (rng.beta(2.0, 1.3, m.size) * (hi - lo)).astype(np.int64)
    return assignments, m, a_course[a], t


def generate_movielens_like(n_users: int = 6_000, n_items: int = 3_000, n_ratings: int = 600_000,
                            *, random_state: int | None = 0, dim: int = 8):
    """A second, differently built test bed shaped like MovieLens-1M, to check that the model is
    not tuned to ``generate_academy``: latent-factor tastes shifted by occupation (integer codes
    0–20), MovieLens age codes (1, 18, 25, …, 56) and gender; items with genres and English titles
    with a year; items released over time and users drifting towards newer items.

    Returns (interactions, members, courses) DataFrames with the recommender's column names."""
    rng = np.random.default_rng(random_state)
    genres = np.array(["Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
                       "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
                       "Romance", "Sci-Fi", "Thriller", "War", "Western"])
    item_genres = rng.random((n_items, genres.size)) < 0.12
    item_genres[np.arange(n_items), rng.integers(0, genres.size, n_items)] = True
    items = (item_genres @ rng.normal(0, 1, (genres.size, dim)) / np.sqrt(item_genres.sum(1, keepdims=True))
             + rng.normal(0, 0.7, (n_items, dim)))
    age_codes = np.array([1, 18, 25, 35, 45, 50, 56])
    age_idx = rng.choice(age_codes.size, n_users, p=[.04, .18, .35, .2, .09, .08, .06])
    occupation = rng.integers(0, 21, n_users)
    gender = rng.choice(np.array(["M", "F"]), n_users, p=[.72, .28])
    users = (rng.normal(0, 0.6, (21, dim))[occupation] + rng.normal(0, 0.5, (age_codes.size, dim))[age_idx]
             + np.where((gender == "M")[:, None], 1.0, -1.0) * rng.normal(0, 0.4, dim)
             + rng.normal(0, 1, (n_users, dim)))
    popularity = np.log(rng.lognormal(0, 1.2, n_items))
    release = np.sort(rng.random(n_items))
    activity = rng.lognormal(0, 1, n_users)
    per_user = np.maximum(rng.poisson(activity / activity.sum() * n_ratings * 1.2), 1)
    rows_u, rows_i, rows_t = [], [], []
    for u in range(n_users):      # a few thousand users: a plain loop is fast enough
        start = rng.random() * 0.8
        available = np.flatnonzero(release <= start + 0.2)
        logits = users[u] @ items[available].T / np.sqrt(dim) * 1.5 + popularity[available]
        p = np.exp(logits - logits.max())
        k = min(int(per_user[u]), available.size)
        chosen = available[rng.choice(available.size, k, replace=False, p=p / p.sum())]
        chosen = chosen[np.argsort(release[chosen] + rng.normal(0, 0.05, k))]
        rows_u.append(np.full(k, u + 1))
        rows_i.append(chosen + 1)
        rows_t.append(956_703_932 + ((start + np.sort(rng.random(k)) * 0.2) * 1e8).astype(np.int64))
    interactions = pd.DataFrame({"member_id": np.concatenate(rows_u), "course_id": np.concatenate(rows_i),
                                 "timestamp": np.concatenate(rows_t)})
    members = pd.DataFrame({"member_id": np.arange(1, n_users + 1), "age": age_codes[age_idx],
                            "occupation": occupation, "gender": gender,
                            "zip": rng.integers(10_000, 99_999, n_users).astype(str)})
    words = np.array(["Love", "Night", "Man", "Day", "Story", "Return", "Dead", "City", "Girl", "Star",
                      "War", "Life", "Last", "Dark", "King", "House", "Blue", "Time", "Little", "World"])
    years = rng.integers(1930, 2001, n_items)
    courses = pd.DataFrame({
        "course_id": np.arange(1, n_items + 1),
        "title": [" ".join(rng.choice(words, rng.integers(1, 4))) + f" ({y})" for y in years],
        "genres": ["|".join(genres[row]) for row in item_genres],
    })
    return interactions, members, courses
