"""Mapping between external ids (any hashable: database ints, slugs, tuples) and the contiguous
integer positions numpy code works with, so database ids never leak into matrix code."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import numpy as np
import pandas as pd

# Below this many ids a dict lookup beats pandas' vectorised indexer (which has a fixed overhead).
_SMALL = 64


class IdMap:
    """An ordered set of unique ids; ``encode`` gives positions (-1 for unknown ids)."""

    def __init__(self, ids: Iterable[Hashable]):
        values = list(ids)
        index = pd.Index(values, dtype=object)
        if not index.is_unique:
            duplicated = index[index.duplicated()].unique()[:5].tolist()
            raise ValueError(f"ids must be unique; repeated: {duplicated}")
        self._index = index
        self._positions = {value: position for position, value in enumerate(values)}

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, value: object) -> bool:
        try:
            return value in self._positions
        except TypeError:          # unhashable
            return False

    def __getstate__(self):
        return {"ids": self._index.tolist()}

    def __setstate__(self, state):
        self.__init__(state["ids"])

    @property
    def ids(self) -> list[Hashable]:
        return self._index.tolist()

    def id_of(self, position: int) -> Hashable:
        return self._index[position]

    def encode(self, values: Sequence[Hashable] | np.ndarray | pd.Series) -> np.ndarray:
        """Positions of ``values`` as an int64 array, -1 where an id is unknown."""
        if isinstance(values, (np.ndarray, pd.Series, pd.Index)) and len(values) >= _SMALL:
            return self._index.get_indexer(pd.Index(np.asarray(values, dtype=object), dtype=object)).astype(np.int64)
        positions = self._positions
        out = np.empty(len(values), dtype=np.int64)
        for k, value in enumerate(values):
            try:
                out[k] = positions.get(value, -1)
            except TypeError:      # unhashable id: unknown, not an error
                out[k] = -1
        return out

    def decode(self, positions: Sequence[int] | np.ndarray) -> list[Hashable]:
        return self._index[np.asarray(positions, dtype=np.int64)].tolist()
