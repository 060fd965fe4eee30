"""Learning statistics: dashboards over any subtree, one member's record, exports, the JSON figures."""
from flask import Blueprint

bp = Blueprint("stats", __name__)
