"""Turn the caller's DataFrames into integer arrays once, so that the model and the baselines share
one careful reading of the input (timestamps of any kind, ids of any hashable type, missing ages,
optional course catalogue, duplicated completions)."""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .ids import IdMap

AGE_BAND_EDGES: tuple[float, ...] = (25.0, 35.0, 45.0, 55.0)
_LIST_SEPARATORS = re.compile(r"[,，;；|、/]+")


@dataclass
class Catalogue:
    """What is known about each course, aligned with ``IdMap`` positions."""

    ids: IdMap
    titles: list[str]
    texts: list[str]                  # the text the content model reads
    category: np.ndarray              # int per course, -1 when unknown
    category_names: list[str]
    hours: np.ndarray                 # float, NaN when unknown
    audience: list[frozenset]         # occupations a course targets; empty = everyone
    has_audience: bool                # whether the catalogue says anything about audiences

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Interactions:
    """Completions as positions, sorted by member then time, one row per member and course
    (the latest completion, so that sequences end with what the member did last)."""

    users: IdMap
    user: np.ndarray        # int32 per row
    item: np.ndarray        # int32 per row
    time: np.ndarray        # int64 seconds (or the caller's integer clock) per row
    user_ptr: np.ndarray    # CSR pointer: rows of user u are user_ptr[u]:user_ptr[u+1]
    age: np.ndarray         # float per user, NaN unknown
    occupation: list        # per user, None unknown

    @property
    def n_users(self) -> int:
        return len(self.users)


def require_columns(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {missing}; it has {list(frame.columns)}")


def to_seconds(values: pd.Series) -> np.ndarray:
    """Timestamps as int64 seconds: datetimes (naive or tz-aware), strings, or plain numbers
    (seconds or any monotone clock, kept as they are)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        out = values.to_numpy(dtype="datetime64[s]").astype(np.int64)
        missing = values.isna().to_numpy()
    elif pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float)
        missing = np.isnan(numbers)
        out = np.where(missing, 0, numbers).astype(np.int64)
    else:
        parsed = pd.to_datetime(values, utc=True, errors="coerce").dt.tz_localize(None)
        missing = parsed.isna().to_numpy()
        out = parsed.to_numpy(dtype="datetime64[s]").astype(np.int64)
    if missing.any():
        # An undated completion still happened; order it before everything dated.
        out = np.where(missing, out[~missing].min() - 1 if (~missing).any() else 0, out)
    return out


def age_band(age: float | np.ndarray, edges: tuple[float, ...] = AGE_BAND_EDGES) -> np.ndarray:
    """Band index per age: 0..len(edges); len(edges)+1 means unknown (None/NaN)."""
    ages = np.asarray(age, dtype=float)
    bands = np.searchsorted(np.asarray(edges, dtype=float), ages, side="right")
    return np.where(np.isnan(ages), len(edges) + 1, bands)


def _as_items(value) -> list[str]:
    """A list-like cell (list, tuple, set, numpy array, or a separated string) as strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in _LIST_SEPARATORS.split(value) if part.strip()]
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    if isinstance(value, float) and np.isnan(value):
        return []
    return [str(value)]


