"""The JSON API for phones and integrations, under /api/v1.

Each feature registers its routes on `bp` from its own module (learning/<feature>/api.py)
and describes them in the OpenAPI registry (learning/api/spec.py) next to the route."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
