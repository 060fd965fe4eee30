"""The course catalog: courses and lessons as members see them, and their media."""
from flask import Blueprint

bp = Blueprint("catalog", __name__)

from learning.catalog import views  # noqa: E402,F401
from learning.catalog import admin  # noqa: E402,F401
