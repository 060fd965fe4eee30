"""The content part: what a course's own text says about it.

Character n-grams (``analyzer="char_wb"``) read Chinese without a word segmenter and survive the
mixed Chinese/English/number titles of real catalogues.  Item-to-item text similarity lets a course
nobody has taken yet stand next to courses people did take.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer


@dataclass
class ContentModel:
    vectorizer: TfidfVectorizer
    vectors: sparse.csr_matrix      # one L2-normalised row per course
    similarity: np.ndarray          # float32 n × n cosine, zero diagonal
    neighbours: sparse.csr_matrix   # each course's most similar courses, weights summing to one

    def text_similarity(self, text: str) -> np.ndarray:
        """Cosine similarity of every course to an arbitrary text (e.g. an occupation name)."""
        if not text:
            return np.zeros(self.vectors.shape[0], dtype=np.float32)
        query = self.vectorizer.transform([text])
        return np.asarray((self.vectors @ query.T).todense(), dtype=np.float32).ravel()


def fit_content(texts: list[str], ngram_range: tuple[int, int] = (1, 3),
                max_features: int = 100_000, n_neighbours: int = 20) -> ContentModel | None:
    """TF-IDF over course texts; ``None`` when no course has any text to read."""
    if not any(t.strip() for t in texts):
        return None
    # n-grams in more than half the catalogue are boilerplate ("本课程…"), not content; with
    # very few courses that cut would remove everything, so it applies from 10 courses on.
    max_df = 0.5 if len(texts) >= 10 else 1.0
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, min_df=1, max_df=max_df,
                                 sublinear_tf=True, max_features=max_features, dtype=np.float32)
    try:
        vectors = vectorizer.fit_transform(texts).tocsr()
    except ValueError:       # every n-gram was boilerplate: no usable vocabulary
        return None
    # the pruned n-grams are kept only for introspection and can dwarf the model file
    vectorizer.stop_words_ = None
    similarity = np.asarray((vectors @ vectors.T).todense(), dtype=np.float32)
    np.fill_diagonal(similarity, 0.0)
    return ContentModel(vectorizer=vectorizer, vectors=vectors, similarity=similarity,
                        neighbours=_top_neighbours(similarity, n_neighbours))


def _top_neighbours(similarity: np.ndarray, k: int) -> sparse.csr_matrix:
    n = similarity.shape[0]
    k = min(k, n - 1)
    if k <= 0:
        return sparse.csr_matrix((n, n), dtype=np.float32)
    idx = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    w = np.take_along_axis(similarity, idx, axis=1).clip(min=0.0)
    total = w.sum(axis=1, keepdims=True)
    w = np.where(total > 0, w / np.where(total > 0, total, 1.0), 0.0)
    rows = np.repeat(np.arange(n), k)
    return sparse.csr_matrix((w.ravel().astype(np.float32), (rows, idx.ravel())), shape=(n, n))
