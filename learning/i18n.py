"""Chinese by default, English on request (?lang=en, remembered in the session) or from the
browser's language. Message ids are the Chinese texts; translations/en holds English."""
from __future__ import annotations

from flask import Flask, request, session
from flask_babel import get_locale

from learning.extensions import babel
from learning.resources import PACKAGE_DIR

SUPPORTED = {"zh": "zh_Hans_CN", "en": "en"}


def select_locale() -> str:
    asked = request.args.get("lang")
    if asked in SUPPORTED:
        session["lang"] = asked
        return SUPPORTED[asked]
    if session.get("lang") in SUPPORTED:
        return SUPPORTED[session["lang"]]
    best = request.accept_languages.best_match(["zh", "en"])
    return SUPPORTED.get(best or "zh", SUPPORTED["zh"])


def is_english() -> bool:
    return str(get_locale()).startswith("en")


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(PACKAGE_DIR / "translations"),
    )

    @app.context_processor
    def _lang():
        return {"lang_code": "en" if is_english() else "zh-CN"}