def _as_text(value) -> str:
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return " ".join(str(v) for v in value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _plain(value: Hashable) -> Hashable:
    """numpy scalars as Python scalars, so ids compare and print the way the caller wrote them."""
    return value.item() if isinstance(value, np.generic) else value


def build_catalogue(courses: pd.DataFrame | None, interaction_items: np.ndarray,
                    text_columns: tuple[str, ...] | None = None) -> Catalogue:
    """Catalogue of every course in ``courses`` followed by courses only seen in interactions."""
    if courses is not None:
        require_columns(courses, ["course_id"], "courses")
        courses = courses.drop_duplicates("course_id", keep="last")
        listed = [_plain(v) for v in courses["course_id"].tolist()]
    else:
        listed = []
    known = pd.Index(listed, dtype=object)
    extra_mask = known.get_indexer(pd.Index(interaction_items, dtype=object)) < 0
    extra = [_plain(v) for v in pd.unique(np.asarray(interaction_items, dtype=object)[extra_mask])]
    ids = IdMap(listed + extra)
    n, n_listed = len(ids), len(listed)

    titles = [str(i) for i in ids.ids]
    texts = [""] * n
    category = np.full(n, -1, dtype=np.int64)
    category_names: list[str] = []
    hours = np.full(n, np.nan)
    audience = [frozenset()] * n
    has_audience = False
    if courses is not None and n_listed:
        if "title" in courses.columns:
            titles[:n_listed] = [_as_text(t) or str(i) for t, i in zip(courses["title"], listed)]
        if "category" in courses.columns:
            codes, uniques = pd.factorize(courses["category"].map(_as_text).replace("", None))
            category[:n_listed] = codes
            category_names = [str(u) for u in uniques]
        if "hours" in courses.columns:
            hours[:n_listed] = pd.to_numeric(courses["hours"], errors="coerce").to_numpy(dtype=float)
        if "audience" in courses.columns:
            has_audience = True
            audience[:n_listed] = [frozenset(_as_items(a)) for a in courses["audience"]]
        columns = text_columns if text_columns is not None else tuple(
            c for c in courses.columns
            if c != "course_id" and not pd.api.types.is_numeric_dtype(courses[c].dtype)
            and not pd.api.types.is_datetime64_any_dtype(courses[c].dtype)
            and c not in ("prerequisites", "series", "status", "slug", "cover", "version"))
        parts = [courses[c].map(_as_text).tolist() for c in columns if c in courses.columns]
        texts[:n_listed] = [" ".join(p for p in row if p) for row in zip(*parts)] if parts else [""] * n_listed
    return Catalogue(ids=ids, titles=titles, texts=texts, category=category,
                     category_names=category_names, hours=hours, audience=audience,
                     has_audience=has_audience)


def read_interactions(interactions: pd.DataFrame, members: pd.DataFrame | None,
                      catalogue: Catalogue) -> Interactions:
    require_columns(interactions, ["member_id", "course_id", "timestamp"], "interactions")
    user_codes, user_ids = pd.factorize(interactions["member_id"].to_numpy(dtype=object))
    users = IdMap(_plain(u) for u in user_ids)
    item = catalogue.ids.encode(interactions["course_id"].to_numpy(dtype=object))
    time = to_seconds(interactions["timestamp"])
    user = user_codes.astype(np.int64)

    # sort by member, then time (stable, so equal times keep the caller's order)
    order = np.lexsort((np.arange(user.size), time, user))
    user, item, time = user[order], item[order], time[order]
    # one row per (member, course): the latest, so a repeated course counts where it was repeated
    key = user * len(catalogue) + item
    last_of_key = np.ones(user.size, dtype=bool)
    if user.size:
        rev_key = key[::-1]
        _, first_in_rev = np.unique(rev_key, return_index=True)
        last_of_key[:] = False
        last_of_key[user.size - 1 - first_in_rev] = True
    user, item, time = user[last_of_key], item[last_of_key], time[last_of_key]
    user_ptr = np.searchsorted(user, np.arange(len(users) + 1)).astype(np.int64)

    age = np.full(len(users), np.nan)
    occupation: list = [None] * len(users)
    if members is not None:
        require_columns(members, ["member_id"], "members")
        members = members.drop_duplicates("member_id", keep="last")
        pos = users.encode(members["member_id"].to_numpy(dtype=object))
        found = pos >= 0
        if "age" in members.columns:
            ages = pd.to_numeric(members["age"], errors="coerce").to_numpy(dtype=float)
            age[pos[found]] = ages[found]
        if "occupation" in members.columns:
            occ = members["occupation"].to_numpy(dtype=object)
            for p, o in zip(pos[found], occ[found]):
                occupation[p] = None if _is_missing(o) else _plain(o)
    return Interactions(users=users, user=user.astype(np.int32), item=item.astype(np.int32),
                        time=time, user_ptr=user_ptr, age=age, occupation=occupation)


def _is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
