"""The service worker (at the root, so it controls every page), the manifest, the offline page."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import Response, render_template, url_for
from flask_babel import gettext as _

from learning.pwa import bp
from learning.pwa.assets import fingerprints
from learning.pwa.queries import offline_package

# The course page shows the size of its optional offline media.
bp.add_app_template_global(offline_package, "offline_package")

SW_SOURCE = Path(__file__).with_name("sw.js")
# What the service worker keeps from its installation on: enough to show any page offline.
SHELL = ("css/app.css", "js/app.js", "js/lesson.js", "img/icon.svg", "img/icon-192.png")


@bp.get("/sw.js")
def service_worker():
    shell = [url_for("pwa.offline")] + [url_for("static", filename=name) for name in SHELL]
    source = SW_SOURCE.read_text(encoding="utf-8")
    # The version changes whenever a static file or the worker itself changes, which makes
    # the browser install the new worker and drop the old shell cache.
    version = hashlib.sha256("\n".join(shell + [source]).encode()).hexdigest()[:12]
    body = f"const VERSION = {json.dumps(version)};\nconst SHELL = {json.dumps(shell)};\n{source}"
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    prints = fingerprints()

    def icon(name: str, size: str, kind: str, purpose: str = "any") -> dict[str, str]:
        return {"src": url_for("static", filename=prints.url_name(name)), "sizes": size, "type": kind,
                "purpose": purpose}

    body = {
        "name": _("红帆学院"),
        "short_name": _("红帆学院"),
        "description": _("新兴领域党员的学习平台：随时学，离线也能学。"),
        "lang": "zh-CN",
        "start_url": url_for("study.home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#faf6f1",
        "theme_color": "#b3261e",
        "icons": [icon("img/icon-192.png", "192x192", "image/png"),
                  icon("img/icon-512.png", "512x512", "image/png"),
                  icon("img/icon-maskable-192.png", "192x192", "image/png", "maskable"),
                  icon("img/icon-maskable-512.png", "512x512", "image/png", "maskable"),
                  icon("img/icon.svg", "any", "image/svg+xml")],
    }
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/offline")
def offline():
    """What the service worker shows for a page it has not kept: the courses kept on this
    phone and the study records waiting to be sent (both filled in by app.js)."""
    return render_template("pwa/offline.html")
