"""The installable web app: fingerprinted static files, response compression, the service
worker at the root scope, the manifest, the offline page and the offline-course package API."""
from flask import Blueprint

bp = Blueprint("pwa", __name__)


@bp.record_once
def _setup(state) -> None:
    # Registering the blueprint is the one line app.py needs; the app-wide parts hang off it.
    from learning.pwa import assets, compression

    assets.init_app(state.app)
    compression.init_app(state.app)
