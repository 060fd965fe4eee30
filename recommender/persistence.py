"""Model files: a magic line, a JSON header (format version, library versions, caller's
metadata such as metrics), then the pickled model.

The header can be read without unpickling (``read_header``), so the app can list model files
and their metrics cheaply and refuse a file of another format version with a clear message
instead of a confusing unpickling error.  Like every pickle, load only files you wrote: the app
keeps them in its instance folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np
import sklearn

FORMAT_VERSION = 2  # 2: shares instead of counts in the signals, per-attribute lifts, chosen combiners
_MAGIC = b"HONGFAN-RECOMMENDER\n"


class ModelFormatError(ValueError):
    """The file is not a recommender model this code can read."""


def save(model, path, metadata: dict | None = None) -> None:
    path = Path(path)
    header = {
        "format_version": FORMAT_VERSION,
        "class": type(model).__name__,
        "saved_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "summary": getattr(model, "summary_", None),
        "metadata": metadata or {},
    }
    line = json.dumps(header, ensure_ascii=False, default=str).encode("utf-8") + b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    # write next to the target and rename: a reader never sees half a file
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(_MAGIC)
            f.write(line)
            pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_header(path) -> dict:
    with open(path, "rb") as f:
        return _read_header(f, path)


def _read_header(f, path) -> dict:
    if f.read(len(_MAGIC)) != _MAGIC:
        raise ModelFormatError(f"{path} is not a Hongfan recommender model file")
    try:
        header = json.loads(f.readline().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFormatError(f"{path} has a damaged header: {exc}") from exc
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFormatError(
            f"{path} has model format version {version}; this code reads version {FORMAT_VERSION}. "
            "Retrain the model (hongfan recommender train).")
    return header


def load(path):
    with open(path, "rb") as f:
        _read_header(f, path)
        try:
            # Model files are written only by `hongfan recommender train` into the instance
            # folder, which only the service account can write: as trusted as the code itself.
            return pickle.load(f)  # noqa: S301 -- see above; never point this at an uploaded file
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            raise ModelFormatError(f"{path} could not be read: {exc}") from exc
