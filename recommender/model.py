"""``Recommender``: the hybrid model behind members' plans (DESIGN §5).

Four parts produce signals for every (member, course) pair, and a learned combiner turns them into
one score:

* **collaborative** — item-to-item weights from completion sets (EASE closed form and item-kNN
  cosine), applied to the member's history with recent courses weighted more;
* **sequential** — what members took next after the member's latest courses (series, follow-ups);
* **demographic** — how much the member's age band × occupation takes each course, smoothed
  towards the occupation, the age band and everyone, so small groups borrow strength; the same
  occupation at a similar age (a kernel over age, no band edges); and lifts for other member
  attributes such as the branch (members of a branch study what the branch assigns);
* **content** — character n-gram TF-IDF over title, summary, tags, category and audience, giving
  similarity to the history, how popular (overall and in the member's group) the courses with
  similar text are, whether the course's audience names the occupation, and the text's
  similarity to the occupation's name.

The combiner is trained inside ``fit`` to pick each sampled member's *next* course out of sampled
negatives, from signals computed without that course.  Some sampled members are trained with their
whole history hidden and some courses with all their completions hidden, so the combiner learns how
to serve a new member (age, occupation, branch only) and a new course (text only) from the same
examples, instead of hand-written rules.  Members with and without a history, and courses with and
without completions, get separate combiners.  Each is a logistic regression or gradient-boosted
trees with monotone constraints, whichever ranks held-out members' courses better (the choice and
both scores are in ``summary_["combiners"]``).  A small academy
trains on several rounds of examples, each hiding only a few shares of its members, so that the
signals the combiner learns from look like the ones it is served with.

A member's dismissed courses (不感兴趣) score ``-inf`` and pull down courses similar to them (by
text or by co-completion); when ``fit`` is given past dismissals, the combiner learns how much.
Scoring folds the profile's current history in at request time: no retraining when a member
finishes a course.  A course published after ``fit`` is unknown until the next ``fit`` (seconds at
the academy's size), so retrain when the catalogue changes.
"""

from __future__ import annotations

import contextlib
import time as _time
from collections.abc import Hashable, Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import ThreadpoolController

from . import persistence
from .content import fit_content
from .data import AGE_BAND_EDGES, Catalogue, Interactions, age_band, build_catalogue, read_interactions
from .features import (PARTS, Examples, FeatureContext, active_features, monotone,
                       dismissal_similarity, pair_features, profile_features)
from .ids import IdMap
from .profile import Profile, Recommendation
from .reasons import Reason
from .signals import Groups, Signals, age_bin, fit_signals


