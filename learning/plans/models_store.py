"""Versioned model files in instance/models/; the newest one is served without a restart."""
from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, current_app

from recommender import ModelFormatError, Recommender

_lock = threading.Lock()
_cache: dict[str, tuple[str, float, Recommender]] = {}


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
    files = sorted(models_dir().glob("model-*.bin"))
    return files[-1] if files else None


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
