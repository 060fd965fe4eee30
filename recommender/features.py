"""The signals the combiner sees for a (member, course) pair.

Two implementations of the same definitions: ``profile_features`` scores one member against every
course with a few row lookups (serving), and ``pair_features`` computes arbitrary (example, course)
pairs in bulk with gathers and ``bincount`` (training).  ``tests/recommender/test_recommender_features.py``
checks that they agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .content import ContentModel
from .signals import Signals

# name → the model part it belongs to (the ablation in the evaluation removes parts)
FEATURE_PARTS: dict[str, str] = {
    "pop": "base",              # log share of the completions that are of the course
    "pop_recent": "base",       # the same in the latest slice of time (trends, seasons)
    "hist_len": "base",         # log length of the member's history (lets the combiner gate)
    "ease": "collaborative",    # EASE score of the history
    "knn": "collaborative",     # recency-weighted item-kNN cosine to the history
    "seq": "sequential",        # what members took next after the latest courses
    "group_pop": "demographic",  # log P(course | age band × occupation)
    "age_occ_pop": "demographic",  # log P(course | occupation, age ± a few years)
    "occ_lift": "demographic",  # how much more the occupation takes it than everyone
    "band_lift": "demographic",  # how much more the age band takes it than everyone
    "attr_lift": "demographic",  # per other member attribute (e.g. the branch): "attr_lift:0", "attr_lift:1", …
    "attr_pop": "demographic",   # per attribute: log P(course | the member's value), "attr_pop:0", …
    "content_hist": "content",  # recency-weighted text similarity to the history
    "cat_hist": "content",      # recency-weighted share of the history in the course's category
    "content_pop": "content",   # how popular the courses with similar text are
    "content_group": "content",  # how much the member's group favours courses with similar text
    "audience": "content",      # the course's audience names the occupation (1), not (0), or all (0.5)
    "occ_text": "content",      # text similarity between the occupation name and the course
    "dismiss_sim": "dismissal",  # similarity to courses the member dismissed
}
PARTS = ("collaborative", "sequential", "demographic", "content")
# Direction the combiner may use each signal in (HistGradientBoosting monotonic constraints):
# evidence of fit can only raise a score, which keeps the model sane on data unlike its training data.
MONOTONE = {"ease": 1, "knn": 1, "seq": 1, "group_pop": 1, "age_occ_pop": 1, "content_hist": 1, "content_group": 1,
            "content_pop": 1, "audience": 1, "occ_text": 1, "dismiss_sim": -1}


def active_features(parts: frozenset[str], with_dismissals: bool, n_attributes: int = 0) -> tuple[str, ...]:
    """The feature names a model with these parts uses; each member attribute gets its own lift
    feature, so the combiner weighs a branch and, say, a region separately."""
    out = []
    for name, part in FEATURE_PARTS.items():
        if part == "base" or part in parts or (part == "dismissal" and with_dismissals):
            out.extend([f"{name}:{a}" for a in range(n_attributes)] if name in _PER_ATTRIBUTE else [name])
    return tuple(out)


def monotone(name: str) -> int:
    """The direction the combiner may use a feature in (see ``MONOTONE``)."""
    return 1 if name.split(":")[0] in _PER_ATTRIBUTE else MONOTONE.get(name, 0)


_PER_ATTRIBUTE = ("attr_lift", "attr_pop")


@dataclass
class FeatureContext:
    """What feature computation needs from a fitted model."""

    signals: Signals
    content: ContentModel | None
    category: np.ndarray          # course category index, -1 unknown
    audience_rows: np.ndarray     # float32 (n_occ_rows × n): audience match per known occupation
    occ_text_rows: np.ndarray     # float32 (n_occ_rows × n)
    half_life: float
    window: int
    features: tuple[str, ...]

    @property
    def n_items(self) -> int:
        return self.signals.item_count.size


def recency_weights(n: int, half_life: float) -> np.ndarray:
    """Weights of a history of length n, oldest first, summing to one: the latest course counts
    most and one ``half_life`` of courses earlier counts half as much."""
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    w = 0.5 ** ((n - 1 - np.arange(n)) / half_life)
    return (w / w.sum()).astype(np.float32)


def sequence_weights(n: int, window: int) -> np.ndarray:
    """1, 1/2, 1/3 … for the latest ``window`` courses (latest first), zero before."""
    from_end = n - 1 - np.arange(n)
    return np.where(from_end < window, 1.0 / (from_end + 1), 0.0).astype(np.float32)


def profile_features(ctx: FeatureContext, hist: np.ndarray, group: int, occ_bucket: int,
                     band: int, age_bin: int, attr_codes: Sequence[int], audience: np.ndarray,
                     occ_text: np.ndarray, dismissed: np.ndarray) -> dict[str, np.ndarray]:
    """Every active feature for one member against every course (vectors of length n)."""
    s, n = ctx.signals, ctx.n_items
    zeros = np.zeros(n, dtype=np.float32)
    r = recency_weights(hist.size, ctx.half_life)
    out: dict[str, np.ndarray] = {}
    for name in ctx.features:
        if name == "pop":
            v = s.log_p_global
        elif name == "pop_recent":
            v = s.log_p_recent
        elif name == "hist_len":
            v = np.full(n, np.log1p(hist.size), dtype=np.float32)
        elif name == "ease":
            v = s.ease[hist].sum(axis=0) if (s.ease is not None and hist.size) else zeros
        elif name == "knn":
            v = r @ s.knn[hist] if hist.size else zeros
        elif name == "seq":
            q = sequence_weights(hist.size, ctx.window)
            keep = q > 0
            v = q[keep] @ s.seq[hist[keep]] if hist.size else zeros
        elif name == "group_pop":
            v = s.log_p_group[group]
        elif name == "age_occ_pop":
            v = s.log_p_age_occ[occ_bucket, age_bin]
        elif name == "occ_lift":
            v = s.occ_lift[occ_bucket]
        elif name == "band_lift":
            v = s.band_lift[band]
        elif name.startswith(("attr_lift:", "attr_pop:")):
            kind, a = name.split(":")
            v = getattr(s, kind)[int(a)][attr_codes[int(a)]]
        elif name == "content_hist":
            v = r @ ctx.content.similarity[hist] if (ctx.content is not None and hist.size) else zeros
        elif name == "cat_hist":
            v = _category_share(ctx.category, hist, r)
        elif name == "content_pop":
            v = s.content_pop if s.content_pop is not None else zeros
        elif name == "content_group":
            v = s.content_group[group] if s.content_group is not None else zeros
        elif name == "audience":
            v = audience
        elif name == "occ_text":
            v = occ_text
        elif name == "dismiss_sim":
            v = dismissal_similarity(ctx, dismissed)
        else:  # pragma: no cover - FEATURE_PARTS and this function are edited together
            raise KeyError(name)
        out[name] = np.asarray(v, dtype=np.float32)
    return out


def dismissal_similarity(ctx: FeatureContext, dismissed: np.ndarray) -> np.ndarray:
    """For each course, its highest similarity (by text or by co-completion) to a dismissed one."""
    if dismissed.size == 0:
        return np.zeros(ctx.n_items, dtype=np.float32)
    best = np.zeros(ctx.n_items, dtype=np.float32)
    if ctx.content is not None:
        best = np.maximum(best, ctx.content.similarity[dismissed].max(axis=0))
    if ctx.signals.knn is not None:
        best = np.maximum(best, ctx.signals.knn[dismissed].max(axis=0))
    return best


def _category_share(category: np.ndarray, hist: np.ndarray, r: np.ndarray) -> np.ndarray:
    if hist.size == 0:
        return np.zeros(category.size, dtype=np.float32)
    cats = category[hist]
    known = cats >= 0
    share = np.bincount(cats[known], weights=r[known], minlength=max(int(category.max()) + 1, 1))
    return np.where(category >= 0, share[np.maximum(category, 0)], 0.0).astype(np.float32)


@dataclass
class Examples:
    """Training examples: each has a history (CSR), a demographic group and dismissed courses."""

    hist_ptr: np.ndarray
    hist_items: np.ndarray
    group: np.ndarray
    occ_bucket: np.ndarray
    band: np.ndarray
    age_bin: np.ndarray
    attr_codes: np.ndarray        # (examples × attributes) value codes
    occ_row: np.ndarray           # row in ctx.audience_rows / ctx.occ_text_rows
    dis_ptr: np.ndarray
    dis_items: np.ndarray


def pair_features(ctx: FeatureContext, ex: Examples, pair_ex: np.ndarray, pair_item: np.ndarray,
                  chunk_entries: int = 4_000_000) -> np.ndarray:
    """Feature matrix (pairs × active features) for (example, course) pairs."""
    out = np.zeros((pair_ex.size, len(ctx.features)), dtype=np.float32)
    n_hist = np.diff(ex.hist_ptr)
    per_pair = n_hist[pair_ex]
    # chunk by the number of history entries the pairs expand into, to bound memory
    bounds = [0]
    csum = np.cumsum(per_pair)
    while bounds[-1] < pair_ex.size:
        start_total = csum[bounds[-1] - 1] if bounds[-1] else 0
        nxt = int(np.searchsorted(csum, start_total + chunk_entries, side="right"))
        bounds.append(min(max(nxt, bounds[-1] + 1), pair_ex.size))
    # per-entry weights, computed once
    entry_ex = np.repeat(np.arange(n_hist.size), n_hist)
    from_end = (ex.hist_ptr[entry_ex + 1] - 1 - np.arange(ex.hist_items.size)).astype(np.float64)
    r_raw = 0.5 ** (from_end / ctx.half_life)
    r = (r_raw / np.bincount(entry_ex, r_raw, minlength=n_hist.size)[entry_ex]).astype(np.float32)
    q = np.where(from_end < ctx.window, 1.0 / (from_end + 1), 0.0).astype(np.float32)
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        out[lo:hi] = _pair_chunk(ctx, ex, pair_ex[lo:hi], pair_item[lo:hi], n_hist, r, q)
    return out


def _pair_chunk(ctx, ex, pe, pi, n_hist, r, q):
    s = ctx.signals
    cnt = n_hist[pe]
    rep = np.repeat(np.arange(pe.size), cnt)
    entry = np.repeat(ex.hist_ptr[pe], cnt) + (np.arange(rep.size) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    hi_items = ex.hist_items[entry]
    ci = pi[rep]
    cols = []
    n = pe.size
    for name in ctx.features:
        if name == "pop":
            v = s.log_p_global[pi]
        elif name == "pop_recent":
            v = s.log_p_recent[pi]
        elif name == "hist_len":
            v = np.log1p(cnt)
        elif name == "ease":
            v = np.bincount(rep, s.ease[hi_items, ci], minlength=n) if s.ease is not None else np.zeros(n)
        elif name == "knn":
            v = np.bincount(rep, r[entry] * s.knn[hi_items, ci], minlength=n)
        elif name == "seq":
            m = q[entry] > 0
            v = np.bincount(rep[m], q[entry[m]] * s.seq[hi_items[m], ci[m]], minlength=n)
        elif name == "group_pop":
            v = s.log_p_group[ex.group[pe], pi]
        elif name == "age_occ_pop":
            v = s.log_p_age_occ[ex.occ_bucket[pe], ex.age_bin[pe], pi]
        elif name == "occ_lift":
            v = s.occ_lift[ex.occ_bucket[pe], pi]
        elif name == "band_lift":
            v = s.band_lift[ex.band[pe], pi]
        elif name.startswith(("attr_lift:", "attr_pop:")):
            kind, a = name.split(":")
            v = getattr(s, kind)[int(a)][ex.attr_codes[pe, int(a)], pi]
        elif name == "content_hist":
            v = (np.bincount(rep, r[entry] * ctx.content.similarity[hi_items, ci], minlength=n)
                 if ctx.content is not None else np.zeros(n))
        elif name == "cat_hist":
            same = (ctx.category[hi_items] == ctx.category[ci]) & (ctx.category[ci] >= 0)
            v = np.bincount(rep, r[entry] * same, minlength=n)
        elif name == "content_pop":
            v = s.content_pop[pi] if s.content_pop is not None else np.zeros(n)
        elif name == "content_group":
            v = s.content_group[ex.group[pe], pi] if s.content_group is not None else np.zeros(n)
        elif name == "audience":
            v = ctx.audience_rows[ex.occ_row[pe], pi]
        elif name == "occ_text":
            v = ctx.occ_text_rows[ex.occ_row[pe], pi]
        elif name == "dismiss_sim":
            v = _pair_dismissal(ctx, ex, pe, pi)
        else:  # pragma: no cover
            raise KeyError(name)
        cols.append(np.asarray(v, dtype=np.float32))
    return np.column_stack(cols) if cols else np.zeros((n, 0), dtype=np.float32)


def _pair_dismissal(ctx, ex, pe, pi):
    n_dis = np.diff(ex.dis_ptr)
    cnt = n_dis[pe]
    out = np.zeros(pe.size, dtype=np.float32)
    if cnt.sum() == 0:
        return out
    rep = np.repeat(np.arange(pe.size), cnt)
    entry = np.repeat(ex.dis_ptr[pe], cnt) + (np.arange(rep.size) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    d, ci = ex.dis_items[entry], pi[rep]
    vals = np.zeros(rep.size, dtype=np.float32)
    if ctx.content is not None:
        vals = np.maximum(vals, ctx.content.similarity[d, ci])
    if ctx.signals.knn is not None:
        vals = np.maximum(vals, ctx.signals.knn[d, ci])
    np.maximum.at(out, rep, vals)
    return out
