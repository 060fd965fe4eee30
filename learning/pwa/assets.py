"""Fingerprinted static files: url_for('static', filename='css/app.css') gives
/static/css/app.<hash>.css, served with a one-year immutable cache lifetime, so a phone
downloads a file again only when its content changed.

Hashes are computed once at startup (the static folder is a few files); in debug mode they
are recomputed on every request so edits show up without a restart. The plain name still
works (short cache lifetime) for links made before a deploy.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, current_app, send_from_directory

YEAR = 31_536_000
PLAIN_MAX_AGE = 300


class Fingerprints:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hashed: dict[str, str] = {}  # css/app.css → css/app.1a2b3c4d5e.css
        self.original: dict[str, str] = {}  # the reverse
        self.refresh()

    def refresh(self) -> None:
        hashed: dict[str, str] = {}
        for path in sorted(self.folder.rglob("*")):
            if path.is_file():
                name = path.relative_to(self.folder).as_posix()
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
                stem, dot, ext = name.rpartition(".")
                hashed[name] = f"{stem}.{digest}.{ext}" if dot else f"{name}.{digest}"
        self.hashed = hashed
        self.original = {v: k for k, v in hashed.items()}

    def url_name(self, name: str) -> str:
        return self.hashed.get(name, name)


def fingerprints() -> Fingerprints:
    return current_app.extensions["fingerprints"]


def init_app(app: Flask) -> None:
    prints = Fingerprints(Path(app.static_folder or ""))
    app.extensions["fingerprints"] = prints

    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            if app.debug:
                prints.refresh()
            values["filename"] = prints.url_name(values["filename"])

    def static(filename: str):
        original = prints.original.get(filename)
        response = send_from_directory(app.static_folder or "", original or filename,
                                       max_age=YEAR if original else PLAIN_MAX_AGE)
        if original:
            response.cache_control.public = True
            response.cache_control.immutable = True
        # The files are a few kilobytes: read them whole (the file is closed with the response)
        # so they are compressed in one piece, with a Content-Length.
        response.direct_passthrough = False
        response.make_sequence()
        return response

    app.view_functions["static"] = static
