"""The audit trail: who did what, when (UTC)."""
from flask import Blueprint

bp = Blueprint("audit", __name__)
