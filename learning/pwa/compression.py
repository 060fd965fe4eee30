"""Compressed HTML, CSS, JS, JSON and SVG (zstd, brotli or gzip, whichever the browser takes).

Flask-Compress (maintained, small, handles Vary, strong ETags and streamed static files) rather
than precompressed files: pages are rendered per member, so they must be compressed per
response anyway, and in production a proxy in front may take over static files. Media types
(video, audio, PDF, images) are left alone: they are already compressed and need Range.
"""
from __future__ import annotations

from flask import Flask
from flask_compress import Compress

MIMETYPES = ["text/html", "text/css", "text/javascript", "application/javascript", "application/json",
             "application/manifest+json", "image/svg+xml", "text/plain"]

compress = Compress()


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", MIMETYPES)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    compress.init_app(app)
