"""Statistics learned from completion histories: the collaborative, sequential and demographic
parts of the model, plus plain and recent popularity.

Everything here works on integer positions (see ``data.py``) and returns dense float32 matrices
sized by the catalogue, which is what keeps scoring one member a handful of row lookups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, sparse


@dataclass
class Groups:
    """Demographic groups: age band × occupation.  ``occupation`` index ``n_occ`` is the bucket for
    rare or unknown occupations; band ``n_band - 1`` is "age unknown"."""

    n_occ: int       # frequent occupations (their bucket indices are 0..n_occ-1)
    n_band: int      # including the unknown band

    @property
    def n_groups(self) -> int:
        return (self.n_occ + 1) * self.n_band

    def group(self, occ: np.ndarray, band: np.ndarray) -> np.ndarray:
        return occ * self.n_band + band


@dataclass
class Signals:
    item_count: np.ndarray              # completions per course
    log_p_recent: np.ndarray            # log share of each course in the most recent slice of time
    recent_total: float                 # completions in that slice
    knn: np.ndarray | None              # item-item cosine of completion sets (zero diagonal)
    ease: np.ndarray | None             # EASE item-item weights (zero diagonal)
    seq: np.ndarray | None              # P(next course = j | course i), smoothed
    seq_norm: np.ndarray | None         # per course i, what seq's row was divided by (seq × it = counts)
    log_p_group: np.ndarray | None      # log P(course | age band × occupation), smoothed
    occ_lift: np.ndarray | None         # log P(course | occupation) − log P(course)
    band_lift: np.ndarray | None        # log P(course | age band) − log P(course)
    occ_count: np.ndarray | None        # completions per occupation bucket and course
    log_p_age_occ: np.ndarray | None    # log P(course | occupation, age), age smoothed by a kernel
    attr_lift: list[np.ndarray]         # per extra member attribute: lift per value and course
    attr_pop: list[np.ndarray]          # per extra member attribute: log P(course | value), smoothed
    content_pop: np.ndarray | None      # mean log share of each course's text neighbours
    content_group: np.ndarray | None    # mean group lift of each course's text neighbours
    log_p_global: np.ndarray            # log P(course), smoothed


def fit_signals(
    *,
    n_items: int,
    user: np.ndarray,
    item: np.ndarray,
    time: np.ndarray,
    n_users: int,
    user_occ: np.ndarray,
    user_band: np.ndarray,
    user_age_bin: np.ndarray,
    user_attrs: list[tuple[np.ndarray, int]],
    groups: Groups,
    parts: frozenset[str],
    content_neighbours: sparse.csr_matrix | None,
    ease_l2: float | None,
    ease_max_items: int,
    knn_shrink: float,
    sequence_window: int,
    sequence_smoothing: float,
    demographic_prior: float,
    recent_fraction: float,
) -> Signals:
    """``user``/``item``/``time`` must be sorted by user, then time, one row per user and item."""
    item_count = np.bincount(item, minlength=n_items).astype(np.float32)
    if time.size:
        cut = np.quantile(time, 1.0 - recent_fraction)
        recent_count = np.bincount(item[time >= cut], minlength=n_items).astype(np.float32)
    else:
        recent_count = np.zeros(n_items, dtype=np.float32)
    total = float(item_count.sum())
    p_global = (item_count.astype(np.float64) + 1.0) / (total + n_items)
    log_p_global = np.log(p_global).astype(np.float32)
    # Shares, not counts: the combiner is trained on signals computed with some data hidden and
    # served with signals from all of it, so a count would be larger at serving than anything it
    # learned from; a share means the same in both.
    log_p_recent = np.log((recent_count.astype(np.float64) + 1.0)
                          / (float(recent_count.sum()) + n_items)).astype(np.float32)

    knn = ease = seq = seq_norm = None
    if "collaborative" in parts:
        knn, ease = _item_item(n_users, n_items, user, item, item_count, ease_l2, ease_max_items, knn_shrink)
    if "sequential" in parts:
        seq, seq_norm = _transitions(n_items, user, item, sequence_window, sequence_smoothing)

    log_p_group = occ_lift = band_lift = occ_count = log_p_age_occ = None
    content_group = content_pop = None
    if content_neighbours is not None:
        # a course nobody has taken yet is judged by the courses its text resembles
        # (a course whose text resembles nothing gets the average)
        weight = np.asarray(content_neighbours.sum(axis=1)).ravel()
        content_pop = (content_neighbours @ log_p_global.astype(np.float64)
                       + (1.0 - weight) * float(log_p_global.mean())).astype(np.float32)
    if "demographic" in parts or "content" in parts:
        g = groups.group(user_occ[user], user_band[user])
        counts = np.bincount(g.astype(np.int64) * n_items + item,
                             minlength=groups.n_groups * n_items).reshape(groups.n_groups, n_items)
        counts = counts.astype(np.float64)
        by_occ = counts.reshape(groups.n_occ + 1, groups.n_band, n_items).sum(axis=1)
        by_band = counts.reshape(groups.n_occ + 1, groups.n_band, n_items).sum(axis=0)
        a = demographic_prior
        p_occ = (by_occ + a * p_global) / (by_occ.sum(axis=1, keepdims=True) + a)
        p_band = (by_band + a * p_global) / (by_band.sum(axis=1, keepdims=True) + a)
        # back off group → mean of its occupation and its band → global
        prior = 0.5 * (np.repeat(p_occ, groups.n_band, axis=0) + np.tile(p_band, (groups.n_occ + 1, 1)))
        p_group = (counts + a * prior) / (counts.sum(axis=1, keepdims=True) + a)
        log_p_group = np.log(p_group).astype(np.float32)
        # lifts compare observed with expected completions, with a few pseudo-completions on
        # both sides, so a course with no completions has lift 0 (no evidence), not −∞
        share = item_count.astype(np.float64) / max(total, 1.0)
        occ_lift = _lift(by_occ, share, demographic_prior / 4)
        band_lift = _lift(by_band, share, demographic_prior / 4)
        group_lift = _lift(counts, share, demographic_prior / 4)
        occ_count = by_occ.astype(np.float32)
        log_p_age_occ = _age_kernel(n_items, item, user_occ[user], user_age_bin[user],
                                    groups.n_occ + 1, p_occ, a)
        if content_neighbours is not None:
            content_group = (content_neighbours @ group_lift.T).T.astype(np.float32)
    attr_lift, attr_pop = [], []
    if "demographic" in parts:
        # An attribute's lift is measured against what its members' age band × occupation
        # predicts, not against everyone: a branch of riders takes rider courses anyway, and
        # counting that again would only repeat the occupation.  What remains is what the branch
        # itself adds — the courses it assigns, its own habits.
        g_user = groups.group(user_occ, user_band)
        n_per_user = np.bincount(user, minlength=n_users).astype(np.float64)
        for codes, n_values in user_attrs:
            # values past n_values-1 (rare or unknown) get a row of zeros: no evidence
            counts = np.bincount(codes[user].astype(np.int64) * n_items + item,
                                 minlength=(n_values + 1) * n_items).reshape(n_values + 1, n_items)
            mix = sparse.csr_matrix((n_per_user, (codes, g_user)), shape=(n_values + 1, groups.n_groups))
            expected = np.asarray(mix @ p_group)
            pseudo = demographic_prior / 4
            lift = np.log((counts + pseudo) / (expected + pseudo)).astype(np.float32)
            lift[n_values] = 0.0
            attr_lift.append(lift)
            # and plainly what the members with this value take (rare/unknown: everyone's mix)
            n_v = counts.sum(axis=1, keepdims=True)
            share = (counts + _ATTR_PRIOR * p_global) / (n_v + _ATTR_PRIOR)
            share[n_values] = p_global
            attr_pop.append(np.log(share).astype(np.float32))
    return Signals(item_count=item_count, attr_lift=attr_lift, attr_pop=attr_pop, log_p_recent=log_p_recent,
                   recent_total=float(recent_count.sum()), knn=knn, ease=ease, seq=seq, seq_norm=seq_norm,
                   log_p_group=log_p_group, occ_lift=occ_lift, band_lift=band_lift,
                   occ_count=occ_count, log_p_age_occ=log_p_age_occ, content_pop=content_pop, content_group=content_group,
                   log_p_global=log_p_global)


_ATTR_PRIOR = 5.0      # pseudo-completions pulling a value's course mix towards everyone's
AGE_MIN, AGE_STEP, AGE_BINS = 10, 2, 41      # ages 10–90 in 2-year bins
_AGE_BANDWIDTH = 2.0                         # kernel sd in bins (4 years)


def age_bin(age: np.ndarray) -> np.ndarray:
    """2-year age bin 0..AGE_BINS-1, or AGE_BINS for an unknown age."""
    ages = np.asarray(age, dtype=float)
    bins = np.clip(np.floor((ages - AGE_MIN) / AGE_STEP), 0, AGE_BINS - 1)
    return np.where(np.isnan(ages), AGE_BINS, bins).astype(np.int64)


def _age_kernel(n_items, item, occ, abin, n_occ, p_occ, prior):
    """Course mix of members with the same occupation and a similar age.

    Bands cut where nobody's taste changes (34 vs 35); a Gaussian kernel over age lets every year
    borrow from its neighbours instead.  Row AGE_BINS (age unknown) is the occupation's mix."""
    known = abin < AGE_BINS
    counts = np.bincount((occ[known] * AGE_BINS + abin[known]) * n_items + item[known],
                         minlength=n_occ * AGE_BINS * n_items).reshape(n_occ, AGE_BINS, n_items)
    d = np.arange(AGE_BINS)
    kernel = np.exp(-0.5 * ((d[:, None] - d[None, :]) / _AGE_BANDWIDTH) ** 2)
    smoothed = np.einsum("ab,obi->oai", kernel, counts.astype(np.float64))
    p = (smoothed + prior * p_occ[:, None, :]) / (smoothed.sum(axis=2, keepdims=True) + prior)
    out = np.concatenate([p, p_occ[:, None, :]], axis=1)
    return np.log(out).astype(np.float32)


