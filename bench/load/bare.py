"""The reference for the load benchmark: a bare Flask app with one route, served by the same
gunicorn command and settings as the academy (`gunicorn ... 'bare:create_app()'` from this folder)."""
from __future__ import annotations

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def hello() -> str:
        return "你好"

    return app
