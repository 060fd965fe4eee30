"""Versioned model files in instance/models/; the newest one is served without a restart."""
from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, current_app

from recommender import ModelFormatError, Recommender

_lock = threading.Lock()
_cache: dict[str, tuple[str, float, Recommender]] = {}
_listings: dict[str, tuple[float, Path | None]] = {}  # models folder → (its mtime, newest model)


def models_dir(app: Flask | None = None) -> Path:
    folder = Path((app or current_app).instance_path) / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_model(model: Recommender, metadata: dict) -> Path:
    """Write model-<UTC time>.bin (and its .json summary) under a temporary name first, then
    rename: a reader never sees half a file."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = models_dir()
    path = folder / f"model-{stamp}.bin"
    partial = folder / f".model-{stamp}.partial"
    model.save(partial, metadata=metadata)
    partial.replace(path)
    path.with_suffix(".json").write_text(json.dumps({"model": path.name, **metadata}, ensure_ascii=False,
                                                    indent=2, default=str), encoding="utf-8")
    return path


def newest_model_path() -> Path | None:
    """Asked on every plan and every kept page: the folder is listed again only when its
    modification time moved (a model was added, renamed into place or removed), or is so recent
    that a second change could still share it."""
    folder = Path(current_app.instance_path) / "models"
    try:
        changed = folder.stat().st_mtime
    except FileNotFoundError:
        return None
    seen = _listings.get(str(folder))
    if seen is not None and seen[0] == changed and time.time() - changed > 2:
        return seen[1]
    files = sorted(folder.glob("model-*.bin"))
    newest = files[-1] if files else None
    _listings[str(folder)] = (changed, newest)
    return newest


def current_model() -> tuple[str, Recommender] | None:
    """The newest trained model (loaded once per file), or None before the first training."""
    path = newest_model_path()
    if path is None:
        return None
    key = current_app.instance_path
    mtime = path.stat().st_mtime
    cached = _cache.get(key)
    if cached and cached[0] == path.name and cached[1] == mtime:
        return path.name, cached[2]
    with _lock:
        cached = _cache.get(key)
        if cached and cached[0] == path.name and cached[1] == mtime:  # another thread loaded it
            return path.name, cached[2]
        try:
            model = Recommender.load(path)
        except ModelFormatError as error:
            # a damaged or foreign file must not take the home page down: keep serving the
            # model already loaded (or the transparent rules) and say so in the log
            current_app.logger.error("recommender model %s not loaded: %s", path.name, error)
            return (cached[0], cached[2]) if cached else None
        _cache[key] = (path.name, mtime, model)
    return path.name, model