class Recommender(BaseEstimator):
    """Hybrid course recommender.  See the module docstring for how it works.

    Parameters
    ----------
    parts : which parts to use (any of "collaborative", "sequential", "demographic", "content");
        the evaluation's ablation drops one at a time.
    age_bands : upper-exclusive edges of the age bands (default <25, 25–34, 35–44, 45–54, 55+).
    recency_half_life : how many courses back a history course counts half as much.
    sequence_window : how many of the latest courses the sequential part looks at.
    ease_l2 : EASE ridge strength; ``None`` = half the mean completions per course.
    ease_max_items : above this catalogue size EASE is skipped (its inverse is n³).
    knn_shrink : shrinkage added to the cosine denominator (damps rarely co-taken pairs).
    demographic_prior : pseudo-completions pulling a group's course mix towards its back-off.
    min_occupation_count : occupations with fewer members share one "other" bucket.
    max_occupations : at most this many occupation buckets (the most frequent).
    max_history : only the latest this many courses of a history are read.
    n_negatives : sampled non-completed courses per training example.
    max_train_examples : members sampled to train the combiner (per round).
    max_rounds : on a small academy, up to this many rounds of examples (see ``_n_rounds``).
    cold_member_fraction : share of those trained with their whole history hidden.
    new_course_fraction : share of courses whose completions are hidden while training.
    combiner : "gbm" (HistGradientBoostingClassifier), "logistic", or "auto" (the default):
        whichever of the two ranks held-out members' courses better (see ``_choose_combiner``).
    combiner_iter : boosting iterations for "gbm" (scoring time grows with it: ~50 µs per tree
        for 2,000 courses on one core).
    combiner_learning_rate : shrinkage of each boosting iteration.
    dismiss_penalty : score taken off per unit of similarity to a dismissed course, used when
        ``fit`` saw no dismissals to learn that weight from.
    text_columns : course columns the content part reads; ``None`` = every text or list column.
    n_threads : OpenMP threads for the combiner, in fit and in scoring.  1 (the default) keeps
        scoring latency steady when several app workers share the cores; ``None`` = all cores.
    member_attributes : other member columns used like occupation (e.g. the branch, gender):
        "auto" = every non-float, non-date column whose values are shared by five or more members
        on average; ``()`` = none.  Profiles pass their values in ``Profile.attributes``.
    random_state : seed for every sampling step and the combiner.
    """

    def __init__(
        self,
        *,
        parts: tuple[str, ...] = PARTS,
        age_bands: tuple[float, ...] = AGE_BAND_EDGES,
        recency_half_life: float = 5.0,
        sequence_window: int = 3,
        ease_l2: float | None = None,
        ease_max_items: int = 8_000,
        knn_shrink: float = 10.0,
        demographic_prior: float = 20.0,
        min_occupation_count: int = 5,
        max_occupations: int = 200,
        max_history: int = 200,
        n_negatives: int = 20,
        max_train_examples: int = 30_000,
        max_rounds: int = 8,
        cold_member_fraction: float = 0.15,
        new_course_fraction: float = 0.05,
        combiner: str = "auto",
        combiner_iter: int = 60,
        combiner_learning_rate: float = 0.1,
        dismiss_penalty: float = 2.0,
        text_columns: tuple[str, ...] | None = None,
        member_attributes: tuple[str, ...] | str = "auto",
        n_threads: int | None = 1,
        random_state: int | None = None,
    ):
        self.parts = parts
        self.age_bands = age_bands
        self.recency_half_life = recency_half_life
        self.sequence_window = sequence_window
        self.ease_l2 = ease_l2
        self.ease_max_items = ease_max_items
        self.knn_shrink = knn_shrink
        self.demographic_prior = demographic_prior
        self.min_occupation_count = min_occupation_count
        self.max_occupations = max_occupations
        self.max_history = max_history
        self.n_negatives = n_negatives
        self.max_train_examples = max_train_examples
        self.max_rounds = max_rounds
        self.cold_member_fraction = cold_member_fraction
        self.new_course_fraction = new_course_fraction
        self.combiner = combiner
        self.combiner_iter = combiner_iter
        self.combiner_learning_rate = combiner_learning_rate
        self.dismiss_penalty = dismiss_penalty
        self.text_columns = text_columns
        self.member_attributes = member_attributes
        self.n_threads = n_threads
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, interactions: pd.DataFrame, members: pd.DataFrame | None = None,
            courses: pd.DataFrame | None = None, dismissals: pd.DataFrame | None = None) -> Recommender:
        """Learn from completions.

        interactions: DataFrame[member_id, course_id, timestamp] (timestamp: datetime or number)
        members: DataFrame[member_id, age, occupation] (optional columns; may be None)
        courses: DataFrame[course_id, …] with any of title, summary, tags, category, audience, hours
        dismissals: DataFrame[member_id, course_id] of courses members marked 不感兴趣 (optional);
            with it the combiner learns how much similarity to a dismissed course should cost.
        """
        started = _time.perf_counter()
        parts = frozenset(self.parts)
        unknown = parts - set(PARTS)
        if unknown:
            raise ValueError(f"unknown parts {sorted(unknown)}; choose from {PARTS}")
        if self.combiner not in ("auto", "gbm", "logistic"):
            raise ValueError(f"combiner must be 'auto', 'gbm' or 'logistic', got {self.combiner!r}")
        rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31 - 1))

        catalogue = build_catalogue(courses, interactions["course_id"].to_numpy(dtype=object)
                                    if "course_id" in interactions.columns else np.array([], dtype=object),
                                    self.text_columns)
        data = read_interactions(interactions, members, catalogue)
        if data.user.size == 0:
            raise ValueError("interactions is empty: nothing to learn from")
        n_items = len(catalogue)

        occupations, user_occ = self._occupation_buckets(data)
        groups = Groups(n_occ=len(occupations), n_band=len(self.age_bands) + 2)
        user_band = age_band(data.age, tuple(self.age_bands))
        user_age_bin = age_bin(data.age)
        self.attributes_, user_attrs = self._member_attributes(members, data)
        per_user = {"occ": user_occ, "band": user_band, "age_bin": user_age_bin, "attrs": user_attrs}
        content = fit_content(catalogue.texts) if "content" in parts else None
        dis_ptr, dis_items = self._dismissals(dismissals, data, catalogue)
        with_dismissals = dis_items.size > 0

        self.catalogue_ = catalogue
        self.occupations_ = occupations
        self.groups_ = groups
        self.content_ = content
        self.features_ = active_features(parts, with_dismissals, len(self.attributes_))
        occ_rows = IdMap(list(dict.fromkeys(
            [*occupations.ids, *sorted({o for a in catalogue.audience for o in a}, key=str)])))
        self.occ_rows_ = occ_rows
        audience_rows = np.vstack([self._audience_vector(o) for o in occ_rows.ids] + [self._audience_vector(None)])
        occ_text_rows = np.vstack([self._occ_text_vector(o) for o in occ_rows.ids]
                                  + [np.zeros(n_items, dtype=np.float32)])
        self._audience_rows = audience_rows
        self._occ_text_rows = occ_text_rows

        # --- training examples for the combiner -----------------------------------------
        # A small academy has few members, and one example per member would leave the combiner
        # guessing: it gets several rounds of examples (see ``_examples``).
        n_rounds = self._n_rounds(data)
        cold_rank = rng.permutation(data.n_users)
        xs, ys, colds, news, owners, n_examples = [], [], [], [], [], 0
        for round_ in range(n_rounds):
            ex, pairs, labels, signal_rows, ex_user = self._examples(
                data, per_user, groups, occ_rows, dis_ptr, dis_items, rng, round_, cold_rank, n_rounds)
            if not labels.size:
                continue
            train_signals = self._signals(data, signal_rows, per_user, groups, parts, content)
            xs.append(pair_features(self._context(train_signals), ex, pairs[0], pairs[1]))
            ys.append(labels)
            # Members with and without a history are different problems (which signals exist
            # at all), so each gets its own combiner rather than one that must learn the gate.
            colds.append((np.diff(ex.hist_ptr) == 0)[pairs[0]])
            # Likewise a course nobody has taken (its completions hidden) is judged by other
            # signals than a course with a record: it gets its own combiner too, so that the
            # examples about new courses do not blunt what popularity says about the others.
            news.append(train_signals.item_count[pairs[1]] == 0)
            # (example, member) of each pair: validation holds out whole members
            owners.append(np.column_stack([pairs[0] + n_examples, ex_user[pairs[0]],
                                           np.full(pairs[0].size, round_)]))
            n_examples += int(ex.group.size)
        x = np.concatenate(xs) if xs else np.zeros((0, len(self.features_)), dtype=np.float32)
        labels = np.concatenate(ys) if ys else np.zeros(0, dtype=np.int8)
        pair_cold = np.concatenate(colds) if colds else np.zeros(0, dtype=bool)
        pair_new = np.concatenate(news) if news else np.zeros(0, dtype=bool)
        owner = np.concatenate(owners) if owners else np.zeros((0, 3), dtype=np.int64)
        self.combiner_, self.combiner_choice_ = {}, {}
        regimes = (("cold", pair_cold & ~pair_new), ("warm", ~pair_cold & ~pair_new),
                   ("cold_new", pair_cold & pair_new), ("warm_new", ~pair_cold & pair_new))
        for regime, rows in regimes:
            enough = labels[rows].sum() >= (_MIN_NEW_POSITIVES if regime.endswith("_new") else 1)
            if enough and labels[rows].min(initial=1) == 0 and labels[rows].max(initial=0) == 1:
                with _thread_limit(self.n_threads):
                    kind, scores = self._choose_combiner(x[rows], labels[rows], owner[rows], rng)
                    self.combiner_[regime] = self._fit_combiner(kind, x[rows], labels[rows], rng)
                self.combiner_choice_[regime] = {"combiner": kind, "validation_auc": scores}
        if not self.combiner_:
            raise ValueError("too little data to train the combiner: need members with completions")

        # --- serving signals from everything -------------------------------------------
        everything = np.ones(data.user.size, dtype=bool)
        self.signals_ = self._signals(data, everything, per_user, groups, parts, content)
        self.context_ = self._context(self.signals_)
        self.summary_ = {
            "members": int(data.n_users),
            "courses": int(n_items),
            "courses_with_completions": int((self.signals_.item_count > 0).sum()),
            "completions": int(data.user.size),
            "occupations": [str(o) for o in occupations.ids],
            "member_attributes": [name for name, _ in self.attributes_],
            "first_completion": int(data.time.min()),
            "last_completion": int(data.time.max()),
            "dismissals": int(dis_items.size),
            "training_examples": n_examples,
            "training_rounds": n_rounds,
            "training_pairs": int(labels.size),
            "parts": sorted(parts),
            "features": list(self.features_),
            "combiners": self.combiner_choice_,
            "fit_seconds": round(_time.perf_counter() - started, 3),
        }
        return self

    def _occupation_buckets(self, data: Interactions) -> tuple[IdMap, np.ndarray]:
        occ = pd.Series(data.occupation, dtype=object)
        counts = occ.dropna().value_counts()
        frequent = counts[counts >= self.min_occupation_count].index[: self.max_occupations].tolist()
        occupations = IdMap(frequent)
        bucket = occupations.encode(data.occupation)
        return occupations, np.where(bucket >= 0, bucket, len(occupations)).astype(np.int64)

    def _member_attributes(self, members: pd.DataFrame | None, data: Interactions):
        """The extra member columns to use, each with its frequent values, and per-member codes
        (rare or unknown values get code len(values))."""
        if members is None or self.member_attributes in ((), None):
            return [], []
        members = members.drop_duplicates("member_id", keep="last")
        if self.member_attributes == "auto":
            columns = []
            for c in members.columns:
                if c in ("member_id", "age", "occupation"):
                    continue
                dtype = members[c].dtype
                if pd.api.types.is_float_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
                    continue
                try:
                    distinct = members[c].nunique()
                except TypeError:            # unhashable cells (lists): not a category
                    continue
                if 2 <= distinct <= len(members) / 5:
                    columns.append(c)
        else:
            columns = [c for c in self.member_attributes if c in members.columns]
        pos = data.users.encode(members["member_id"].to_numpy(dtype=object))
        found = pos >= 0
        attributes, user_codes = [], []
        for c in columns:
            per_user = np.full(data.n_users, None, dtype=object)
            per_user[pos[found]] = members[c].to_numpy(dtype=object)[found]
            counts = pd.Series(per_user, dtype=object).dropna().value_counts()
            values = IdMap(counts[counts >= self.min_occupation_count].index.tolist())
            codes = values.encode(per_user)
            attributes.append((c, values))
            user_codes.append(np.where(codes >= 0, codes, len(values)).astype(np.int64))
        return attributes, user_codes

    def _dismissals(self, dismissals, data: Interactions, catalogue: Catalogue):
        n_users = data.n_users
        if dismissals is None or len(dismissals) == 0:
            return np.zeros(n_users + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
        if not {"member_id", "course_id"} <= set(dismissals.columns):
            raise ValueError("dismissals needs columns member_id and course_id")
        u = data.users.encode(dismissals["member_id"].to_numpy(dtype=object))
        i = catalogue.ids.encode(dismissals["course_id"].to_numpy(dtype=object))
        ok = (u >= 0) & (i >= 0)
        u, i = u[ok], i[ok]
        order = np.lexsort((i, u))
        u, i = u[order], i[order]
        ptr = np.searchsorted(u, np.arange(n_users + 1)).astype(np.int64)
        return ptr, i.astype(np.int64)

    def _signals(self, data, rows, per_user, groups, parts, content) -> Signals:
        return fit_signals(
            n_items=len(self.catalogue_), user=data.user[rows], item=data.item[rows],
            time=data.time[rows], n_users=data.n_users, user_occ=per_user["occ"],
            user_band=per_user["band"], user_age_bin=per_user["age_bin"],
            user_attrs=[(codes, len(values)) for codes, (_, values) in zip(per_user["attrs"], self.attributes_)],
            groups=groups, parts=parts,
            content_neighbours=content.neighbours if content is not None else None,
            ease_l2=self.ease_l2, ease_max_items=self.ease_max_items, knn_shrink=self.knn_shrink,
            sequence_window=self.sequence_window, sequence_smoothing=5.0,
            demographic_prior=self.demographic_prior, recent_fraction=0.1)

    def _context(self, signals: Signals) -> FeatureContext:
        return FeatureContext(signals=signals, content=self.content_,
                              category=self.catalogue_.category,
                              audience_rows=self._audience_rows, occ_text_rows=self._occ_text_rows,
                              half_life=float(self.recency_half_life),
                              window=int(self.sequence_window), features=self.features_)

    def _n_rounds(self, data: Interactions) -> int:
        """One round of examples when the academy has members enough (``_MIN_EXAMPLES``, or
        ``max_train_examples`` if fewer); on a smaller one several, each with another share of the members in each role (see
        ``_examples``), at most ``max_rounds`` and one per share."""
        with_history = int((np.diff(data.user_ptr) >= 1).sum())
        wanted = min(self.max_train_examples, _MIN_EXAMPLES)
        if with_history >= wanted or self.cold_member_fraction <= 0:
            return 1
        shares = max(1, int(round(1.0 / self.cold_member_fraction)))
        return int(np.clip(-(-wanted // max(with_history, 1)), 1, min(self.max_rounds, shares)))

    def _examples(self, data, per_user, groups, occ_rows, dis_ptr, dis_items, rng, round_, cold_rank, n_rounds):
        """Choose members, hide what each example must predict, and sample negatives.

        Each example hides part of one member's study, and the signals it is computed from are
        computed without that part.  At serving time signals come from everything; so that the
        combiner learns on signals like those, a round hides little: one share of the members
        (``cold_member_fraction``) entirely, to learn cold start, and for the other members
        chosen the latest course (to learn what comes next).

        On a small academy the rounds cycle through the shares (by ``cold_rank``): in round r
        share r is cold, the next share predicts its latest course, the one after its course
        before the latest, and so on for ``_WARM_DEPTHS`` shares; every member thus gives one cold
        and several warm examples over the rounds, while each round's signals lack only a few
        shares' latest courses.

        Returns the examples, (example, course) pairs, labels, the mask of interaction
        rows the round's signals may use, and each example's member."""
        n_items = len(self.catalogue_)
        n_per_user = np.diff(data.user_ptr)
        if n_rounds == 1:
            eligible = np.flatnonzero(n_per_user >= 1)
            chosen = np.sort(rng.choice(eligible, min(self.max_train_examples, eligible.size), replace=False))
            cold = rng.random(chosen.size) < self.cold_member_fraction
            depth = np.zeros(chosen.size, dtype=np.int64)
            keep_ex = cold | (n_per_user[chosen] >= 2)
            chosen, cold, depth = chosen[keep_ex], cold[keep_ex], depth[keep_ex]
        else:
            shares = max(1, int(round(1.0 / self.cold_member_fraction)))
            role = (cold_rank * shares // max(data.n_users, 1) - round_) % shares
            depth_of = role - 1
            is_cold = (role == 0) & (n_per_user >= 1)
            is_warm = (role >= 1) & (depth_of < _WARM_DEPTHS) & (n_per_user >= depth_of + 2)
            chosen = np.flatnonzero(is_cold | is_warm)
            if chosen.size > self.max_train_examples:
                chosen = np.sort(rng.choice(chosen, self.max_train_examples, replace=False))
            cold = is_cold[chosen]
            depth = np.where(cold, 0, depth_of[chosen]).astype(np.int64)

        signal_rows = np.ones(data.user.size, dtype=bool)
        # cold examples: the member's whole history is hidden; each of (up to) `_COLD_TARGETS`
        # of their courses is a separate example, since without a history they are independent
        cold_users = np.zeros(data.n_users, dtype=bool)
        cold_users[chosen[cold]] = True
        signal_rows &= ~cold_users[data.user]
        cold_rows = np.flatnonzero(cold_users[data.user])
        order = np.lexsort((rng.random(cold_rows.size), data.user[cold_rows]))
        cold_rows = cold_rows[order]
        rank = np.arange(cold_rows.size) - np.searchsorted(data.user[cold_rows], data.user[cold_rows])
        cold_rows = cold_rows[rank < _COLD_TARGETS]
        # warm examples predict one course from the ones before it; it and everything after it
        # is hidden from the signals
        warm = chosen[~cold]
        warm_target = data.user_ptr[warm + 1] - 1 - depth[~cold]
        n_after = depth[~cold] + 1
        hidden = np.repeat(warm_target, n_after) + (np.arange(n_after.sum()) - np.repeat(np.cumsum(n_after) - n_after, n_after))
        signal_rows[hidden] = False
        chosen = np.concatenate([warm, data.user[cold_rows].astype(np.int64)])
        target_row = np.concatenate([warm_target, cold_rows])
        cold = np.concatenate([np.zeros(warm.size, dtype=bool), np.ones(cold_rows.size, dtype=bool)])
        start = data.user_ptr[chosen]
        end = target_row + 1                      # the history is everything before the target
        # new courses: every completion of a sample of courses is hidden
        taken = np.flatnonzero(np.bincount(data.item, minlength=n_items) > 0)
        n_new = int(round(self.new_course_fraction * taken.size))
        if n_new:
            new = np.zeros(n_items, dtype=bool)
            new[rng.choice(taken, n_new, replace=False)] = True
            signal_rows &= ~new[data.item]

        hist_len = np.where(cold, 0, np.minimum(end - 1 - start, self.max_history))
        hist_ptr = np.concatenate([[0], np.cumsum(hist_len)]).astype(np.int64)
        src = np.repeat(end - 1 - hist_len, hist_len) + (
            np.arange(hist_ptr[-1]) - np.repeat(hist_ptr[:-1], hist_len))
        hist_items = data.item[src].astype(np.int64)

        occ_row = occ_rows.encode([data.occupation[u] for u in chosen])
        # a member whose occupation is unknown reads the "no information" audience row
        occ_row = np.where(occ_row >= 0, occ_row, len(occ_rows))
        n_dis = dis_ptr[chosen + 1] - dis_ptr[chosen]
        ex_dis_ptr = np.concatenate([[0], np.cumsum(n_dis)]).astype(np.int64)
        dis_src = np.repeat(dis_ptr[chosen], n_dis) + (
            np.arange(ex_dis_ptr[-1]) - np.repeat(ex_dis_ptr[:-1], n_dis))
        ex = Examples(
            hist_ptr=hist_ptr, hist_items=hist_items,
            group=groups.group(per_user["occ"][chosen], per_user["band"][chosen]),
            occ_bucket=per_user["occ"][chosen], band=per_user["band"][chosen],
            age_bin=per_user["age_bin"][chosen],
            attr_codes=(np.column_stack([codes[chosen] for codes in per_user["attrs"]])
                        if per_user["attrs"] else np.zeros((chosen.size, 0), dtype=np.int64)),
            occ_row=occ_row,
            dis_ptr=ex_dis_ptr, dis_items=dis_items[dis_src].astype(np.int64))

        # Negatives: courses drawn uniformly from those someone completed, as the evaluation
        # draws them, so that the combiner learns P(course | member) up to a constant (which ranks
        # the whole catalogue) rather than that divided by popularity.  A catalogue course nobody
        # has taken is, to the model, a new course; training on it as a negative would teach that
        # new courses are never taken, and they could then never reach anyone.  The simulated new
        # courses above carry the evidence about courses without completions instead.
        n_ex, k = chosen.size, self.n_negatives
        ex_of_neg = np.repeat(np.arange(n_ex), k)
        n_taken = taken.size
        neg = rng.integers(0, n_taken, ex_of_neg.size)
        owned = np.sort(data.user.astype(np.int64) * n_items + data.item)
        for _ in range(3):
            clash = _contains(owned, chosen[ex_of_neg] * n_items + taken[neg])
            if not clash.any():
                break
            neg[clash] = rng.integers(0, n_taken, int(clash.sum()))
        ok = ~_contains(owned, chosen[ex_of_neg] * n_items + taken[neg])
        pair_ex = np.concatenate([np.arange(n_ex), ex_of_neg[ok]])
        pair_item = np.concatenate([data.item[target_row].astype(np.int64), taken[neg[ok]]])
        labels = np.concatenate([np.ones(n_ex, dtype=np.int8), np.zeros(ok.sum(), dtype=np.int8)])
        return ex, (pair_ex, pair_item), labels, signal_rows, chosen

    def _choose_combiner(self, x, labels, owner, rng) -> tuple[str, dict[str, float]]:
        """With ``combiner="auto"``: hold out a quarter of the members, fit a logistic regression
        and gradient-boosted trees on the rest, and keep whichever ranks the held-out members'
        courses better (mean AUC of each example's course against its negatives).  A few hundred
        members favour the few weights of the logistic model; tens of thousands let the trees
        find interactions.  The selection sees at most ``_SELECTION_EXAMPLES`` examples."""
        if self.combiner != "auto":
            return self.combiner, {}
        members = np.unique(owner[:, 1])
        if members.size < 8:
            return "logistic", {}
        held = np.zeros(int(owner[:, 1].max()) + 1, dtype=bool)
        held[rng.choice(members, max(1, members.size // 4), replace=False)] = True
        examples = np.unique(owner[:, 0])
        if examples.size > _SELECTION_EXAMPLES:
            keep = np.zeros(int(owner[:, 0].max()) + 1, dtype=bool)
            keep[rng.choice(examples, _SELECTION_EXAMPLES, replace=False)] = True
            sample = keep[owner[:, 0]]
        else:
            sample = np.ones(labels.size, dtype=bool)
        fit_rows = sample & ~held[owner[:, 1]]
        val_rows = sample & held[owner[:, 1]]
        if labels[fit_rows].min(initial=1) != 0 or labels[fit_rows].max(initial=0) != 1 or not val_rows.any():
            return "logistic", {}
        scores = {}
        for kind in ("logistic", "gbm"):
            model = self._fit_combiner(kind, x[fit_rows], labels[fit_rows], rng)
            scores[kind] = round(_mean_auc(_decide(model, x[val_rows]), labels[val_rows],
                                           owner[val_rows, 0]), 5)
        # the simpler model unless the trees are clearly better
        return ("gbm" if scores["gbm"] > scores["logistic"] + 0.002 else "logistic"), scores

    def _fit_combiner(self, kind, x, labels, rng):
        if kind == "logistic":
            model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
            return model.fit(x, labels)
        model = HistGradientBoostingClassifier(
            max_iter=self.combiner_iter, learning_rate=self.combiner_learning_rate, max_leaf_nodes=15,
            # small academies (a demo, a pilot) still get splits; large ones get smooth leaves
            min_samples_leaf=int(np.clip(len(labels) // 200, 5, 50)),
            l2_regularization=1.0, early_stopping=False,
            monotonic_cst=[monotone(f) for f in self.features_],
            random_state=int(rng.integers(2**31 - 1)))
        return model.fit(x, labels)

    # ------------------------------------------------------------------ serving
    def _audience_vector(self, occupation) -> np.ndarray:
        """1 where a course's audience names the occupation, 0 where it names others only,
        0.5 where it is for everyone (or nothing is known)."""
        audience = self.catalogue_.audience
        if occupation is None or not self.catalogue_.has_audience:
            return np.full(len(audience), 0.5, dtype=np.float32)
        name = str(occupation)
        return np.array([0.5 if not a else (1.0 if name in a else 0.0) for a in audience], dtype=np.float32)

    def _occ_text_vector(self, occupation) -> np.ndarray:
        if occupation is None or self.content_ is None:
            return np.zeros(len(self.catalogue_), dtype=np.float32)
        return self.content_.text_similarity(str(occupation))

    def _profile_state(self, profile: Profile):
        if not isinstance(profile, Profile):
            raise TypeError(f"expected a recommender.Profile, got {type(profile).__name__}")
        ids = self.catalogue_.ids
        hist = ids.encode(list(profile.history))
        hist = hist[hist >= 0]
        if hist.size:
            # a course repeated in the history counts once, where it was taken last
            _, last = np.unique(hist[::-1], return_index=True)
            hist = hist[np.sort(hist.size - 1 - last)]
        hist = hist[-self.max_history:] if self.max_history else hist[:0]
        dismissed = ids.encode(list(profile.dismissed))
        dismissed = np.unique(dismissed[dismissed >= 0])
        occ = profile.occupation
        if occ is not None and _is_nan(occ):
            occ = None
        age = profile.age
        age = np.nan if age is None or _is_nan(age) else float(age)
        band = int(age_band(age, tuple(self.age_bands)))
        bucket = int(self.occupations_.encode([occ])[0]) if occ is not None else -1
        if bucket < 0:
            bucket = len(self.occupations_)
        row = int(self.occ_rows_.encode([occ])[0]) if occ is not None else len(self.occ_rows_)
        if occ is not None and row < 0:
            audience, occ_text = self._audience_vector(occ), self._occ_text_vector(occ)
        else:
            audience, occ_text = self._audience_rows[row], self._occ_text_rows[row]
        return {"hist": hist.astype(np.int64), "dismissed": dismissed.astype(np.int64),
                "occupation": occ, "bucket": bucket, "band": band,
                "group": int(self.groups_.group(np.int64(bucket), np.int64(band))),
                "age_bin": int(age_bin(age)),
                "attr_codes": [self._attribute_code(values, profile.attributes.get(name))
                               for name, values in self.attributes_],
                "audience": audience, "occ_text": occ_text}

    @staticmethod
    def _attribute_code(values: IdMap, value) -> int:
        code = int(values.encode([value])[0]) if value is not None else -1
        return code if code >= 0 else len(values)

    def _score_all(self, state) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        feats = profile_features(self.context_, state["hist"], state["group"], state["bucket"],
                                 state["band"], state["age_bin"], state["attr_codes"],
                                 state["audience"], state["occ_text"], state["dismissed"])
        x = np.column_stack([feats[f] for f in self.features_])
        with _thread_limit(self.n_threads):
            scores = _decide(self._combiner(state["hist"].size), x).astype(np.float64)
            new = self.signals_.item_count == 0
            if new.any():
                scores[new] = _decide(self._combiner(state["hist"].size, new=True), x[new])
        if state["dismissed"].size:
            if "dismiss_sim" not in self.features_:
                scores -= self.dismiss_penalty * dismissal_similarity(self.context_, state["dismissed"])
            scores[state["dismissed"]] = -np.inf
        return scores, feats

    def score(self, profile: Profile, course_ids: Iterable[Hashable]) -> np.ndarray:
        """One score per course id (higher is better).  Dismissed courses score ``-inf``; a
        course id unknown to the model scores as a course nobody has taken and nothing
        describes."""
        check_is_fitted(self, "combiner_")
        state = self._profile_state(profile)
        course_ids = list(course_ids)
        idx = self.catalogue_.ids.encode(course_ids)
        scores, _ = self._score_all(state)
        out = np.empty(idx.size, dtype=np.float64)
        known = idx >= 0
        out[known] = scores[idx[known]]
        if not known.all():
            out[~known] = self._unknown_course_score(state)
        return out

    def _unknown_course_score(self, state) -> float:
        s = self.signals_
        n = len(self.catalogue_)
        unseen = float(np.log(1.0 / (float(s.item_count.sum()) + n)))
        values = {
            "pop": unseen,
            "pop_recent": float(np.log(1.0 / (s.recent_total + n))),
            "hist_len": np.log1p(state["hist"].size),
            "group_pop": unseen,
            "age_occ_pop": unseen,
            "content_pop": float(s.log_p_global.mean()),
            "audience": 0.5,
        }
        row = np.array([[values.get(f, 0.0) for f in self.features_]], dtype=np.float32)
        return float(_decide(self._combiner(state["hist"].size, new=True), row)[0])

    def _combiner(self, history_length: int, new: bool = False):
        """The combiner for a member with (warm) or without (cold) a history and a course with or
        without (new) completions; a regime too rare to train on borrows the nearest one."""
        member = "warm" if history_length else "cold"
        other = "cold" if history_length else "warm"
        order = ([f"{member}_new", f"{other}_new"] if new else []) + [member, other]
        return next((self.combiner_[r] for r in order if r in self.combiner_), next(iter(self.combiner_.values())))

    def recommend(self, profile: Profile, k: int = 10,
                  exclude: Iterable[Hashable] | None = None) -> list[Recommendation]:
        """The ``k`` best courses the member has not completed, dismissed or excluded, each with
        a reason the member can read."""
        check_is_fitted(self, "combiner_")
        state = self._profile_state(profile)
        scores, feats = self._score_all(state)
        scores = scores.copy()
        scores[state["hist"]] = -np.inf
        if exclude is not None:
            ex = self.catalogue_.ids.encode(list(exclude))
            scores[ex[ex >= 0]] = -np.inf
        k = max(int(k), 0)
        if k == 0:
            return []
        top = np.argpartition(-scores, min(k, scores.size - 1))[:k] if scores.size > k else np.arange(scores.size)
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[np.isfinite(scores[top])]
        recs = []
        for i in top:
            why = self._reason(int(i), state, feats)
            recs.append(Recommendation(course_id=self.catalogue_.ids.id_of(int(i)),
                                       score=float(scores[i]), reason=why.text("zh"), why=why))
        return recs

    def _reason(self, i: int, state, feats) -> Reason:
        """The most telling signal for course ``i``, in words a member understands."""
        cat = self.catalogue_
        s = self.signals_
        occupation = state["occupation"]
        hist = state["hist"]
        if s.item_count[i] == 0:
            if occupation is not None and state["audience"][i] == 1.0:
                return Reason("new_course_for_occupation", {"occupation": str(occupation)})
            name = cat.category_names[cat.category[i]] if cat.category[i] >= 0 else ""
            return Reason("new_course", {"category": name}) if name else Reason("newest")
        # How many times likelier course i is given each piece of evidence than on average:
        # lifts, not raw scores, so a course popular with everyone is not "because of" anything.
        cf_ratio, because = 0.0, None
        if hist.size:
            lifts = np.zeros(hist.size)
            if s.knn is not None:
                # co-completion lift P(h and i) / (P(h) P(i)), with a few pseudo-members of no
                # lift so that a pair taken together twice is not "because" of anything
                both = s.item_count[hist] * s.item_count[i]
                cooc = s.knn[hist, i] * (np.sqrt(both) + self.knn_shrink)
                expected = both / max(self.summary_["members"], 1)
                lift = (cooc + _REASON_PSEUDO) / (expected + _REASON_PSEUDO) / _COOC_BAR
                lifts = np.maximum(lifts, np.where(cooc >= _REASON_SUPPORT - 1e-3, lift, 0.0))
            if s.seq is not None:
                # members who took h went on to i (a follow-up course, the next part of a series)
                went_on = s.seq[hist, i] * s.seq_norm[hist]
                expected = s.seq_norm[hist] * np.exp(s.log_p_global[i])
                lift = (went_on + _REASON_PSEUDO) / (expected + _REASON_PSEUDO) / _SEQ_BAR
                lifts = np.maximum(lifts, np.where(went_on >= _REASON_SUPPORT - 1e-3, lift, 0.0))
            because = int(np.argmax(lifts))
            cf_ratio = float(lifts[because])      # ≥ 1: evidence enough, in units of its bar
        occ_ratio = band_ratio = 0.0
        if s.occ_lift is not None and occupation is not None and state["bucket"] < len(self.occupations_):
            if s.occ_count[state["bucket"], i] >= 3:
                occ_ratio = float(np.exp(s.occ_lift[state["bucket"], i])) / _OCC_BAR
        if s.band_lift is not None and state["band"] <= len(self.age_bands):
            band_ratio = float(np.exp(s.band_lift[state["band"], i])) / _BAND_BAR
        if because is not None and cf_ratio >= 1.0 and cf_ratio >= occ_ratio:
            return Reason("because_completed", {"title": cat.titles[hist[because]]})
        if occ_ratio >= 1.0:
            return Reason("popular_with_occupation", {"occupation": str(occupation)})
        if band_ratio >= 1.0:
            return Reason("popular_with_age")
        if hist.size and self.content_ is not None:
            sims = self.content_.similarity[hist, i]
            if sims.max() >= 0.3:
                return Reason("similar_to_completed", {"title": cat.titles[hist[int(np.argmax(sims))]]})
        if occupation is not None and state["audience"][i] == 1.0:
            return Reason("suits_occupation", {"occupation": str(occupation)})
        # "many members are studying it" only where that is true: a course in the busier half of
        # the year's study or of recent study; otherwise the plain reason
        if s.log_p_global[i] >= np.median(s.log_p_global) or s.log_p_recent[i] >= np.median(s.log_p_recent):
            return Reason("popular")
        return Reason("recommended")

    # ------------------------------------------------------------------ persistence
    @property
    def course_ids_(self) -> list[Hashable]:
        check_is_fitted(self, "combiner_")
        return self.catalogue_.ids.ids

    def save(self, path, metadata: dict | None = None) -> None:
        """Write the fitted model to ``path`` atomically, with a format version and ``metadata``
        (e.g. metrics) readable without loading the model (``persistence.read_header``)."""
        check_is_fitted(self, "combiner_")
        persistence.save(self, path, metadata)

    @classmethod
    def load(cls, path) -> Recommender:
        """Read a model written by ``save``; raises ``ModelFormatError`` for another format version."""
        model = persistence.load(path)
        if not isinstance(model, cls):
            raise persistence.ModelFormatError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}")
        return model


_COLD_TARGETS = 5
# How many times likelier than average a course must be, given a piece of evidence, for that
# evidence to be its reason: co-completion with a course in the history, members going on to it
# from one, the member's occupation, the member's age band.
_COOC_BAR, _SEQ_BAR, _OCC_BAR, _BAND_BAR = 1.4, 2.0, 1.3, 1.3
_REASON_PSEUDO = 3.0
_REASON_SUPPORT = 3      # members behind a co-completion or a follow-up before it can be a reason
_WARM_DEPTHS = 3
_MIN_NEW_POSITIVES = 20   # examples of a new course taken, to train the new-course combiners
_MIN_EXAMPLES = 6_000
_SELECTION_EXAMPLES = 20_000


def _decide(model, x: np.ndarray) -> np.ndarray:
    """A combiner's scores, judged by their values rather than by the CPU's floating-point flags:
    OpenBLAS's AVX-512 kernels can leave the "invalid" flag set after multiplying plain finite
    numbers (seen with all-zero features), and numpy then warns "invalid value encountered in
    matmul" about a correct result. A score that really is not finite still stops here."""
    with np.errstate(invalid="ignore"):
        scores = model.decision_function(x)
    if not np.isfinite(scores).all():
        raise FloatingPointError("the combiner gave scores that are not finite numbers")
    return scores


def _mean_auc(scores, labels, example) -> float:
    """Mean over examples of the share of its negatives scored below its positive (ties count
    half)."""
    pos = labels == 1
    pos_score = np.full(int(example.max()) + 1, np.nan)
    pos_score[example[pos]] = scores[pos]
    neg = ~pos
    ref = pos_score[example[neg]]
    ok = ~np.isnan(ref)
    win = (scores[neg][ok] < ref[ok]) + 0.5 * (scores[neg][ok] == ref[ok])
    w = np.ones(int(ok.sum()))
    num = np.bincount(example[neg][ok], w * win, minlength=pos_score.size)
    den = np.bincount(example[neg][ok], w, minlength=pos_score.size)
    has = den > 0
    return float((num[has] / den[has]).mean()) if has.any() else 0.5
_CONTROLLER: ThreadpoolController | None = None


def _thread_limit(n_threads: int | None):
    """Limit OpenMP threads (HistGradientBoosting) for a block; a no-op for ``None``."""
    global _CONTROLLER
    if n_threads is None:
        return contextlib.nullcontext()
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()      # library discovery: once per process
    return _CONTROLLER.limit(limits=int(n_threads), user_api="openmp")


def _contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    pos = np.searchsorted(sorted_keys, keys)
    pos = np.minimum(pos, sorted_keys.size - 1)
    return sorted_keys[pos] == keys if sorted_keys.size else np.zeros(keys.size, dtype=bool)


def _is_nan(value) -> bool:
    try:
        return bool(np.isnan(value))
    except (TypeError, ValueError):
        return False
