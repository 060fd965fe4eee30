"""The baselines the evaluation runs next to the model, with the model's own interface
(``fit(interactions, members=…, courses=…)``, ``score(profile, course_ids)``), so the same code
measures all of them.

Where a baseline has nothing to say (item-kNN or EASE for a member with no history, a group nobody
in the training data belongs to) it falls back to global popularity as a tie-breaker rather than
to random order: a baseline should be as strong as its idea allows.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np
import pandas as pd
from scipy import linalg, sparse
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .data import AGE_BAND_EDGES, Catalogue, age_band, build_catalogue, read_interactions
from .profile import Profile


class _Baseline(BaseEstimator):
    def fit(self, interactions: pd.DataFrame, members: pd.DataFrame | None = None,
            courses: pd.DataFrame | None = None):
        catalogue = build_catalogue(courses, interactions["course_id"].to_numpy(dtype=object), ())
        data = read_interactions(interactions, members, catalogue)
        self.catalogue_: Catalogue = catalogue
        self.item_count_ = np.bincount(data.item, minlength=len(catalogue)).astype(np.float64)
        self._fit(data)
        return self

    def _fit(self, data) -> None:
        pass

    def score(self, profile: Profile, course_ids: Iterable[Hashable]) -> np.ndarray:
        check_is_fitted(self, "item_count_")
        hist = self.catalogue_.ids.encode(list(profile.history))
        hist = np.unique(hist[hist >= 0])
        full = self._score(profile, hist)
        # popularity breaks ties (and is all a baseline has for an empty history)
        full = full + self.item_count_ / (self.item_count_.max() + 1.0) * 1e-6 * (np.abs(full).max() + 1.0)
        idx = self.catalogue_.ids.encode(list(course_ids))
        out = np.full(idx.size, -np.inf)
        out[idx >= 0] = full[idx[idx >= 0]]
        dismissed = self.catalogue_.ids.encode(list(profile.dismissed))
        if (dismissed >= 0).any():
            out[np.isin(idx, dismissed[dismissed >= 0])] = -np.inf
        return out

    def _score(self, profile: Profile, hist: np.ndarray) -> np.ndarray:
        return np.zeros(len(self.catalogue_))


class PopularityBaseline(_Baseline):
    """Most-completed courses first, the same for everyone."""

    def _score(self, profile, hist):
        return self.item_count_.copy()


class GroupPopularityBaseline(_Baseline):
    """Most-completed courses within the member's age band × occupation; global popularity for
    members of a group the training data never saw."""

    def __init__(self, age_bands: tuple[float, ...] = AGE_BAND_EDGES):
        self.age_bands = age_bands

    def _fit(self, data):
        occ = pd.Series(data.occupation, dtype=object)
        self.occupations_ = {o: k for k, o in enumerate(occ.dropna().unique().tolist())}
        n_occ, n_band = len(self.occupations_) + 1, len(self.age_bands) + 2
        user_occ = np.array([self.occupations_.get(o, n_occ - 1) if o is not None else n_occ - 1
                             for o in data.occupation], dtype=np.int64)
        user_band = age_band(data.age, tuple(self.age_bands))
        g = (user_occ * n_band + user_band)[data.user]
        n = len(self.catalogue_)
        self.group_count_ = np.bincount(g * n + data.item, minlength=n_occ * n_band * n).reshape(-1, n)
        self._n_band = n_band

    def _score(self, profile, hist):
        o = self.occupations_.get(profile.occupation, len(self.occupations_))
        b = int(age_band(np.nan if profile.age is None else float(profile.age), tuple(self.age_bands)))
        return self.group_count_[o * self._n_band + b].astype(np.float64)


class ItemKNNBaseline(_Baseline):
    """Item-based kNN: sum of cosine similarities (of completion sets) to the history."""

    def __init__(self, neighbours: int | None = None):
        self.neighbours = neighbours

    def _fit(self, data):
        n = len(self.catalogue_)
        x = sparse.csr_matrix((np.ones(data.user.size), (data.user, data.item)), shape=(data.n_users, n))
        cooc = (x.T @ x).toarray()
        norms = np.sqrt(np.diag(cooc))
        sim = cooc / np.maximum(np.outer(norms, norms), 1e-12)
        np.fill_diagonal(sim, 0.0)
        if self.neighbours is not None and self.neighbours < n:
            # keep each item's top neighbours only (classic item-kNN pruning)
            cut = np.partition(sim, n - self.neighbours, axis=1)[:, n - self.neighbours][:, None]
            sim = np.where(sim >= cut, sim, 0.0)
        self.similarity_ = sim.astype(np.float32)

    def _score(self, profile, hist):
        return self.similarity_[hist].sum(axis=0).astype(np.float64) if hist.size else np.zeros(len(self.catalogue_))


class EASEBaseline(_Baseline):
    """EASE (Steck 2019): B = −P / diag(P), P = (XᵀX + λI)⁻¹, zero diagonal; score = x·B."""

    def __init__(self, l2: float = 200.0):
        self.l2 = l2

    def _fit(self, data):
        n = len(self.catalogue_)
        x = sparse.csr_matrix((np.ones(data.user.size), (data.user, data.item)), shape=(data.n_users, n))
        gram = (x.T @ x).toarray()
        gram[np.diag_indices(n)] += self.l2
        p = linalg.inv(gram)
        b = p / (-np.diag(p))
        np.fill_diagonal(b, 0.0)
        self.weights_ = b.astype(np.float32)

    def _score(self, profile, hist):
        return self.weights_[hist].sum(axis=0).astype(np.float64) if hist.size else np.zeros(len(self.catalogue_))


def default_baselines() -> dict[str, _Baseline]:
    return {
        "popularity": PopularityBaseline(),
        "group popularity": GroupPopularityBaseline(),
        "item-kNN": ItemKNNBaseline(),
        "EASE": EASEBaseline(),
    }