def _lift(counts: np.ndarray, share: np.ndarray, pseudo: float) -> np.ndarray:
    """log((observed + pseudo) / (expected + pseudo)) per row (a group) and course."""
    expected = counts.sum(axis=1, keepdims=True) * share[None, :]
    return np.log((counts + pseudo) / (expected + pseudo)).astype(np.float32)


def _item_item(n_users, n_items, user, item, item_count, ease_l2, ease_max_items, shrink):
    x = sparse.csr_matrix((np.ones(user.size, dtype=np.float32), (user, item)),
                          shape=(n_users, n_items))
    cooc = (x.T @ x).toarray().astype(np.float32)
    norms = np.sqrt(item_count)
    knn = cooc / (np.outer(norms, norms) + shrink)
    np.fill_diagonal(knn, 0.0)
    ease = None
    if n_items <= ease_max_items:
        # EASE (Steck 2019): B = I − P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹, zero diagonal.
        lam = ease_l2 if ease_l2 is not None else max(1.0, 0.5 * float(item_count.mean()))
        gram = cooc.astype(np.float64)
        gram[np.diag_indices(n_items)] += lam
        p = linalg.inv(gram, overwrite_a=True, check_finite=False)
        ease = (p / (-np.diag(p))).astype(np.float32)
        np.fill_diagonal(ease, 0.0)
    return knn.astype(np.float32), ease


def _transitions(n_items, user, item, window, smoothing):
    """What members took next: counts of (course, course taken d steps later) weighted 1/d."""
    counts = np.zeros(n_items * n_items, dtype=np.float64)
    for d in range(1, window + 1):
        if user.size <= d:
            break
        same = user[d:] == user[:-d]
        key = item[:-d][same].astype(np.int64) * n_items + item[d:][same]
        counts += np.bincount(key, minlength=n_items * n_items) / d
    counts = counts.reshape(n_items, n_items)
    total = counts.sum(axis=1)
    counts /= total[:, None] + smoothing
    return counts.astype(np.float32), (total + smoothing).astype(np.float32)
