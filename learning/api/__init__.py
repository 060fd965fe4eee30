"""The JSON API for phones and integrations, under /api/v1.

Each feature registers its routes on `bp` from its own module (learning/<feature>/api.py)
and describes them in the OpenAPI registry (learning/api/spec.py) next to the route.
`account` holds the member's own page for their API tokens (我的 → 访问令牌)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
account = Blueprint("tokens", __name__)
