"""Training: read the database, fit, save a new model version (never blocks requests: the app
keeps serving the previous file until the new one is renamed into place)."""
from __future__ import annotations

import time
from pathlib import Path

from recommender import Recommender
from learning.plans.frames import training_data
from learning.plans.models_store import save_model
from learning.timeutil import local_today


def train(random_state: int = 0) -> tuple[Path, dict]:
    data = training_data(local_today().year)
    started = time.perf_counter()
    model = Recommender(random_state=random_state).fit(data.interactions, members=data.members,
                                                      courses=data.courses)
    metadata = {"trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "fit_seconds": round(time.perf_counter() - started, 2), "data": data.summary()}
    return save_model(model, metadata), metadata
