"""The plain values that cross the boundary between the app and the recommender."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from .reasons import Reason


@dataclass(frozen=True)
class Profile:
    """A member as the recommender sees them at scoring time.

    ``history`` is the courses completed, oldest first (ids as in ``fit``; unknown ids are
    ignored).  ``dismissed`` are courses the member marked 不感兴趣: they never come back and
    similar courses are pushed down.  ``age`` and ``occupation`` may be ``None``.
    ``attributes`` holds other member facts the model was fitted with (e.g. ``{"branch_id": 17}``);
    unknown keys and values are ignored.
    """

    age: float | None = None
    occupation: Hashable | None = None
    history: Sequence[Hashable] = ()
    dismissed: Sequence[Hashable] = ()
    attributes: Mapping[str, Hashable] = field(default_factory=dict)

    def __post_init__(self):
        # Freeze the sequences so a Profile can be shared (and cached) safely.
        # (any iterable: a list, a numpy array, a pandas Series)
        object.__setattr__(self, "history", tuple(self.history) if self.history is not None else ())
        object.__setattr__(self, "dismissed", tuple(self.dismissed) if self.dismissed is not None else ())
        object.__setattr__(self, "attributes", dict(self.attributes) if self.attributes is not None else {})


@dataclass(frozen=True)
class Recommendation:
    """One recommended course: ``reason`` is the Chinese text a member reads; ``why`` carries the
    same reason as a code and parameters so the app can show it in another language."""

    course_id: Hashable
    score: float
    reason: str
    why: Reason = field(compare=False)
